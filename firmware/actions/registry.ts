/**
 * Every action type, registered in one place. Adding one = a module exporting `schema` and `create`
 * (a hardware action, run at decision time) or `kind = "network"` and `network` (a network action, whose
 * messages go through the outbox), plus one line here.
 */
import { type Static, Type } from "typebox";
import type { Decision } from "../domain/decide.js";
import { type ScheduleBook, scheduleActive } from "../domain/schedule-book.js";
import type { DeliverySettings, Target } from "../outbox/types.js";
import type { Logger } from "../util/log.js";
import * as barrierOpen from "./barrier-open.js";
import * as email from "./email.js";
import * as ftpUpload from "./ftp-upload.js";
import * as httpWebhook from "./http-webhook.js";
import * as milestoneEvent from "./milestone-event.js";
import * as mqttPublish from "./mqtt-publish.js";
import * as nvrText from "./nvr-text.js";
import * as outputBlink from "./output-blink.js";
import * as outputLatch from "./output-latch.js";
import * as outputPulse from "./output-pulse.js";
import * as socketClient from "./socket-client.js";
import type { ActionRunner, NetworkAction, NetworkSite } from "./types.js";
import * as vmsBookmark from "./vms-bookmark.js";
import * as vmsGenericEvent from "./vms-generic-event.js";
import * as wiegand from "./wiegand.js";

const ACTION_TYPES = {
  "barrier-open": barrierOpen,
  "output-pulse": outputPulse,
  "output-blink": outputBlink,
  "output-latch": outputLatch,
  "http-webhook": httpWebhook,
  "nvr-text": nvrText,
  "vms-generic-event": vmsGenericEvent,
  "vms-bookmark": vmsBookmark,
  "milestone-event": milestoneEvent,
  "socket-client": socketClient,
  "mqtt-publish": mqttPublish,
  email: email,
  "ftp-upload": ftpUpload,
  wiegand: wiegand,
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
    id: Type.Optional(
      Type.String({
        pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description:
          "required on network actions: their outbox target id, kept across edits so queued messages follow it",
      }),
    ),
    enabled: Type.Boolean({ default: true }),
    schedule: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description:
          "a schedule's name: the action runs only while it is active (site file schedules or /api/v1/schedules)",
      }),
    ),
    do: Type.Union([
      barrierOpen.schema,
      outputPulse.schema,
      outputBlink.schema,
      outputLatch.schema,
      httpWebhook.schema,
      nvrText.schema,
      vmsGenericEvent.schema,
      vmsBookmark.schema,
      milestoneEvent.schema,
      socketClient.schema,
      mqttPublish.schema,
      email.schema,
      ftpUpload.schema,
      wiegand.schema,
    ]),
  },
  { additionalProperties: false },
);

export type ActionConfig = Static<typeof ACTION_SCHEMA>;

export interface BoundAction {
  config: ActionConfig;
  run: ActionRunner;
}

/** A network action, bound: its outbox target and what it makes of a decision. */
export interface BoundNetworkAction {
  config: ActionConfig;
  target: Target;
  compose: NetworkAction["compose"];
}

function typeOf(config: ActionConfig) {
  const type = ACTION_TYPES[config.do.type];
  if (!type)
    throw new Error(
      `unknown action type '${config.do.type}'; valid: ${Object.keys(ACTION_TYPES).join(", ")}`,
    );
  return type;
}

export function isNetworkAction(config: ActionConfig): boolean {
  const type = typeOf(config);
  return "kind" in type && type.kind === "network";
}

/** Site-file checks the schema cannot express: every network action has an id, and no id is used twice. */
export function actionProblems(actions: readonly ActionConfig[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [i, action] of actions.entries()) {
    if (isNetworkAction(action) && action.id === undefined)
      problems.push(`/actions/${i}/id is required on a ${action.do.type} action (its outbox target id)`);
    if (action.id === undefined) continue;
    if (seen.has(action.id)) problems.push(`/actions/${i}/id '${action.id}' is used twice`);
    seen.add(action.id);
  }
  return problems;
}

/** What createNetworkAction passes on of the site (NetworkSite without the target id). */
export type SiteInfo = Omit<NetworkSite, "targetId">;

/** Bind a network action: its compose step for the gate, its sender and delivery settings for the outbox. */
export function createNetworkAction(
  config: ActionConfig,
  log: Logger,
  site: SiteInfo = { systemId: "1", name: "Portcullis site", lanes: [] },
): BoundNetworkAction {
  const type = typeOf(config);
  if (!("network" in type) || config.id === undefined)
    throw new Error(`action '${config.do.type}' is not a network action with an id`);
  const only = config.lanes;
  const lanes = only ? site.lanes.filter((l) => only.includes(l.id)) : site.lanes;
  // Each module's network() takes its own config shape; the union above guarantees the match.
  const action = (type.network as (c: ActionConfig["do"], s: NetworkSite) => NetworkAction)(config.do, {
    ...site,
    lanes,
    targetId: config.id,
  });
  const settings = config.do as unknown as DeliverySettings;
  return {
    config,
    compose: action.compose,
    target: {
      id: config.id,
      type: config.do.type,
      delivery: {
        backoffMinMs: settings.backoffMinMs,
        backoffMaxMs: settings.backoffMaxMs,
        expireAfterMs: settings.expireAfterMs,
        timeoutMs: settings.timeoutMs,
      },
      sender: action.sender(log.child({ target: config.id })),
    },
  };
}

/** A hardware action, bound. Network actions are bound by createNetworkAction. */
/** What hardware actions may need besides their config: the site's Wiegand devices by name. */
export interface ActionDeps {
  wiegand?: wiegand.WiegandLookup;
}

export function createAction(config: ActionConfig, deps: ActionDeps = {}): BoundAction {
  const type = typeOf(config);
  if (!("create" in type)) throw new Error(`action '${config.do.type}' is a network action`);
  // Each module's create() takes its own config shape; the union above guarantees the match.
  const run = (type.create as (c: ActionConfig["do"], d: ActionDeps) => ActionRunner)(config.do, deps);
  return { config, run };
}

/**
 * Does this action fire for this decision on this lane? An action bound to a schedule fires only while the
 * schedule is active at the decision's time (`schedules`: the book the decision was made with; a schedule it
 * does not have counts as inactive).
 */
export function actionApplies(
  action: ActionConfig,
  decision: Decision,
  laneId: string,
  schedules: ScheduleBook,
  /** A zone vetoed the passage (anti-passback, full): no barrier opens, whatever the action is bound to. */
  vetoed = false,
): boolean {
  if (!action.enabled) return false;
  if (vetoed && action.do.type === "barrier-open") return false;
  if (action.lanes && !action.lanes.includes(laneId)) return false;
  if (action.schedule !== undefined && scheduleActive(schedules, action.schedule, decision.at) !== true)
    return false;
  if (action.on.result && action.on.result !== decision.result) return false;
  const list = action.on.list;
  if (list === undefined) return true;
  if (list === "any-plate" || list === "not-in-list") return decision.builtIns.includes(list);
  return decision.matches.some((m) => m.list.name === list);
}
