/**
 * Wiegand frame layouts: pure encoding and decoding of card data, no I/O. Lives in hal/ so both the HAL's
 * Wiegand device and the firmware's `wiegand` action can use it (hal/ imports nothing from firmware/).
 *
 * Conventions (shared/protocols.md §1): bits are numbered 1..N in transmission order, bit 1 is sent first,
 * fields are MSB first. A frame is a string of '0'/'1' characters, e.g. "10111101100010001110101110".
 * Parity: an "even" bit makes the number of 1s over itself and its covered bits even, an "odd" bit odd.
 */

export type FieldName = "facility" | "card";

export interface WiegandField {
  name: FieldName;
  /** 1-indexed position of the field's most significant bit. */
  start: number;
  /** Bits, 1..48 (so every value is a safe integer). */
  length: number;
}

export interface ParityBit {
  /** 1-indexed position of the parity bit in the frame. */
  position: number;
  kind: "even" | "odd";
  /** 1-indexed positions it covers (other parity bits allowed; they are computed first). */
  covers: readonly number[];
}

export interface WiegandLayout {
  /** For error messages, e.g. "26-bit H10301". */
  name: string;
  bits: number;
  fields: readonly WiegandField[];
  parity: readonly ParityBit[];
}

export interface CardData {
  /** Facility code (site code, company ID). Must be absent or 0 for layouts without a facility field. */
  facility?: number;
  card: number;
}

export interface DecodedFrame {
  facility?: number;
  card: number;
  /** Positions of parity bits that do not check out (empty = frame valid). */
  badParity: number[];
}

/** Inclusive 1-indexed range. */
export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let p = from; p <= to; p++) out.push(p);
  return out;
}

/** "Two of every three" positions from `from` to `to`, as Corporate 1000 parity covers them. */
function twoOfThree(from: number, to: number): number[] {
  return range(from, to).filter((p) => (p - from) % 3 !== 2);
}

/** The built-in layouts (protocols.md §1.2–1.5). Ids start with the bit count, as installers know them. */
export const WIEGAND_FORMATS = {
  /** 26-bit H10301: even parity over 2–13, FC 8 bits, CN 16 bits, odd parity over 14–25. */
  "26-h10301": {
    name: "26-bit H10301",
    bits: 26,
    fields: [
      { name: "facility", start: 2, length: 8 },
      { name: "card", start: 10, length: 16 },
    ],
    parity: [
      { position: 1, kind: "even", covers: range(2, 13) },
      { position: 26, kind: "odd", covers: range(14, 25) },
    ],
  },
  /** 34-bit H10306 / N10002: FC 16 bits, CN 16 bits, even parity over 2–17, odd over 18–33. */
  "34-h10306": {
    name: "34-bit H10306",
    bits: 34,
    fields: [
      { name: "facility", start: 2, length: 16 },
      { name: "card", start: 18, length: 16 },
    ],
    parity: [
      { position: 1, kind: "even", covers: range(2, 17) },
      { position: 34, kind: "odd", covers: range(18, 33) },
    ],
  },
  /** 34-bit with one 32-bit card number and no facility (Hikvision Wiegand cameras), same parity split. */
  "34-card32": {
    name: "34-bit 32-bit card number",
    bits: 34,
    fields: [{ name: "card", start: 2, length: 32 }],
    parity: [
      { position: 1, kind: "even", covers: range(2, 17) },
      { position: 34, kind: "odd", covers: range(18, 33) },
    ],
  },
  /** 35-bit HID Corporate 1000: company 12 bits, card 20 bits, three interleaved parity bits. */
  "35-corporate1000": {
    name: "35-bit Corporate 1000",
    bits: 35,
    fields: [
      { name: "facility", start: 3, length: 12 },
      { name: "card", start: 15, length: 20 },
    ],
    parity: [
      { position: 2, kind: "even", covers: twoOfThree(3, 34) },
      { position: 35, kind: "odd", covers: twoOfThree(2, 33) },
      { position: 1, kind: "odd", covers: range(2, 35) },
    ],
  },
  /** 37-bit H10304: FC 16 bits, CN 19 bits, even parity over 2–19, odd over 19–36. */
  "37-h10304": {
    name: "37-bit H10304",
    bits: 37,
    fields: [
      { name: "facility", start: 2, length: 16 },
      { name: "card", start: 18, length: 19 },
    ],
    parity: [
      { position: 1, kind: "even", covers: range(2, 19) },
      { position: 37, kind: "odd", covers: range(19, 36) },
    ],
  },
} as const satisfies Record<string, WiegandLayout>;

export type WiegandFormatId = keyof typeof WIEGAND_FORMATS;

export const MAX_FRAME_BITS = 64;
const MAX_FIELD_BITS = 48;

/**
 * Check a layout (built-in or from the site file). Returns every problem, each naming the item; empty = valid.
 * Every bit must belong to exactly one field or parity bit; a card field is required; parity bits may cover
 * other parity bits but not in a cycle.
 */
