import { Type } from "typebox";
import type { ActionRunner } from "./types.js";

export const schema = Type.Object(
  {
    type: Type.Literal("output-blink"),
    output: Type.String(),
    onMs: Type.Integer({ minimum: 1, maximum: 60_000, default: 500 }),
    offMs: Type.Integer({ minimum: 1, maximum: 60_000, default: 500 }),
    count: Type.Integer({ minimum: 1, maximum: 10_000, default: 5 }),
  },
  {
    additionalProperties: false,
    description:
      "blink an output (lamp, siren): count pulses of onMs, offMs apart; any other command on it ends the blink",
  },
);

export function create(config: { output: string; onMs: number; offMs: number; count: number }): ActionRunner {
  return (ctx) => ctx.output(config.output).blink(config.onMs, config.offMs, config.count);
}
