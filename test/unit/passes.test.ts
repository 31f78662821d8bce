/** Passes and priorities in the pure decision: visit counts, lane scope (lanes and groups), list priorities. */
import { describe, expect, it } from "vitest";
import { decide } from "../../firmware/domain/decide.js";
import type { ListDef, ListEntry, ListMatch } from "../../firmware/domain/lists.js";
import { type LaneBook, laneInScope } from "../../firmware/domain/passes.js";
import { NO_SCHEDULES } from "../../firmware/domain/schedule-book.js";
import { explain } from "../../firmware/gate.js";

const NOW = Date.parse("2026-06-01T12:00:00Z");
const visitors: ListDef = { id: 1, name: "Visitors", kind: "allow", maxDistance: 0 };
const banned: ListDef = { id: 2, name: "Banned", kind: "block", maxDistance: 0 };
const deliveries: ListDef = { id: 3, name: "Deliveries", kind: "custom", maxDistance: 0 };
const LANES: LaneBook = {
  lanes: new Set(["1", "2", "3"]),
  groups: new Map([["North", ["2", "3"]]]),
};

function entry(id: number, listId: number, pass: Partial<ListEntry> = {}): ListEntry {
  return { id, listId, plate: "AB123CD", description: null, validFrom: null, validTo: null, ...pass };
}
const exact = (list: ListDef, e: ListEntry): ListMatch => ({ list, entry: e, match: { kind: "exact" } });
const on = (lane: string) => ({ lane, lanes: LANES });

describe("visitor passes", () => {
  it("a pass with visits left allows, says which visit it is and records the pass state", () => {
    const d = decide("AB123CD", [exact(visitors, entry(7, 1, { maxVisits: 2, visitsUsed: 1 }))], NOW);
    expect(d.result).toBe("allow");
    expect(d.reason).toBe("AB123CD is on allow list 'Visitors' (visit 2 of 2)");
    expect(d.pass).toEqual({ entryId: 7, maxVisits: 2, visitsUsed: 1, lanes: null, consumes: true });
    expect(explain(d).pass).toEqual(d.pass);
  });

  it("a used-up pass does not match, and the reason gives the count", () => {
    const d = decide("AB123CD", [exact(visitors, entry(7, 1, { maxVisits: 2, visitsUsed: 2 }))], NOW);
    expect(d).toMatchObject({
      result: "deny",
      decisive: null,
      matches: [],
      builtIns: ["any-plate", "not-in-list"],
      reason: "AB123CD is on allow list 'Visitors' but its visitor pass is used up (2 of 2 visits)",
      notInForce: { because: "used-up" },
      pass: { maxVisits: 2, visitsUsed: 2, consumes: false },
    });
  });

  it("an entry without a visit count never uses one; a block entry never stops blocking by a count", () => {
    const plain = decide("AB123CD", [exact(visitors, entry(7, 1))], NOW);
    expect(plain.pass).toBeNull();
    expect(plain.reason).toBe("AB123CD is on allow list 'Visitors'");
    const block = decide("AB123CD", [exact(banned, entry(8, 2, { maxVisits: 0 }))], NOW);
    expect(block.result).toBe("deny");
    expect(block.decisive?.entry.id).toBe(8);
    expect(block.pass?.consumes).toBe(false);
  });

  it("a used-up pass lets the next match decide", () => {
    const other: ListDef = { id: 4, name: "Staff", kind: "allow", maxDistance: 0 };
    const d = decide(
      "AB123CD",
      [exact(visitors, entry(7, 1, { maxVisits: 1, visitsUsed: 1 })), exact(other, entry(9, 4))],
      NOW,
    );
    expect(d.result).toBe("allow");
    expect(d.decisive?.list.name).toBe("Staff");
    expect(d.pass).toBeNull();
  });
});

