/**
 * Weighted edit distance for plates: OCR-confusable substitutions (O/0, I/1, B/8, S/5, Z/2, G/6, Ö/O…)
 * cost less than other edits, and the result names each edit so a decision can explain itself.
 */
import { areConfusable } from "./plate.js";

export const CONFUSABLE_COST = 0.5;
export const EDIT_COST = 1;

export type Edit =
  | { op: "substitute"; at: number; from: string; to: string; cost: number }
  | { op: "insert"; at: number; char: string; cost: number }
  | { op: "delete"; at: number; char: string; cost: number };

export interface FuzzyResult {
  distance: number;
  /** Edits that turn the read plate into the list plate, positions in the read plate. */
  edits: Edit[];
}

const SURROGATE = /[\uD800-\uDFFF]/;
let matrix = new Float64Array(17 * 17);

function substitutionCost(a: string, b: string): number {
  if (a === b) return 0;
  return areConfusable(a, b) ? CONFUSABLE_COST : EDIT_COST;
}

/**
 * Weighted Levenshtein distance from `read` to `listed`, or null as soon as it certainly exceeds `max`.
 * Plates are short (≤ 16), so the full matrix is cheap; the early exit keeps bulk candidate checks fast.
 */
export function weightedDistance(read: string, listed: string, max: number): FuzzyResult | null {
  // Plates are almost always BMP text, where string indexing is per character; split only when needed.
  const a: ArrayLike<string> = SURROGATE.test(read) ? Array.from(read) : read;
  const b: ArrayLike<string> = SURROGATE.test(listed) ? Array.from(listed) : listed;
  if (Math.abs(a.length - b.length) * EDIT_COST > max) return null;
  const cols = b.length + 1;
  const cells = (a.length + 1) * cols;
  // One matrix reused across calls: candidate checks run by the hundred on the decision path.
  if (matrix.length < cells) matrix = new Float64Array(cells);
  const d = matrix;
  for (let j = 0; j <= b.length; j++) d[j] = j * EDIT_COST;
  for (let i = 1; i <= a.length; i++) {
    d[i * cols] = i * EDIT_COST;
    let rowMin = d[i * cols] as number;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(
        (d[(i - 1) * cols + j] as number) + EDIT_COST,
        (d[i * cols + j - 1] as number) + EDIT_COST,
        (d[(i - 1) * cols + j - 1] as number) + substitutionCost(a[i - 1] as string, b[j - 1] as string),
      );
      d[i * cols + j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return null;
  }
  const distance = d[a.length * cols + b.length] as number;
  if (distance > max) return null;
  return { distance, edits: traceEdits(a, b, d, cols) };
}

function traceEdits(a: ArrayLike<string>, b: ArrayLike<string>, d: Float64Array, cols: number): Edit[] {
  const edits: Edit[] = [];
  let i = a.length;
  let j = b.length;
  const at = (r: number, c: number): number => d[r * cols + c] as number;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0) {
      const cost = substitutionCost(a[i - 1] as string, b[j - 1] as string);
      if (at(i, j) === at(i - 1, j - 1) + cost) {
        if (cost > 0)
          edits.push({ op: "substitute", at: i - 1, from: a[i - 1] as string, to: b[j - 1] as string, cost });
        i--;
        j--;
        continue;
      }
    }
    if (i > 0 && at(i, j) === at(i - 1, j) + EDIT_COST) {
      edits.push({ op: "delete", at: i - 1, char: a[i - 1] as string, cost: EDIT_COST });
      i--;
    } else {
      edits.push({ op: "insert", at: i, char: b[j - 1] as string, cost: EDIT_COST });
      j--;
    }
  }
  return edits.reverse();
}

/** "O→0 at 3, inserted 'X' at 5": human-readable edits for decision reasons. */
export function describeEdits(edits: readonly Edit[]): string {
  return edits
    .map((e) => {
      const pos = e.at + 1;
      if (e.op === "substitute")
        return `${e.from}→${e.to} at ${pos}${e.cost < EDIT_COST ? " (OCR confusion)" : ""}`;
      if (e.op === "insert") return `missing '${e.char}' at ${pos}`;
      return `extra '${e.char}' at ${pos}`;
    })
    .join(", ");
}
