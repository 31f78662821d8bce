import { Type } from "typebox";
import type { ActionRunner } from "./types.js";

export const schema = Type.Object(
  { type: Type.Literal("output-latch"), output: Type.String(), active: Type.Boolean() },
  { additionalProperties: false, description: "set an output on or off until changed" },
);

export function create(config: { output: string; active: boolean }): ActionRunner {
  return (ctx) => {
    const out = ctx.output(config.output);
    if (config.active) out.activate();
    else out.deactivate();
  };
}
