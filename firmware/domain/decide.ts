/**
 * The decision: pure, data in and data out, time, schedules and lanes injected. A match counts only while it is
 * in force (its entry valid, its list's and its entry's schedules active, the lane in its entry's scope, visits
 * left on its pass). Among those, the highest list priority decides; at equal priority block beats allow, and
 * an exact match beats a fuzzy one. With the default priorities (block 100, allow 50, custom 10) block beats
 * allow; only an allow list configured above a block list overrides it. Custom lists grant and refuse nothing:
 * they decide (deny) only when no allow or block match is in force. Every outcome carries a sentence a guard
 * can read.
 */
import { describeEdits } from "./fuzzy.js";
import type { BuiltInList, ListKind, ListMatch } from "./lists.js";
import { validityAt } from "./lists.js";
import {
  describeScope,
  type LaneBook,
  laneInScope,
  NO_LANES,
  type PassState,
  passState,
  priorityOf,
  visitsLeft,
} from "./passes.js";
import {
  NO_SCHEDULES,
  type ScheduleBook,
  type ScheduleState,
  scheduleActive,
  scheduleState,
  scheduleWhy,
} from "./schedule-book.js";

export type DecisionResult = "allow" | "deny";

/** A schedule a match is bound to — its list's or its entry's — and whether it was active at the decision. */
export interface BoundSchedule {
  of: "list" | "entry";
  schedule: string;
  active: boolean;
}

/** The same with the schedule module's explanation: the window or holiday that made it so, local time. */
export type BoundScheduleState = ScheduleState & { of: "list" | "entry" };

/**
 * Why a match did not count: its entry's validity, a schedule not active at the decision time, a lane outside
 * its entry's scope, or a visitor pass with no visits left.
 */
export type NotInForce = "expired" | "not-yet-valid" | "schedule" | "lane" | "used-up";

/** Where the decision is made: the lane (absent: the lane scope is not checked) and the site's lane groups. */
export interface DecideContext {
  lane?: string | undefined;
  lanes?: LaneBook | undefined;
}

export interface Decision {
  result: DecisionResult;
  reason: string;
  /** The match that decided, if any. */
  decisive: ListMatch | null;
  /** Every match in force, best first, for actions bound to lists. */
  matches: ListMatch[];
  builtIns: BuiltInList[];
  /** The decision time (epoch ms); actions bound to schedules are checked at it. */
  at: number;
  /** The schedules of the decisive match (or, failing one, of `notInForce`) and their state at `at`. */
  schedules: BoundSchedule[];
  /** The schedules the decision was made with (explainSchedules reads them after the relay). */
  book: ScheduleBook;
  /** When no match decided: the best allow match that was not in force at `at`, and why not. */
  notInForce: { match: ListMatch; because: NotInForce } | null;
  /**
   * The pass of the decisive entry (or of `notInForce`'s), when it has a visit count or a lane scope.
   * `consumes`: this decision uses one of its visits (an allow); the store counts it when the gate acts.
   */
  pass: PassState | null;
}

function rank(m: ListMatch): number {
  return m.match.kind === "exact" ? 0 : m.match.distance;
}

const KIND_ORDER: Readonly<Record<ListKind, number>> = { block: 0, allow: 1, custom: 2 };

/** Best first: higher list priority, then block before allow before custom, then exact before fuzzy. */
function compareMatches(a: ListMatch, b: ListMatch): number {
  return (
    priorityOf(b.list) - priorityOf(a.list) ||
    KIND_ORDER[a.list.kind] - KIND_ORDER[b.list.kind] ||
    rank(a) - rank(b)
  );
}

/**
 * Whether a schedule lets a match count. A schedule the book does not know (the store prevents it) fails
 * safe: a block still blocks, an allow or custom match does not count.
 */
function scheduleAllows(
  name: string | null | undefined,
  kind: ListKind,
  book: ScheduleBook,
  at: number,
): boolean {
  if (!name) return true;
  return scheduleActive(book, name, at) ?? kind === "block";
}

function whyNot(m: ListMatch, book: ScheduleBook, at: number, context: DecideContext): NotInForce | null {
  const validity = validityAt(m.entry, at);
  if (validity !== "valid") return validity;
  if (!scheduleAllows(m.list.schedule, m.list.kind, book, at)) return "schedule";
  if (!scheduleAllows(m.entry.schedule, m.list.kind, book, at)) return "schedule";
  if (
    context.lane !== undefined &&
    !laneInScope(m.entry, context.lane, context.lanes ?? NO_LANES, m.list.kind)
  )
    return "lane";
  // Only allow entries have visits to use up: a block entry never stops blocking by a count.
  if (m.list.kind === "allow" && visitsLeft(m.entry) === 0) return "used-up";
  return null;
}

/**
 * " (priority 200, above block list 'Ban' at 100)" when the decisive list outranks a list of the other kind
 * and either has a priority of its own; "" otherwise (so default decisions read as before).
 */
function describePriority(decisive: ListMatch, valid: readonly ListMatch[]): string {
  const other = valid.find(
    (m) => m.list.kind !== "custom" && m.list.kind !== decisive.list.kind && m !== decisive,
  );
  if (!other || (decisive.list.priority == null && other.list.priority == null)) return "";
  const above = priorityOf(decisive.list) > priorityOf(other.list) ? "above" : "level with";
  return ` (priority ${priorityOf(decisive.list)}, ${above} ${other.list.kind} list '${other.list.name}' at ${priorityOf(other.list)})`;
}

