/**
 * Plate text normalisation. Cameras send the same plate as "ab-123 cd", "AB123CD" or with a decomposed
 * umlaut; matching works on one canonical form while the raw text is kept as evidence.
 */

/** Hyphens, dashes, dots and every kind of space a camera or a CSV file may put inside a plate. */
const SEPARATORS = /[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\-\u2010-\u2015\u2212._·:/]/gu;
/** After removing separators a plate is letters and digits only (any script, so Ö, Ü, Ş and Cyrillic stay). */
const VALID = /^[\p{L}\p{N}]+$/u;

export const MAX_PLATE_LENGTH = 16;

export class PlateError extends Error {
  override readonly name = "PlateError";
}

export interface Plate {
  /** Exactly what the camera sent (after Unicode NFC only), kept for evidence. */
  raw: string;
  /** Upper case, no separators, NFC: the form every list and filter compares. */
  normalised: string;
}

/** Normalise a plate; throws PlateError naming the problem when nothing usable is left. */
export function normalisePlate(input: string): Plate {
  const raw = input.normalize("NFC").trim();
  // toUpperCase is locale-independent (Unicode default mapping) and far cheaper than toLocaleUpperCase.
  const normalised = raw.replace(SEPARATORS, "").toUpperCase();
  if (normalised.length === 0) throw new PlateError("plate is empty");
  if (normalised.length > MAX_PLATE_LENGTH)
    throw new PlateError(`plate is longer than ${MAX_PLATE_LENGTH} characters`);
  if (!VALID.test(normalised))
    throw new PlateError("plate may contain only letters, digits, spaces and dashes");
  return { raw, normalised };
}

/**
 * Characters an OCR engine (or an ASCII-only camera firmware) mistakes for one another. Each group folds
 * to its first member in the skeleton; substitutions inside a group are cheap in fuzzy matching.
 */
export const CONFUSABLE_GROUPS: readonly string[] = [
  "0OQD",
  "1IL",
  "8B",
  "5S",
  "2Z",
  "6G",
  "AÄ",
  "UÜV",
  "OÖ",
];

const SKELETON_CHAR = new Map<string, string>();
for (const group of CONFUSABLE_GROUPS) {
  const head = SKELETON_CHAR.get(group[0] as string) ?? (group[0] as string);
  for (const ch of group) if (!SKELETON_CHAR.has(ch)) SKELETON_CHAR.set(ch, head);
}

/** Every group a character belongs to (O is in "0OQD" and "OÖ"), as a bit set: checked per DP cell. */
const GROUP_BITS = new Map<string, number>();
for (const [i, group] of CONFUSABLE_GROUPS.entries())
  for (const ch of group) GROUP_BITS.set(ch, (GROUP_BITS.get(ch) ?? 0) | (1 << i));

/** True when OCR commonly reads `a` as `b` (symmetric). */
export function areConfusable(a: string, b: string): boolean {
  if (a === b) return false;
  return ((GROUP_BITS.get(a) ?? 0) & (GROUP_BITS.get(b) ?? 0)) !== 0;
}

/**
 * The plate with every confusable character folded to its group's representative, so plates that differ
 * only by confusions share a skeleton. Used to index candidates for fuzzy matching.
 */
export function skeleton(normalised: string): string {
  let out = "";
  for (const ch of normalised) out += SKELETON_CHAR.get(ch) ?? ch;
  return out;
}

export interface FuzzyKeys {
  skeleton: string;
  skeletonReversed: string;
  /** First two and last two skeleton characters. */
  skeletonEnds: string;
}

/**
 * Index keys that find every plate within one edit (in skeleton space) of a query with three selective
 * lookups: an edit in the last two characters leaves the first L−2 intact (skeleton prefix), an edit in the
 * first two leaves the last L−2 intact (reversed prefix), any other edit leaves both ends intact.
 */
export function fuzzyKeys(normalised: string): FuzzyKeys {
  const chars = Array.from(skeleton(normalised));
  return {
    skeleton: chars.join(""),
    skeletonReversed: chars.slice().reverse().join(""),
    skeletonEnds: chars.slice(0, 2).join("") + chars.slice(-2).join(""),
  };
}
