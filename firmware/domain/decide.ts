/**
 * The decision: pure, data in and data out, time injected. Block beats allow; an exact match beats a fuzzy
 * one; every outcome carries a sentence a guard can read.
 */
import { describeEdits } from "./fuzzy.js";
import type { BuiltInList, ListMatch } from "./lists.js";
import { validityAt } from "./lists.js";

export type DecisionResult = "allow" | "deny";

export interface Decision {
  result: DecisionResult;
  reason: string;
  /** The match that decided, if any. */
  decisive: ListMatch | null;
  /** Every valid match, best first, for actions bound to lists. */
  matches: ListMatch[];
  builtIns: BuiltInList[];
}

function rank(m: ListMatch): number {
  return m.match.kind === "exact" ? 0 : m.match.distance;
}

function describeMatch(plate: string, m: ListMatch): string {
  const where = `${m.list.kind} list '${m.list.name}'`;
  if (m.match.kind === "exact") return `${plate} is on ${where}`;
  return `${plate} matches ${m.entry.plate} on ${where} at distance ${m.match.distance} (${describeEdits(m.match.edits)})`;
}

/**
 * Decide for a normalised plate given every candidate match the store found (exact and fuzzy, any validity).
 */
export function decide(plate: string, candidates: readonly ListMatch[], nowMs: number): Decision {
  const valid = candidates
    .filter((m) => validityAt(m.entry, nowMs) === "valid")
    .sort((a, b) => rank(a) - rank(b));
  const builtIns: BuiltInList[] = valid.length === 0 ? ["any-plate", "not-in-list"] : ["any-plate"];
  const block = valid.find((m) => m.list.kind === "block");
  if (block)
    return { result: "deny", reason: describeMatch(plate, block), decisive: block, matches: valid, builtIns };
  const allow = valid.find((m) => m.list.kind === "allow");
  if (allow)
    return {
      result: "allow",
      reason: describeMatch(plate, allow),
      decisive: allow,
      matches: valid,
      builtIns,
    };
  const custom = valid[0];
  if (custom)
    return {
      result: "deny",
      reason: `${describeMatch(plate, custom)}, which grants no access`,
      decisive: custom,
      matches: valid,
      builtIns,
    };
  const stale = candidates.find((m) => m.list.kind === "allow");
  if (stale) {
    const state = validityAt(stale.entry, nowMs) === "expired" ? "expired" : "is not valid yet";
    const when = state === "expired" ? stale.entry.validTo : stale.entry.validFrom;
    const at = when === null ? "" : ` (${new Date(when).toISOString()})`;
    return {
      result: "deny",
      reason: `${plate} is on allow list '${stale.list.name}' but the entry ${state}${at}`,
      decisive: null,
      matches: valid,
      builtIns,
    };
  }
  return { result: "deny", reason: `${plate} is not on any list`, decisive: null, matches: valid, builtIns };
}