describe("lane scope", () => {
  const scoped = exact(visitors, entry(7, 1, { lanes: ["1"] }));

  it("matches on its lanes, not on others, and says which lanes it is for", () => {
    expect(decide("AB123CD", [scoped], NOW, NO_SCHEDULES, on("1")).result).toBe("allow");
    const d = decide("AB123CD", [scoped], NOW, NO_SCHEDULES, on("2"));
    expect(d).toMatchObject({
      result: "deny",
      reason: "AB123CD is on allow list 'Visitors' but it is not valid on lane 2 (pass for lanes: 1)",
      notInForce: { because: "lane" },
      pass: { lanes: ["1"], consumes: false },
    });
  });

  it("a lane group covers its lanes and is named in the reason", () => {
    const group = exact(visitors, entry(7, 1, { lanes: ["North"] }));
    expect(decide("AB123CD", [group], NOW, NO_SCHEDULES, on("3")).result).toBe("allow");
    expect(decide("AB123CD", [group], NOW, NO_SCHEDULES, on("1")).reason).toBe(
      "AB123CD is on allow list 'Visitors' but it is not valid on lane 1 (pass for lanes: group 'North' (2, 3))",
    );
  });

  it("an unknown name fails safe: an allow entry covers no lane by it, a block entry blocks everywhere", () => {
    const gone = entry(7, 1, { lanes: ["Removed"] });
    expect(laneInScope(gone, "1", LANES, "allow")).toBe(false);
    expect(laneInScope(gone, "1", LANES, "block")).toBe(true);
  });

  it("a scoped block entry blocks only on its lanes", () => {
    const candidates = [exact(visitors, entry(7, 1)), exact(banned, entry(8, 2, { lanes: ["2"] }))];
    expect(decide("AB123CD", candidates, NOW, NO_SCHEDULES, on("2")).result).toBe("deny");
    expect(decide("AB123CD", candidates, NOW, NO_SCHEDULES, on("1")).result).toBe("allow");
  });

  it("no lane given (a lookup outside a lane): the scope is not checked", () => {
    expect(decide("AB123CD", [scoped], NOW).result).toBe("allow");
  });
});

describe("priorities", () => {
  const both = (allowPriority?: number, blockPriority?: number) => [
    exact({ ...visitors, priority: allowPriority ?? null }, entry(7, 1)),
    exact({ ...banned, priority: blockPriority ?? null }, entry(8, 2)),
  ];

  it("by default block (100) beats allow (50), with the reason unchanged", () => {
    const d = decide("AB123CD", both(), NOW);
    expect(d.result).toBe("deny");
    expect(d.reason).toBe("AB123CD is on block list 'Banned'");
    expect(explain(d).matches.map((m) => [m.listName, m.priority])).toEqual([
      ["Banned", 100],
      ["Visitors", 50],
    ]);
  });

  it("an allow list configured above a block list overrides it, and says so", () => {
    const d = decide("AB123CD", both(200), NOW);
    expect(d.result).toBe("allow");
    expect(d.reason).toBe(
      "AB123CD is on allow list 'Visitors' (priority 200, above block list 'Banned' at 100)",
    );
    expect(explain(d).matches.map((m) => [m.listName, m.priority])).toEqual([
      ["Visitors", 200],
      ["Banned", 100],
    ]);
  });

  it("at equal priority block beats allow", () => {
    const d = decide("AB123CD", both(100), NOW);
    expect(d.result).toBe("deny");
    expect(d.reason).toBe(
      "AB123CD is on block list 'Banned' (priority 100, level with allow list 'Visitors' at 100)",
    );
  });

  it("a lower block priority than the default allow lets allow win", () => {
    expect(decide("AB123CD", both(undefined, 40), NOW).result).toBe("allow");
  });

  it("within a priority an exact match beats a fuzzy one; a higher priority beats exactness", () => {
    const staff: ListDef = { id: 5, name: "Staff", kind: "allow", maxDistance: 1 };
    const fuzzy: ListMatch = {
      list: staff,
      entry: { ...entry(9, 5), plate: "AB123C0" },
      match: { kind: "fuzzy", distance: 0.5, edits: [] },
    };
    const exactOne = exact(visitors, entry(7, 1));
    expect(decide("AB123CD", [fuzzy, exactOne], NOW).decisive?.entry.id).toBe(7);
    const higher = { ...fuzzy, list: { ...staff, priority: 60 } };
    expect(decide("AB123CD", [exactOne, higher], NOW).decisive?.entry.id).toBe(9);
  });

  it("a custom list grants and refuses nothing, whatever its priority", () => {
    const d = decide(
      "AB123CD",
      [exact({ ...deliveries, priority: 500 }, entry(10, 3)), exact(visitors, entry(7, 1))],
      NOW,
    );
    expect(d.result).toBe("allow");
    expect(d.matches.map((m) => m.list.name)).toEqual(["Deliveries", "Visitors"]);
  });

  it("a used-up allow pass above a block list no longer overrides it", () => {
    const d = decide(
      "AB123CD",
      [
        exact({ ...visitors, priority: 200 }, entry(7, 1, { maxVisits: 1, visitsUsed: 1 })),
        exact(banned, entry(8, 2)),
      ],
      NOW,
    );
    expect(d.result).toBe("deny");
    expect(d.decisive?.list.name).toBe("Banned");
  });
});
