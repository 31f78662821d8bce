/** Wiegand layouts and card-number sources: published vectors, an independent reference, properties. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nedapSha1Card, plateDigits, schema, wiegandActionProblems } from "../../firmware/actions/wiegand.js";
import { checker } from "../../firmware/config/validate.js";
import {
  decodeWiegand,
  encodeWiegand,
  fieldMax,
  layoutProblems,
  range,
  WIEGAND_FORMATS,
  type WiegandLayout,
} from "../../hal/wiegand-format.js";

const F = WIEGAND_FORMATS;

describe("known vectors (shared/protocols.md §1.2–1.6)", () => {
  it.each([
    ["26-h10301", 123, 4567, "10111101100010001110101110"],
    ["34-h10306", 1234, 56789, "1000001001101001011011101110101010"],
    ["35-corporate1000", 1234, 56789, "01010011010010000011011101110101010"],
    // Nedap's "HK55EVB": SHA-1 low 24 bits 0x80CF15 = FC 128, CN 53013.
    ["26-h10301", 128, 53013, "11000000011001111000101010"],
  ] as const)("%s FC %i CN %i", (id, facility, card, bits) => {
    expect(encodeWiegand(F[id], { facility, card })).toBe(bits);
    expect(decodeWiegand(F[id], bits)).toEqual({ facility, card, badParity: [] });
  });

  it("34-bit with a 32-bit card number: the Hikvision manual's card 1234567890", () => {
    const bits = `1${(1234567890).toString(2).padStart(32, "0")}0`;
    expect(bits).toBe("1010010011001011000000010110100100");
    expect(encodeWiegand(F["34-card32"], { card: 1234567890 })).toBe(bits);
  });

  it("Nedap SHA-1: HK55EVB → FC 128, CN 53013 (upper-cased, spaces removed)", () => {
    expect(nedapSha1Card("HK55EVB")).toEqual({ facility: 128, card: 53013 });
    expect(nedapSha1Card("hk 55 evb")).toEqual({ facility: 128, card: 53013 });
  });

  it("plate digits", () => {
    expect(plateDigits("MÜPC1234")).toBe(1234);
    expect(plateDigits("KA777")).toBe(777);
    expect(() => plateDigits("ABCDEF")).toThrow(/ABCDEF has no digits/);
  });
});

/** Proxmark3's packers (client/src/wiegand_formats.c), transcribed with their bit masks, as an independent check. */
function parity(v: bigint): number {
  let ones = 0;
  for (let x = v; x > 0n; x >>= 1n) ones += Number(x & 1n);
  return ones % 2;
}
const even = (v: bigint): bigint => BigInt(parity(v));
const odd = (v: bigint): bigint => BigInt(1 - parity(v));

function proxmarkH10301(fc: number, cn: number): string {
  let bot = (BigInt(cn) & 0xffffn) << 1n;
  bot |= (BigInt(fc) & 0xffn) << 17n;
  bot |= odd((bot >> 1n) & 0xfffn);
  bot |= even((bot >> 13n) & 0xfffn) << 25n;
  return bot.toString(2).padStart(26, "0");
}

function proxmarkC1k35s(fc: number, cn: number): string {
  let bot = (BigInt(cn) & 0xfffffn) << 1n;
  bot |= (BigInt(fc) & 0x7ffn) << 21n;
  let mid = (BigInt(fc) & 0x800n) >> 11n;
  mid |= even((mid & 1n) ^ (bot & 0xb6db6db6n)) << 1n;
  bot |= odd((mid & 3n) ^ (bot & 0x6db6db6cn));
  mid |= odd((mid & 3n) ^ (bot & 0xffffffffn)) << 2n;
  return ((mid << 32n) | bot).toString(2).padStart(35, "0");
}

function proxmarkH10304(fc: number, cn: number): string {
  // set_linear_field(…, 1, 16) / (…, 17, 19): 0-indexed from the first bit sent.
  const bits = new Array<number>(37).fill(0);
  for (let i = 0; i < 16; i++) bits[1 + i] = (fc >> (15 - i)) & 1;
  for (let i = 0; i < 19; i++) bits[17 + i] = (cn >> (18 - i)) & 1;
  const ones = (from: number, n: number) => bits.slice(from, from + n).reduce((a, b) => a + b, 0);
  bits[0] = ones(1, 18) % 2;
  bits[36] = 1 - (ones(18, 18) % 2);
  return bits.join("");
}

