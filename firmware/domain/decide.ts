/**
 * The decision: pure, data in and data out, time and schedules injected. Block beats allow; an exact match
 * beats a fuzzy one; a match counts only while it is in force (its entry valid, its list's and its entry's
 * schedules active); every outcome carries a sentence a guard can read.
 */
import { describeEdits } from "./fuzzy.js";
import type { BuiltInList, ListKind, ListMatch } from "./lists.js";
import { validityAt } from "./lists.js";
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

/** Why a match did not count: its entry's validity, or a schedule not active at the decision time. */
export type NotInForce = "expired" | "not-yet-valid" | "schedule";

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
}

function rank(m: ListMatch): number {
  return m.match.kind === "exact" ? 0 : m.match.distance;
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

function whyNot(m: ListMatch, book: ScheduleBook, at: number): NotInForce | null {
  const validity = validityAt(m.entry, at);
  if (validity !== "valid") return validity;
  if (!scheduleAllows(m.list.schedule, m.list.kind, book, at)) return "schedule";
  if (!scheduleAllows(m.entry.schedule, m.list.kind, book, at)) return "schedule";
  return null;
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
): Decision {
  const valid = candidates.filter((m) => whyNot(m, book, nowMs) === null).sort((a, b) => rank(a) - rank(b));
  const builtIns: BuiltInList[] = valid.length === 0 ? ["any-plate", "not-in-list"] : ["any-plate"];
  const block = valid.find((m) => m.list.kind === "block");
  const allow = block ? undefined : valid.find((m) => m.list.kind === "allow");
  const decisive = block ?? allow ?? valid[0];
  if (decisive) {
    const schedules = schedulesOf(decisive, book, nowMs);
    const suffix = block || allow ? "" : ", which grants no access";
    return {
      result: allow ? "allow" : "deny",
      reason: `${describeMatch(plate, decisive)}${describeSchedules(schedules)}${suffix}`,
      decisive,
      matches: valid,
      builtIns,
      at: nowMs,
      schedules,
      book,
      notInForce: null,
    };
  }
  let stale: ListMatch | undefined;
  for (const m of candidates)
    if (m.list.kind === "allow" && (stale === undefined || rank(m) < rank(stale))) stale = m;
  if (stale) {
    const because = whyNot(stale, book, nowMs) as NotInForce;
    const schedules = schedulesOf(stale, book, nowMs);
    let reason: string;
    if (because === "schedule") {
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
  };
}
