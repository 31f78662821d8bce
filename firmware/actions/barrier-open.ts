import { Type } from "typebox";
import type { ActionRunner } from "./types.js";

export const schema = Type.Object(
  {
    type: Type.Literal("barrier-open"),
    pulseMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000 })),
  },
  {
    additionalProperties: false,
    description: "pulse the lane's barrier output (width: the lane's openPulseMs)",
  },
);

export function create(config: { pulseMs?: number | undefined }): ActionRunner {
  return ({ lane }) => lane.open(config.pulseMs);
}