/** The list's and the entry's schedules and whether each is active (cheap: no explanation built). */
function schedulesOf(m: ListMatch, book: ScheduleBook, at: number): BoundSchedule[] {
  if (!m.list.schedule && !m.entry.schedule) return [];
  const out: BoundSchedule[] = [];
  const block = m.list.kind === "block";
  const bound = (of: "list" | "entry", name: string): BoundSchedule => ({
    of,
    schedule: name,
    active: scheduleActive(book, name, at) ?? block,
  });
  if (m.list.schedule) out.push(bound("list", m.list.schedule));
  if (m.entry.schedule) out.push(bound("entry", m.entry.schedule));
  return out;
}

/**
 * The decision's schedules with the module's explanation of each (the window or holiday that decided, the
 * local time). It allocates, so it is for the stored explanation, after the relay.
 */
export function explainSchedules(decision: Decision): BoundScheduleState[] {
  return decision.schedules.map((s) => ({
    ...scheduleState(decision.book, s.schedule, decision.at, s.active),
    of: s.of,
  }));
}

function describeMatch(plate: string, m: ListMatch): string {
  const where = `${m.list.kind} list '${m.list.name}'`;
  if (m.match.kind === "exact") return `${plate} is on ${where}`;
  return `${plate} matches ${m.entry.plate} on ${where} at distance ${m.match.distance} (${describeEdits(m.match.edits)})`;
}

/** " (list schedule 'Weekdays' active)" for a decisive match bound to schedules; "" for one that is not. */
function describeSchedules(states: readonly BoundSchedule[]): string {
  if (states.length === 0) return "";
  return ` (${states.map((s) => `${s.of} schedule '${s.schedule}' ${s.active ? "active" : "inactive"}`).join(", ")})`;
}

/**
 * Decide for a normalised plate at `nowMs` given every candidate match the store found (exact and fuzzy, any
 * validity, any schedule) and the compiled schedules in force (`book`).
 */
export function decide(
  plate: string,
  candidates: readonly ListMatch[],
  nowMs: number,
  book: ScheduleBook = NO_SCHEDULES,
  context: DecideContext = {},
): Decision {
  const valid = candidates.filter((m) => whyNot(m, book, nowMs, context) === null).sort(compareMatches);
  const builtIns: BuiltInList[] = valid.length === 0 ? ["any-plate", "not-in-list"] : ["any-plate"];
  const decisive = valid.find((m) => m.list.kind !== "custom") ?? valid[0];
  if (decisive) {
    const schedules = schedulesOf(decisive, book, nowMs);
    const allow = decisive.list.kind === "allow";
    const suffix = decisive.list.kind === "custom" ? ", which grants no access" : "";
    const pass = passState(decisive.entry, allow && decisive.entry.maxVisits != null);
    const visit = pass?.consumes ? ` (visit ${pass.visitsUsed + 1} of ${pass.maxVisits})` : "";
    return {
      result: allow ? "allow" : "deny",
      reason: `${describeMatch(plate, decisive)}${describeSchedules(schedules)}${describePriority(decisive, valid)}${visit}${suffix}`,
      decisive,
      matches: valid,
      builtIns,
      at: nowMs,
      schedules,
      book,
      notInForce: null,
      pass,
    };
  }
  let stale: ListMatch | undefined;
  for (const m of candidates)
    if (m.list.kind === "allow" && (stale === undefined || compareMatches(m, stale) < 0)) stale = m;
  if (stale) {
    const because = whyNot(stale, book, nowMs, context) as NotInForce;
    const schedules = schedulesOf(stale, book, nowMs);
    let reason: string;
    if (because === "used-up") {
      const used = stale.entry.visitsUsed ?? 0;
      reason = `${describeMatch(plate, stale)} but its visitor pass is used up (${used} of ${stale.entry.maxVisits} visits)`;
    } else if (because === "lane") {
      const scope = describeScope(stale.entry.lanes ?? [], context.lanes ?? NO_LANES);
      reason = `${describeMatch(plate, stale)} but it is not valid on lane ${context.lane} (pass for lanes: ${scope})`;
    } else if (because === "schedule") {
      const off = schedules.find((s) => !s.active) as BoundSchedule;
      const why = scheduleWhy(scheduleState(book, off.schedule, nowMs, off.active));
      const whose = off.of === "list" ? "outside its schedule" : "the entry is outside its schedule";
      reason = `${describeMatch(plate, stale)} but ${whose} '${off.schedule}' (${why})`;
    } else {
      const state = because === "expired" ? "expired" : "is not valid yet";
      const when = because === "expired" ? stale.entry.validTo : stale.entry.validFrom;
      const at = when === null ? "" : ` (${new Date(when).toISOString()})`;
      reason = `${describeMatch(plate, stale)} but the entry ${state}${at}`;
    }
    return {
      result: "deny",
      reason,
      decisive: null,
      matches: valid,
      builtIns,
      at: nowMs,
      schedules,
      book,
      notInForce: { match: stale, because },
      pass: passState(stale.entry, false),
    };
  }
  return {
    result: "deny",
    reason: `${plate} is not on any list`,
    decisive: null,
    matches: valid,
    builtIns,
    at: nowMs,
    schedules: [],
    book,
    notInForce: null,
    pass: null,
  };
}