describe("against Proxmark3's packers", () => {
  it("26-bit H10301", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 65535 }), (f, c) => {
        expect(encodeWiegand(F["26-h10301"], { facility: f, card: c })).toBe(proxmarkH10301(f, c));
      }),
    );
  });
  it("35-bit Corporate 1000 (interleaved parity masks)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 0, max: 1048575 }), (f, c) => {
        expect(encodeWiegand(F["35-corporate1000"], { facility: f, card: c })).toBe(proxmarkC1k35s(f, c));
      }),
    );
  });
  it("37-bit H10304 (bit 19 under both parity bits)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 524287 }), (f, c) => {
        expect(encodeWiegand(F["37-h10304"], { facility: f, card: c })).toBe(proxmarkH10304(f, c));
      }),
    );
  });
});

describe("properties of every built-in layout", () => {
  const layouts = Object.values(F) as WiegandLayout[];
  const data = (l: WiegandLayout) =>
    fc.record({
      layout: fc.constant(l),
      facility: fc.integer({ min: 0, max: fieldMax(l, "facility") ?? 0 }),
      card: fc.integer({ min: 0, max: fieldMax(l, "card") ?? 0 }),
    });

  it("encode → decode round trip, parity always right, every single-bit flip caught", () => {
    fc.assert(
      fc.property(fc.oneof(...layouts.map(data)), fc.nat(), ({ layout, facility, card }, flipAt) => {
        const hasFacility = fieldMax(layout, "facility") !== undefined;
        const bits = encodeWiegand(layout, { facility: hasFacility ? facility : undefined, card });
        expect(bits).toMatch(new RegExp(`^[01]{${layout.bits}}$`));
        const decoded = decodeWiegand(layout, bits);
        expect(decoded).toEqual({ ...(hasFacility ? { facility } : {}), card, badParity: [] });
        // Every bit is covered by a parity bit (or is one) in these layouts, so one flip is always detected.
        const i = flipAt % layout.bits;
        const flipped = bits.slice(0, i) + (bits[i] === "1" ? "0" : "1") + bits.slice(i + 1);
        expect(decodeWiegand(layout, flipped).badParity.length).toBeGreaterThan(0);
      }),
    );
  });

  it("out-of-range values are rejected, naming the layout and the field", () => {
    fc.assert(
      fc.property(fc.constantFrom(...layouts), fc.integer({ min: 1, max: 1_000_000 }), (layout, over) => {
        const cardMax = fieldMax(layout, "card") ?? 0;
        expect(() => encodeWiegand(layout, { card: cardMax + over })).toThrow(
          new RangeError(`${layout.name}: card ${cardMax + over} is out of range 0..${cardMax}`),
        );
        const facilityMax = fieldMax(layout, "facility");
        if (facilityMax === undefined) {
          expect(() => encodeWiegand(layout, { facility: over, card: 0 })).toThrow(/has no facility field/);
        } else {
          expect(() => encodeWiegand(layout, { facility: facilityMax + over, card: 0 })).toThrow(
            `${layout.name}: facility ${facilityMax + over} is out of range 0..${facilityMax}`,
          );
        }
        expect(() => encodeWiegand(layout, { card: -over })).toThrow(/card -\d+ is out of range/);
        expect(() => encodeWiegand(layout, { card: 0.5 })).toThrow(/card 0.5 is out of range/);
      }),
    );
  });
});

