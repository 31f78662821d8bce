/**
 * Presence and occupancy per zone: pure, data in and data out, time injected. The gate takes a snapshot of a
 * zone's state, asks `assessPassage` what a passage would mean (a veto, a flag, and the effect it would have),
 * and applies the effect only when the barrier actually opened for it (`applyPassage`), in the same tick.
 *
 * Semantics:
 * - A passage's movement: the lane's direction if entry/exit, else the camera's role if entry/exit, else the
 *   read's direction (in → entry, out → exit); anything else is unknown and changes nothing.
 * - Anti-passback (per zone): a second entry of a plate already inside — `hard` denies, `soft` allows and
 *   flags it, `off` ignores it. A plate inside is forgotten `resetAfterMs` after it entered (timed reset).
 *   An exit of a plate not inside is allowed and noted.
 * - Occupancy: count = entries − exits of passages the barrier opened for, never below 0 (an exit at 0 is
 *   clamped and noted). With `countVisitorsOnly`, only plates not on an allow list count. A lane counted by
 *   its loop (and a free-standing loop) changes the count when a vehicle crosses the loop instead, outside
 *   this module (`countsOccupancy` false for its passages).
 * - Full zone (count ≥ capacity): an entry is denied for visitors (plates not on an allow list), for all, or
 *   for none, per `fullDenies`.
 */
import type { Decision } from "./decide.js";

export type Movement = "entry" | "exit";
export type AntiPassback = "off" | "soft" | "hard";
export type FullDenies = "visitors" | "all" | "none";

export interface ZonePolicy {
  name: string;
  capacity?: number | undefined;
  countVisitorsOnly: boolean;
  antiPassback: AntiPassback;
  /** A plate marked inside is forgotten this long after it entered. */
  resetAfterMs: number;
  fullDenies: FullDenies;
}

/** A zone's state at one instant: who is inside (plate → entered at, epoch ms) and the count. */
export interface ZoneSnapshot {
  count: number;
  inside: ReadonlyMap<string, number>;
}

/** What applying a passage does to its zone. */
export interface PresenceEffect {
  zone: string;
  plate: string;
  movement: Movement;
  at: number;
  /** +1, −1 or 0 (a visitor-only zone's listed plate, or an exit clamped at 0). */
  countDelta: number;
  /** The count after the effect. */
  countAfter: number;
}

/** The assessment of one passage, stored in the event's explanation. */
export interface PresenceCheck {
  zone: string;
  movement: Movement | null;
  /** Where the movement came from. */
  movementFrom: "lane" | "camera" | "read" | null;
  antiPassback: AntiPassback;
  /** When the plate entered, if it is inside (not yet forgotten) at the decision time. */
  insideSince: number | null;
  count: number;
  capacity: number | null;
  full: boolean;
  /** A denial overriding the list decision, with its reason; null = the list decision stands. */
  veto: { reason: string; rule: "anti-passback" | "capacity" } | null;
  /** A note on an allowed passage (soft anti-passback, exit without entry, clamped count). */
  flag: { reason: string; rule: "anti-passback" | "exit-without-entry" | "clamped" } | null;
  /** What the passage does to the zone if the barrier opens for it; null = nothing. */
  effect: PresenceEffect | null;
}

export type CameraRole = "entry" | "exit" | "both";
export type ReadDirection = "in" | "out" | "approach" | "away";

/** The movement of a passage: the lane's direction, else the camera's role, else the read's direction. */
export function movementOf(
  laneDirection: CameraRole | undefined,
  cameraRole: CameraRole | undefined,
  readDirection: ReadDirection | null | undefined,
): { movement: Movement | null; from: PresenceCheck["movementFrom"] } {
  if (laneDirection === "entry" || laneDirection === "exit") return { movement: laneDirection, from: "lane" };
  if (cameraRole === "entry" || cameraRole === "exit") return { movement: cameraRole, from: "camera" };
  if (readDirection === "in") return { movement: "entry", from: "read" };
  if (readDirection === "out") return { movement: "exit", from: "read" };
  return { movement: null, from: null };
}

/** When the plate entered, or null when it is not inside at `now` (never entered, left, or forgotten). */
export function insideSince(
  policy: ZonePolicy,
  state: ZoneSnapshot,
  plate: string,
  now: number,
): number | null {
  const at = state.inside.get(plate);
  if (at === undefined || now - at >= policy.resetAfterMs) return null;
  return at;
}