export function layoutProblems(layout: WiegandLayout): string[] {
  const problems: string[] = [];
  const { bits } = layout;
  if (!Number.isInteger(bits) || bits < 2 || bits > MAX_FRAME_BITS) {
    return [`bits must be an integer 2..${MAX_FRAME_BITS}, got ${bits}`];
  }
  const owner = new Array<string | undefined>(bits + 1);
  const claim = (position: number, who: string): void => {
    if (!Number.isInteger(position) || position < 1 || position > bits) {
      problems.push(`${who}: position ${position} is outside 1..${bits}`);
    } else if (owner[position] !== undefined) {
      problems.push(`${who}: bit ${position} is already used by ${owner[position]}`);
    } else {
      owner[position] = who;
    }
  };
  const names = new Set<string>();
  for (const field of layout.fields) {
    if (names.has(field.name)) problems.push(`field ${field.name} is defined twice`);
    names.add(field.name);
    if (!Number.isInteger(field.length) || field.length < 1 || field.length > MAX_FIELD_BITS) {
      problems.push(`field ${field.name}: length must be 1..${MAX_FIELD_BITS}, got ${field.length}`);
      continue;
    }
    for (let i = 0; i < field.length; i++) claim(field.start + i, `field ${field.name}`);
  }
  if (!names.has("card")) problems.push("a card field is required");
  for (const p of layout.parity) {
    const who = `parity bit ${p.position}`;
    claim(p.position, who);
    if (p.covers.length === 0) problems.push(`${who} covers no bits`);
    for (const c of p.covers) {
      if (!Number.isInteger(c) || c < 1 || c > bits)
        problems.push(`${who}: covers bit ${c}, outside 1..${bits}`);
      if (c === p.position) problems.push(`${who} covers itself`);
    }
    if (new Set(p.covers).size !== p.covers.length) problems.push(`${who} covers a bit twice`);
  }
  for (let i = 1; i <= bits; i++)
    if (owner[i] === undefined) problems.push(`bit ${i} belongs to no field or parity bit`);
  if (problems.length === 0 && parityOrder(layout) === null)
    problems.push("parity bits cover each other in a cycle");
  return problems;
}

/** Parity bits in an order where each one is computed after the parity bits it covers; null on a cycle. */
function parityOrder(layout: WiegandLayout): ParityBit[] | null {
  const pending = [...layout.parity];
  const done = new Set<number>();
  const order: ParityBit[] = [];
  const parityPositions = new Set(layout.parity.map((p) => p.position));
  while (pending.length > 0) {
    const ready = pending.findIndex((p) => p.covers.every((c) => !parityPositions.has(c) || done.has(c)));
    if (ready < 0) return null;
    const [p] = pending.splice(ready, 1) as [ParityBit];
    order.push(p);
    done.add(p.position);
  }
  return order;
}

function assertValid(layout: WiegandLayout): void {
  const problems = layoutProblems(layout);
  if (problems.length > 0) throw new Error(`Wiegand layout "${layout.name}": ${problems.join("; ")}`);
}

function maxOf(field: WiegandField): number {
  return 2 ** field.length - 1;
}

/** The largest value a field can carry, or undefined if the layout has no such field. */
export function fieldMax(layout: WiegandLayout, name: FieldName): number | undefined {
  const field = layout.fields.find((f) => f.name === name);
  return field ? maxOf(field) : undefined;
}

/**
 * Encode card data as a frame. Throws RangeError naming the layout and the field for a value that is not an
 * integer in range, or for a facility code on a layout without one; throws Error for an invalid layout.
 */
export function encodeWiegand(layout: WiegandLayout, data: CardData): string {
  assertValid(layout);
  const frame = new Array<number>(layout.bits + 1).fill(0);
  const hasFacility = layout.fields.some((f) => f.name === "facility");
  if (!hasFacility && data.facility !== undefined && data.facility !== 0) {
    throw new RangeError(`${layout.name}: has no facility field, got facility ${data.facility}`);
  }
  for (const field of layout.fields) {
    const value = field.name === "card" ? data.card : (data.facility ?? 0);
    if (!Number.isSafeInteger(value) || value < 0 || value > maxOf(field)) {
      throw new RangeError(`${layout.name}: ${field.name} ${value} is out of range 0..${maxOf(field)}`);
    }
    // Division, not bit operators: fields may be wider than 32 bits.
    let rest = value;
    for (let i = field.length - 1; i >= 0; i--) {
      frame[field.start + i] = rest % 2;
      rest = Math.floor(rest / 2);
    }
  }
  for (const p of parityOrder(layout) ?? []) {
    const ones = p.covers.reduce((n, c) => n + (frame[c] ?? 0), 0);
    // Even: total 1s (covered + this bit) even → this bit = ones mod 2. Odd: the complement.
    frame[p.position] = p.kind === "even" ? ones % 2 : 1 - (ones % 2);
  }
  return frame.slice(1).join("");
}

/**
 * Decode a frame back into card data and report parity. Throws if the frame is not a string of '0'/'1' of the
 * layout's length. A frame with bad parity still decodes (`badParity` lists the failing bits).
 */
export function decodeWiegand(layout: WiegandLayout, frame: string): DecodedFrame {
  assertValid(layout);
  if (frame.length !== layout.bits || !/^[01]+$/.test(frame)) {
    throw new Error(`${layout.name}: expected ${layout.bits} bits of 0/1, got ${JSON.stringify(frame)}`);
  }
  const bit = (position: number): number => (frame[position - 1] === "1" ? 1 : 0);
  const out: DecodedFrame = { card: 0, badParity: [] };
  for (const field of layout.fields) {
    let value = 0;
    for (let i = 0; i < field.length; i++) value = value * 2 + bit(field.start + i);
    out[field.name] = value;
  }
  for (const p of layout.parity) {
    const ones = p.covers.reduce((n, c) => n + bit(c), bit(p.position));
    if (ones % 2 !== (p.kind === "even" ? 0 : 1)) out.badParity.push(p.position);
  }
  return out;
}