describe("custom layouts", () => {
  it("a 26-bit layout written out by hand equals H10301", () => {
    const custom: WiegandLayout = {
      name: "my 26",
      bits: 26,
      fields: [
        { name: "facility", start: 2, length: 8 },
        { name: "card", start: 10, length: 16 },
      ],
      parity: [
        { position: 1, kind: "even", covers: range(2, 13) },
        { position: 26, kind: "odd", covers: range(14, 25) },
      ],
    };
    expect(encodeWiegand(custom, { facility: 123, card: 4567 })).toBe("10111101100010001110101110");
  });

  it("a parity bit covering another is computed after it; a layout without parity works", () => {
    const l: WiegandLayout = {
      name: "nested",
      bits: 6,
      fields: [{ name: "card", start: 3, length: 4 }],
      parity: [
        { position: 1, kind: "odd", covers: [2, 3, 4, 5, 6] },
        { position: 2, kind: "even", covers: [3, 4] },
      ],
    };
    const bits = encodeWiegand(l, { card: 0b1000 });
    expect(bits).toBe("111000");
    expect(decodeWiegand(l, bits).badParity).toEqual([]);
    const plain: WiegandLayout = {
      name: "plain",
      bits: 4,
      fields: [{ name: "card", start: 1, length: 4 }],
      parity: [],
    };
    expect(encodeWiegand(plain, { card: 9 })).toBe("1001");
  });

  it("names every problem of a broken layout", () => {
    const broken: WiegandLayout = {
      name: "broken",
      bits: 8,
      fields: [
        { name: "card", start: 2, length: 4 },
        { name: "facility", start: 5, length: 2 },
      ],
      parity: [
        { position: 1, kind: "even", covers: [2, 9] },
        { position: 7, kind: "odd", covers: [8] },
        { position: 8, kind: "odd", covers: [7] },
      ],
    };
    expect(layoutProblems(broken)).toEqual([
      "field facility: bit 5 is already used by field card",
      "parity bit 1: covers bit 9, outside 1..8",
    ]);
    const cycle: WiegandLayout = {
      ...broken,
      fields: [{ name: "card", start: 2, length: 5 }],
      parity: broken.parity.slice(1).concat({ position: 1, kind: "even", covers: [2] }),
    };
    expect(layoutProblems(cycle)).toEqual(["parity bits cover each other in a cycle"]);
    expect(() => encodeWiegand(cycle, { card: 1 })).toThrow(/broken.*cycle/);
    expect(layoutProblems({ ...cycle, parity: [] })).toEqual([
      "bit 1 belongs to no field or parity bit",
      "bit 7 belongs to no field or parity bit",
      "bit 8 belongs to no field or parity bit",
    ]);
  });
});

describe("the wiegand action's config", () => {
  const parse = checker(schema);
  const base = { type: "wiegand", device: "door" } as const;

  it("the schema accepts every built-in format id, and a custom layout with ranges", () => {
    for (const format of Object.keys(F)) {
      expect(() => parse.parse({ ...base, format, source: "fixed", code: 1 }, "t")).not.toThrow();
    }
    const custom = parse.parse(
      {
        ...base,
        source: "plate-digits",
        facility: 7,
        format: {
          bits: 26,
          facility: { start: 2, length: 8 },
          card: { start: 10, length: 16 },
          parity: [
            { position: 1, kind: "even", covers: [[2, 13]] },
            { position: 26, kind: "odd", covers: [[14, 24], 25] },
          ],
        },
      },
      "t",
    );
    expect(wiegandActionProblems(custom, "/do")).toEqual([]);
  });

  it("cross-field problems name the path and the field", () => {
    const problems = (c: Record<string, unknown>) =>
      wiegandActionProblems(parse.parse({ ...base, ...c }, "t"), "/do");
    expect(problems({ format: "26-h10301", source: "fixed", code: 70000, facility: 1 })).toEqual([
      "/do/code 70000 is out of range 0..65535 for 26-bit H10301",
    ]);
    expect(problems({ format: "26-h10301", source: "plate-digits" })).toEqual([
      "/do/facility is required by 26-bit H10301",
    ]);
    expect(problems({ format: "34-h10306", source: "nedap-sha1" })).toEqual([
      "/do/format must be 26-h10301 with source nedap-sha1",
    ]);
    expect(
      problems({ format: "34-card32", source: "fixed", code: 5, facility: 2, notInListCode: 2 ** 33 }),
    ).toEqual([
      "/do/notInListCode 8589934592 is out of range 0..4294967295 for 34-bit 32-bit card number",
      "/do/facility: 34-bit 32-bit card number has no facility field",
    ]);
    expect(problems({ format: "26-h10301", source: "fixed", facility: 1 })).toEqual([
      "/do/code is required with source fixed",
    ]);
  });
});