export function isFull(policy: ZonePolicy, count: number): boolean {
  return policy.capacity !== undefined && count >= policy.capacity;
}

/**
 * Assess a passage of `plate` through `policy`'s zone. `listed` = the plate is on an allow list in force
 * (the list decision allowed it); `formatTime` renders an epoch ms as the site's local time for reasons.
 */
export function assessPassage(input: {
  policy: ZonePolicy;
  state: ZoneSnapshot;
  plate: string;
  movement: Movement | null;
  movementFrom: PresenceCheck["movementFrom"];
  listed: boolean;
  /** False when a loop counts this lane's vehicles: the passage then tracks presence but not the count. */
  countsOccupancy?: boolean;
  now: number;
  formatTime: (ms: number) => string;
}): PresenceCheck {
  const { policy, state, plate, movement, listed, now } = input;
  const since = insideSince(policy, state, plate, now);
  const full = isFull(policy, state.count);
  const check: PresenceCheck = {
    zone: policy.name,
    movement,
    movementFrom: input.movementFrom,
    antiPassback: policy.antiPassback,
    insideSince: since,
    count: state.count,
    capacity: policy.capacity ?? null,
    full,
    veto: null,
    flag: null,
    effect: null,
  };
  if (movement === null) return check;
  const counts = input.countsOccupancy !== false && (!policy.countVisitorsOnly || !listed);
  const effectOf = (m: Movement, countDelta: number): PresenceEffect => ({
    zone: policy.name,
    plate,
    movement: m,
    at: now,
    countDelta,
    countAfter: state.count + countDelta,
  });
  if (movement === "entry") {
    if (since !== null && policy.antiPassback !== "off") {
      const sentence = `${plate} entered zone '${policy.name}' at ${input.formatTime(since)} and has not left (anti-passback)`;
      if (policy.antiPassback === "hard")
        return { ...check, veto: { reason: sentence, rule: "anti-passback" } };
      check.flag = { reason: sentence, rule: "anti-passback" };
    }
    const denies = policy.fullDenies === "all" || (policy.fullDenies === "visitors" && !listed);
    if (full && denies) {
      const who =
        policy.fullDenies === "all" ? "no vehicle may enter" : "only plates on an allow list may enter";
      return {
        ...check,
        flag: null,
        veto: {
          reason: `zone '${policy.name}' is full (${state.count}/${policy.capacity}): ${who}`,
          rule: "capacity",
        },
      };
    }
    check.effect = effectOf(movement, counts ? 1 : 0);
    return check;
  }
  let delta = counts ? -1 : 0;
  if (since === null)
    check.flag = {
      reason: `${plate} left zone '${policy.name}' without a recorded entry`,
      rule: "exit-without-entry",
    };
  if (state.count + delta < 0) {
    delta = 0;
    check.flag ??= {
      reason: `zone '${policy.name}' count was already 0 (kept at 0)`,
      rule: "clamped",
    };
  }
  check.effect = effectOf(movement, delta);
  return check;
}

/** The zone's state after a passage's effect (a new snapshot; the input is not changed). */
export function applyPassage(state: ZoneSnapshot, effect: PresenceEffect): ZoneSnapshot {
  const inside = new Map(state.inside);
  if (effect.movement === "entry") inside.set(effect.plate, effect.at);
  else inside.delete(effect.plate);
  return { count: Math.max(0, state.count + effect.countDelta), inside };
}

/** " (soft anti-passback: …)" style suffix for an allowed passage's reason; "" when there is nothing to say. */
export function reasonSuffix(check: PresenceCheck | null): string {
  if (!check?.flag) return "";
  return check.flag.rule === "anti-passback"
    ? `; soft anti-passback: ${check.flag.reason}`
    : `; ${check.flag.reason}`;
}

/**
 * A decision after its presence check: a veto denies (and matches nothing, so no action bound to a list
 * runs; barrier opens are skipped by the gate), a flag is appended to the reason.
 */
export function withPresence(decision: Decision, check: PresenceCheck | null): Decision {
  if (!check) return decision;
  if (check.veto)
    return { ...decision, result: "deny", reason: check.veto.reason, matches: [], builtIns: ["any-plate"] };
  const suffix = reasonSuffix(check);
  return suffix ? { ...decision, reason: decision.reason + suffix } : decision;
}
