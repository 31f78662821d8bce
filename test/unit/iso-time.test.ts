/** isoTime is a faster `new Date(ms).toISOString()`: it must give the same text for every instant, or throw alike. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isoTime } from "../../firmware/util/time.js";

const reference = (ms: number): string => {
  try {
    return new Date(ms).toISOString();
  } catch (err) {
    return `throws ${(err as Error).name}`;
  }
};
const actual = (ms: number): string => {
  try {
    return isoTime(ms);
  } catch (err) {
    return `throws ${(err as Error).name}`;
  }
};

describe("isoTime", () => {
  it("formats like Date.prototype.toISOString at the edges", () => {
    const edges = [
      0,
      -0,
      1,
      999,
      1000,
      59_999,
      60_000,
      3_599_999,
      86_399_999,
      86_400_000,
      1.5,
      999.999,
      -1,
      -0.5,
      951_782_400_000,
      253_402_300_799_999,
      253_402_300_800_000,
      8.64e15,
      8.64e15 + 1,
      -8.64e15,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ];
    for (const ms of edges) expect(actual(ms), String(ms)).toBe(reference(ms));
  });

  it("formats like Date.prototype.toISOString for any instant, whole or fractional", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: -1e13, max: 3e14 }), fc.double({ min: -1e13, max: 3e14 })),
        (ms) => {
          expect(actual(ms)).toBe(reference(ms));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it("formats instants of different days one after another", () => {
    const now = Date.UTC(2026, 10, 22, 23, 59, 59, 999);
    for (const ms of [now, now + 1, now - 86_400_000, now + 1, now]) expect(isoTime(ms)).toBe(reference(ms));
  });
});
