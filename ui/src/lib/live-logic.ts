/** Pure helpers behind the live store: no DOM, no Svelte, easy to reason about. */
import type { DecisionEvent, IoItem, Lane, LiveMessage } from "./types";

export const MAX_EVENTS = 50;

/** Merge fresh events into the list: de-duplicated by id, newest (highest id) first, capped. */
export function mergeEvents(
  current: readonly DecisionEvent[],
  incoming: readonly DecisionEvent[],
  max = MAX_EVENTS,
): DecisionEvent[] {
  const byId = new Map<number, DecisionEvent>();
  for (const e of current) byId.set(e.id, e);
  for (const e of incoming) byId.set(e.id, e);
  return [...byId.values()].sort((a, b) => b.id - a.id).slice(0, max);
}

/** Apply an I/O snapshot or update, keeping whichever reading is newer. */
export function applyIo(current: Record<string, IoItem>, item: IoItem): boolean {
  const prev = current[item.name];
  if (prev && Date.parse(prev.changedAt) > Date.parse(item.changedAt)) return false;
  if (prev && prev.state === item.state && prev.changedAt === item.changedAt && prev.kind === item.kind) {
    return false;
  }
  current[item.name] = { name: item.name, kind: item.kind, state: item.state, changedAt: item.changedAt };
  return true;
}

/** Reconnect delay for the n-th consecutive failure (0-based): 0.5 s doubling to 15 s, ±20 % jitter. */
export function backoffDelay(attempt: number, random = Math.random): number {
  const base = Math.min(15_000, 500 * 2 ** Math.min(attempt, 10));
  return Math.round(base * (0.8 + 0.4 * random()));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

function isIo(v: unknown): v is IoItem {
  return (
    isObject(v) &&
    typeof v.name === "string" &&
    (v.kind === "input" || v.kind === "output") &&
    (v.state === "active" || v.state === "inactive") &&
    typeof v.changedAt === "string"
  );
}

function isLane(v: unknown): v is Lane {
  return isObject(v) && typeof v.id === "string" && typeof v.name === "string";
}

function isEvent(v: unknown): v is DecisionEvent {
  return (
    isObject(v) &&
    typeof v.id === "number" &&
    typeof v.plate === "string" &&
    (v.decision === "allow" || v.decision === "deny")
  );
}

/** Parse one socket frame; null for anything malformed or of a type this panel does not know. */
export function parseMessage(data: unknown): LiveMessage | null {
  if (typeof data !== "string") return null;
  let msg: unknown;
  try {
    msg = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(msg)) return null;
  switch (msg.type) {
    case "hello":
      if (!Array.isArray(msg.lanes) || !Array.isArray(msg.io)) return null;
      return { type: "hello", lanes: msg.lanes.filter(isLane), io: msg.io.filter(isIo) };
    case "decision":
      return isEvent(msg.event) ? { type: "decision", event: msg.event } : null;
    case "io":
      return isIo(msg)
        ? { type: "io", name: msg.name, kind: msg.kind, state: msg.state, changedAt: msg.changedAt }
        : null;
    default:
      return null;
  }
}
