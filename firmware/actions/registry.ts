/**
 * Every action type, registered in one place. Adding one = a module exporting `schema` and `create`,
 * plus one line here.
 */
import { type Static, Type } from "typebox";
import type { Decision } from "../domain/decide.js";
import * as barrierOpen from "./barrier-open.js";
import * as outputLatch from "./output-latch.js";
import * as outputPulse from "./output-pulse.js";
import type { ActionRunner } from "./types.js";

const ACTION_TYPES = {
  "barrier-open": barrierOpen,
  "output-pulse": outputPulse,
  "output-latch": outputLatch,
} as const;

export const ACTION_SCHEMA = Type.Object(
  {
    on: Type.Object(
      {
        result: Type.Optional(Type.Union([Type.Literal("allow"), Type.Literal("deny")])),
        list: Type.Optional(
          Type.String({ description: "a list's name, or the built-ins 'any-plate' and 'not-in-list'" }),
        ),
      },
      { additionalProperties: false },
    ),
    lanes: Type.Optional(Type.Array(Type.String(), { description: "only on these lanes; default all" })),
    enabled: Type.Boolean({ default: true }),
    do: Type.Union([barrierOpen.schema, outputPulse.schema, outputLatch.schema]),
  },
  { additionalProperties: false },
);

export type ActionConfig = Static<typeof ACTION_SCHEMA>;

export interface BoundAction {
  config: ActionConfig;
  run: ActionRunner;
}

export function createAction(config: ActionConfig): BoundAction {
  const type = ACTION_TYPES[config.do.type];
  if (!type)
    throw new Error(
      `unknown action type '${config.do.type}'; valid: ${Object.keys(ACTION_TYPES).join(", ")}`,
    );
  // Each module's create() takes its own config shape; the union above guarantees the match.
  const run = (type.create as (c: ActionConfig["do"]) => ActionRunner)(config.do);
  return { config, run };
}

/** Does this action fire for this decision on this lane? */
export function actionApplies(action: ActionConfig, decision: Decision, laneId: string): boolean {
  if (!action.enabled) return false;
  if (action.lanes && !action.lanes.includes(laneId)) return false;
  if (action.on.result && action.on.result !== decision.result) return false;
  const list = action.on.list;
  if (list === undefined) return true;
  if (list === "any-plate" || list === "not-in-list") return decision.builtIns.includes(list);
  return decision.matches.some((m) => m.list.name === list);
}
