import { Type } from "typebox";
import type { ActionRunner } from "./types.js";

export const schema = Type.Object(
  {
    type: Type.Literal("output-pulse"),
    output: Type.String(),
    ms: Type.Integer({ minimum: 1, maximum: 3_600_000 }),
  },
  { additionalProperties: false, description: "make an output's contact for ms milliseconds" },
);

export function create(config: { output: string; ms: number }): ActionRunner {
  return (ctx) => ctx.output(config.output).pulse(config.ms);
}
