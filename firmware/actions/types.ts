/** What an action sees when it runs: the decision, the lane it was made on, and the hardware. */
import type { DigitalOutput } from "../../hal/types.js";
import type { Decision } from "../domain/decide.js";
import type { Lane } from "../lanes.js";

export interface ActionContext {
  decision: Decision;
  lane: Lane;
  output(name: string): DigitalOutput;
}

/** Hardware actions run synchronously on the decision path; they must not wait on disk or network. */
export type ActionRunner = (ctx: ActionContext) => void;
