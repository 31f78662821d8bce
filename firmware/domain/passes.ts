/**
 * Passes on list entries: a visit count (a visitor pass that is used up), a lane scope (lanes and named lane
 * groups of the site file) and list priorities. Pure: the decision core asks these questions, the store keeps
 * the counters.
 */
import type { ListDef, ListEntry, ListKind } from "./lists.js";

/** A list's priority when it has none of its own: block beats allow, and custom lists come last. */
export const DEFAULT_PRIORITY: Readonly<Record<ListKind, number>> = { block: 100, allow: 50, custom: 10 };
export const PRIORITY_LIMIT = 1000;

export function priorityOf(list: ListDef): number {
  return list.priority ?? DEFAULT_PRIORITY[list.kind];
}

/** The lanes of the site and its named lane groups, for checking an entry's `lanes` scope. */
export interface LaneBook {
  lanes: ReadonlySet<string>;
  groups: ReadonlyMap<string, readonly string[]>;
}

export const NO_LANES: LaneBook = { lanes: new Set(), groups: new Map() };

/**
 * Whether an entry's scope covers `lane`. No scope (null, undefined) covers every lane; an item is a lane id or
 * a group name. A name the book does not know (a group removed from the site file) fails safe: a block entry
 * still blocks everywhere, an allow or custom entry covers no lane by it.
 */
export function laneInScope(entry: ListEntry, lane: string, book: LaneBook, kind: ListKind): boolean {
  const scope = entry.lanes;
  if (!scope) return true;
  for (const item of scope) {
    if (item === lane) return true;
    const group = book.groups.get(item);
    if (group) {
      if (group.includes(lane)) return true;
    } else if (!book.lanes.has(item) && kind === "block") return true;
  }
  return false;
}

/** "1" or "1, group 'North' (3, 4)": the scope as a guard reads it. */
export function describeScope(scope: readonly string[], book: LaneBook): string {
  return scope
    .map((item) => {
      const group = book.groups.get(item);
      return group ? `group '${item}' (${group.join(", ")})` : item;
    })
    .join(", ");
}

/** Visits left on a pass (never below 0), or null for an entry without a visit count. */
export function visitsLeft(entry: Pick<ListEntry, "maxVisits" | "visitsUsed">): number | null {
  if (entry.maxVisits == null) return null;
  return Math.max(0, entry.maxVisits - (entry.visitsUsed ?? 0));
}

/** The pass of a decision's entry, as the explanation records it. */
export interface PassState {
  entryId: number;
  /** null = unlimited visits. */
  maxVisits: number | null;
  /** Visits used before this decision (committed and in flight). */
  visitsUsed: number;
  /** Lanes and groups the entry is valid on; null = every lane. */
  lanes: string[] | null;
  /** Whether this decision uses a visit (an allow by an entry with a visit count). */
  consumes: boolean;
}

/** The state worth recording: null for an entry with neither a visit count nor a lane scope. */
export function passState(entry: ListEntry, consumes: boolean): PassState | null {
  if (entry.maxVisits == null && !entry.lanes) return null;
  return {
    entryId: entry.id,
    maxVisits: entry.maxVisits ?? null,
    visitsUsed: entry.visitsUsed ?? 0,
    lanes: entry.lanes ? [...entry.lanes] : null,
    consumes,
  };
}
