import { describe, expect, it } from "vitest";
import { decide } from "../../firmware/domain/decide.js";
import { meetsConfidence } from "../../firmware/domain/filters.js";
import type { ListDef, ListEntry, ListMatch } from "../../firmware/domain/lists.js";

const NOW = Date.parse("2026-06-01T12:00:00Z");
const allow: ListDef = { id: 1, name: "Staff", kind: "allow", maxDistance: 1 };
const block: ListDef = { id: 2, name: "Banned", kind: "block", maxDistance: 0 };
const custom: ListDef = { id: 3, name: "Deliveries", kind: "custom", maxDistance: 0 };

function entry(id: number, listId: number, plate: string, validity: Partial<ListEntry> = {}): ListEntry {
  return { id, listId, plate, description: null, validFrom: null, validTo: null, ...validity };
}
const exact = (list: ListDef, e: ListEntry): ListMatch => ({ list, entry: e, match: { kind: "exact" } });

describe("decide", () => {
  it("allows a plate on an allow list and says so", () => {
    const d = decide("AB123CD", [exact(allow, entry(1, 1, "AB123CD"))], NOW);
    expect(d).toMatchObject({
      result: "allow",
      reason: "AB123CD is on allow list 'Staff'",
      builtIns: ["any-plate"],
    });
  });

  it("block beats allow", () => {
    const d = decide(
      "AB123CD",
      [exact(allow, entry(1, 1, "AB123CD")), exact(block, entry(2, 2, "AB123CD"))],
      NOW,
    );
    expect(d.result).toBe("deny");
    expect(d.decisive?.list.name).toBe("Banned");
  });

  it("an exact match beats a fuzzy one", () => {
    const fuzzy: ListMatch = {
      list: allow,
      entry: entry(5, 1, "AB123C0"),
      match: { kind: "fuzzy", distance: 0.5, edits: [] },
    };
    const d = decide("AB123CD", [fuzzy, exact(allow, entry(6, 1, "AB123CD"))], NOW);
    expect(d.decisive?.entry.id).toBe(6);
  });

  it("denies an expired or not-yet-valid entry with the date in the reason", () => {
    const expired = decide(
      "AB1",
      [exact(allow, entry(1, 1, "AB1", { validTo: Date.parse("2026-01-01T00:00:00Z") }))],
      NOW,
    );
    expect(expired).toMatchObject({
      result: "deny",
      reason: "AB1 is on allow list 'Staff' but the entry expired (2026-01-01T00:00:00.000Z)",
    });
    const future = decide(
      "AB1",
      [exact(allow, entry(1, 1, "AB1", { validFrom: Date.parse("2027-01-01T00:00:00Z") }))],
      NOW,
    );
    expect(future.reason).toMatch(/is not valid yet/);
    const inWindow = decide(
      "AB1",
      [exact(allow, entry(1, 1, "AB1", { validFrom: NOW - 1, validTo: NOW + 1 }))],
      NOW,
    );
    expect(inWindow.result).toBe("allow");
  });

  it("validTo is exclusive and validFrom inclusive", () => {
    expect(decide("AB1", [exact(allow, entry(1, 1, "AB1", { validTo: NOW }))], NOW).result).toBe("deny");
    expect(decide("AB1", [exact(allow, entry(1, 1, "AB1", { validFrom: NOW }))], NOW).result).toBe("allow");
  });

  it("a custom list grants nothing by itself; no list at all is 'not in list'", () => {
    const c = decide("DL1", [exact(custom, entry(1, 3, "DL1"))], NOW);
    expect(c).toMatchObject({
      result: "deny",
      reason: "DL1 is on custom list 'Deliveries', which grants no access",
    });
    const none = decide("ZZ9", [], NOW);
    expect(none).toMatchObject({
      result: "deny",
      reason: "ZZ9 is not on any list",
      builtIns: ["any-plate", "not-in-list"],
    });
  });
});

describe("filters", () => {
  it("minimum confidence ignores weak reads and trusts cameras that send none", () => {
    expect(meetsConfidence(59.9, 60)).toBe(false);
    expect(meetsConfidence(60, 60)).toBe(true);
    expect(meetsConfidence(null, 60)).toBe(true);
  });
});
