/**
 * What the API may change of the site file's actions: whether each is enabled and the schedule it is bound
 * to. The definitions (what an action does, its address and credentials) stay in the site file. A change is
 * stored in the `settings` table and applied at once to the action's config object — the one object the gate,
 * the outbox composer and the dry run all read —, and again at every start.
 *
 * An action is known by its `id`, else by its position and type (`3:output-blink`; ids cannot hold a colon), so a stored change is
 * dropped (with a warning) rather than applied to another action when the site file is rearranged.
 */
import type { Store } from "../store/db.js";
import { readSettings, writeSetting } from "../store/settings.js";
import type { Logger } from "../util/log.js";
import type { ActionConfig } from "./registry.js";

export interface ActionBinding {
  enabled: boolean;
  /** A schedule's name, or null for always. */
  schedule: string | null;
}

export interface ActionView extends ActionBinding {
  ref: string;
  index: number;
  id: string | null;
  type: string;
  on: ActionConfig["on"];
  lanes: string[] | null;
}

const KEY_PREFIX = "action.binding.";

export function actionRef(action: ActionConfig, index: number): string {
  return action.id ?? `${index}:${action.do.type}`;
}

export class ActionBindings {
  constructor(
    private readonly store: Store,
    private readonly actions: readonly ActionConfig[],
    private readonly log: Logger,
  ) {}

  /** Apply the stored changes (at start, before the first decision). Returns how many applied. */
  load(): number {
    let applied = 0;
    for (const row of readSettings<ActionBinding>(this.store, KEY_PREFIX)) {
      const ref = row.key.slice(KEY_PREFIX.length);
      const action = this.find(ref);
      if (!action) {
        this.log.warn({ ref }, "a stored action change names no action of the site file; ignored");
        continue;
      }
      this.apply(action, row.value);
      applied++;
    }
    return applied;
  }

  views(): ActionView[] {
    return this.actions.map((a, index) => ({
      ref: actionRef(a, index),
      index,
      id: a.id ?? null,
      type: a.do.type,
      on: a.on,
      lanes: a.lanes ?? null,
      enabled: a.enabled,
      schedule: a.schedule ?? null,
    }));
  }

  view(ref: string): ActionView | undefined {
    return this.views().find((v) => v.ref === ref);
  }

  /** Store and apply a change (the caller checks the schedule exists). Returns the binding before. */
  update(ref: string, binding: ActionBinding): ActionBinding | undefined {
    const action = this.find(ref);
    if (!action) return undefined;
    const before: ActionBinding = { enabled: action.enabled, schedule: action.schedule ?? null };
    writeSetting(this.store, KEY_PREFIX + ref, binding);
    this.apply(action, binding);
    return before;
  }

  private find(ref: string): ActionConfig | undefined {
    return this.actions.find((a, i) => actionRef(a, i) === ref);
  }

  private apply(action: ActionConfig, binding: ActionBinding): void {
    action.enabled = binding.enabled;
    if (binding.schedule === null) delete action.schedule;
    else action.schedule = binding.schedule;
  }
}
