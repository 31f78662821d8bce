/** Lists and their entries as the decision core sees them. */
import type { Edit } from "./fuzzy.js";

export type ListKind = "allow" | "block" | "custom";
export const LIST_KINDS: readonly ListKind[] = ["allow", "block", "custom"];

/** Built-in pseudo-lists that actions can react to, as on the cameras in the specs. */
export type BuiltInList = "any-plate" | "not-in-list";

export interface ListDef {
  id: number;
  name: string;
  kind: ListKind;
  /** Largest weighted edit distance that still counts as a match; 0 = exact only. Below 2. */
  maxDistance: number;
  /** Name of the schedule the list is in force by; null or absent = always. */
  schedule?: string | null;
  /**
   * When several lists match, the highest priority decides (see firmware/domain/passes.ts); null or absent =
   * the kind's default (block 100, allow 50, custom 10).
   */
  priority?: number | null;
}

export interface ListEntry {
  id: number;
  listId: number;
  /** Normalised plate. */
  plate: string;
  description: string | null;
  /** Epoch ms, inclusive; null = open-ended. */
  validFrom: number | null;
  /** Epoch ms, exclusive; null = open-ended. */
  validTo: number | null;
  /** Name of the schedule the entry is in force by (on top of its list's); null or absent = always. */
  schedule?: string | null;
  /** A visitor pass: visits allowed in all; null or absent = unlimited. */
  maxVisits?: number | null;
  /** Visits used so far (committed and in flight, as the store hands the entry out). */
  visitsUsed?: number;
  /** Lane ids and lane group names the entry is valid on; null or absent = every lane. */
  lanes?: readonly string[] | null;
  /** The entry's own Wiegand card number (action source `entry-card`); null or absent = none. */
  cardNumber?: number | null;
}

export type MatchKind = { kind: "exact" } | { kind: "fuzzy"; distance: number; edits: Edit[] };

export interface ListMatch {
  list: ListDef;
  entry: ListEntry;
  match: MatchKind;
}

export type Validity = "valid" | "not-yet-valid" | "expired";

export function validityAt(entry: ListEntry, nowMs: number): Validity {
  if (entry.validFrom !== null && nowMs < entry.validFrom) return "not-yet-valid";
  if (entry.validTo !== null && nowMs >= entry.validTo) return "expired";
  return "valid";
}
