import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { areConfusable, normalisePlate, PlateError, skeleton } from "../../firmware/domain/plate.js";

describe("normalisePlate", () => {
  it.each([
    ["ab-123 cd", "AB123CD"],
    ["  AB 123 CD  ", "AB123CD"],
    ["ab–123—cd", "AB123CD"],
    ["AB.123.CD", "AB123CD"],
    ["m\u00fc-pc 1234", "MÜPC1234"],
    ["ß-AB 1", "SSAB1"],
  ])("%s → %s", (raw, normalised) => {
    expect(normalisePlate(raw).normalised).toBe(normalised);
  });

  it("composes a decomposed umlaut (NFC) so both encodings are the same plate, and keeps the raw text", () => {
    const decomposed = normalisePlate("MU\u0308 PC 1234");
    const composed = normalisePlate("M\u00dc PC 1234");
    expect(decomposed.normalised).toBe(composed.normalised);
    expect(decomposed.normalised).toBe("MÜPC1234");
    expect(decomposed.raw).toBe("MÜ PC 1234");
  });

  it("rejects empty, too long and symbol-laden plates with a reason", () => {
    expect(() => normalisePlate(" - ")).toThrow(/empty/);
    expect(() => normalisePlate("A".repeat(17))).toThrow(/longer than 16/);
    expect(() => normalisePlate("AB#123")).toThrow(/letters, digits/);
    expect(() => normalisePlate("AB<script>")).toThrow(PlateError);
  });

  it("is idempotent and only ever throws PlateError (fuzzed)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (text) => {
        try {
          const once = normalisePlate(text).normalised;
          expect(normalisePlate(once).normalised).toBe(once);
        } catch (err) {
          expect(err).toBeInstanceOf(PlateError);
        }
      }),
      { numRuns: 5000 },
    );
  });
});

describe("confusables", () => {
  it("knows the OCR pairs both ways and folds them to one skeleton", () => {
    for (const [a, b] of [
      ["O", "0"],
      ["I", "1"],
      ["B", "8"],
      ["S", "5"],
      ["Z", "2"],
      ["G", "6"],
      ["Ö", "O"],
    ]) {
      expect(areConfusable(a as string, b as string)).toBe(true);
      expect(areConfusable(b as string, a as string)).toBe(true);
    }
    expect(areConfusable("A", "B")).toBe(false);
    expect(skeleton("B0SS")).toBe(skeleton("8O55"));
    expect(skeleton("ABC")).not.toBe(skeleton("ABD"));
  });
});
