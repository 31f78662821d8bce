import { Type } from "typebox";
import type { ActionRunner } from "./types.js";

export const schema = Type.Object(
  {
    type: Type.Literal("barrier-open"),
    pulseMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000 })),
  },
  {
    additionalProperties: false,
    description:
      "open the lane's barrier for the decided vehicle (relay pulse of the lane's openPulseMs, and/or its serial open); while open or closing this keeps it open for the vehicle",
  },
);

export function create(config: { pulseMs?: number | undefined }): ActionRunner {
  return ({ lane }) => {
    lane.barrier.open(config.pulseMs);
  };
}
