/**
 * The schedules a decision sees: every compiled schedule by name, with the site's time zone. Pure: the store
 * builds a book whenever a schedule or holiday calendar changes and hands the current one to each decision
 * (one object, never mutated, so a decision sees one consistent set).
 */
import {
  type CompiledScheduleEntry,
  type Explanation,
  explain as explainSchedule,
  isActive,
} from "./schedule.js";

export interface ScheduleBook {
  /** IANA zone every schedule's windows are in (the site's). */
  readonly timeZone: string;
  readonly byName: ReadonlyMap<string, CompiledScheduleEntry>;
}

export const NO_SCHEDULES: ScheduleBook = { timeZone: "UTC", byName: new Map() };

/**
 * Whether the named schedule is in force at `atMs`; null when the book has no such schedule (callers decide
 * which way that fails: the store refuses to delete a schedule in use, so it only happens through a bug).
 * Cheap: no Intl once the zone's offset for the quarter hour is cached.
 */
export function scheduleActive(book: ScheduleBook, name: string, atMs: number): boolean | null {
  const entry = book.byName.get(name);
  return entry ? isActive(entry.schedule, entry.holidays, atMs, book.timeZone) : null;
}

/** A schedule's state at a decision: the module's explanation, or a note that the schedule does not exist. */
export type ScheduleState =
  | Explanation
  | { active: boolean; by: "unknown-schedule"; schedule: string; reason: string };

/**
 * Why the named schedule is or is not in force at `atMs` (allocates: once per decision at most, for the
 * match that decided). `ifUnknown` is the state assumed for a schedule the book does not have.
 */
export function scheduleState(
  book: ScheduleBook,
  name: string,
  atMs: number,
  ifUnknown: boolean,
): ScheduleState {
  const entry = book.byName.get(name);
  if (entry) return explainSchedule(entry.schedule, entry.holidays, atMs, book.timeZone);
  return {
    active: ifUnknown,
    by: "unknown-schedule",
    schedule: name,
    reason: `schedule '${name}' does not exist; taken as ${ifUnknown ? "active" : "inactive"}`,
  };
}

/** The part of a state's reason after "schedule '<name>' is active/inactive: " — what made it so. */
export function scheduleWhy(state: ScheduleState): string {
  const prefix = `schedule '${state.schedule}' is ${state.active ? "active" : "inactive"}: `;
  return state.reason.startsWith(prefix) ? state.reason.slice(prefix.length) : state.reason;
}
