import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { describeEdits, weightedDistance } from "../../firmware/domain/fuzzy.js";

describe("weightedDistance", () => {
  it("is 0 for equal plates", () => {
    expect(weightedDistance("AB123CD", "AB123CD", 0)).toEqual({ distance: 0, edits: [] });
  });

  it("charges OCR confusions half an edit and names them", () => {
    const r = weightedDistance("AB12JCO", "AB12JC0", 1);
    expect(r?.distance).toBe(0.5);
    expect(r?.edits).toEqual([{ op: "substitute", at: 6, from: "O", to: "0", cost: 0.5 }]);
    expect(describeEdits(r?.edits ?? [])).toBe("O→0 at 7 (OCR confusion)");
  });

  it("counts plain substitutions, insertions and deletions as one each", () => {
    expect(weightedDistance("AB123CD", "AX123CD", 1)?.edits).toEqual([
      { op: "substitute", at: 1, from: "B", to: "X", cost: 1 },
    ]);
    expect(weightedDistance("AB123D", "AB123CD", 1)?.edits).toEqual([
      { op: "insert", at: 5, char: "C", cost: 1 },
    ]);
    expect(weightedDistance("AB1223CD", "AB123CD", 1)?.distance).toBe(1);
    expect(describeEdits(weightedDistance("AB123D", "AB123CD", 1)?.edits ?? [])).toBe("missing 'C' at 6");
  });

  it("two confusions fit within distance 1; a confusion plus a plain edit does not", () => {
    expect(weightedDistance("8O12", "B012", 1)?.distance).toBe(1);
    expect(weightedDistance("8O12X", "B012Y", 1)).toBeNull();
  });

  it("returns null beyond the limit", () => {
    expect(weightedDistance("AB123CD", "ZZ999ZZ", 1)).toBeNull();
    expect(weightedDistance("AB", "ABCD", 1)).toBeNull();
  });

  it("is symmetric, zero only on equality, and its edits add up to the distance (property)", () => {
    const plate = fc.string({
      unit: fc.constantFrom(..."AB8O0ISZ21LXQ5".split("")),
      minLength: 1,
      maxLength: 9,
    });
    fc.assert(
      fc.property(plate, plate, (a, b) => {
        const ab = weightedDistance(a, b, 100);
        const ba = weightedDistance(b, a, 100);
        expect(ab?.distance).toBe(ba?.distance);
        expect(ab?.distance === 0).toBe(a === b);
        const sum = (ab?.edits ?? []).reduce((s, e) => s + e.cost, 0);
        expect(sum).toBeCloseTo(ab?.distance ?? -1, 9);
      }),
      { numRuns: 3000 },
    );
  });
});
