import { describe, expect, it, vi } from "vitest";
import { actionApplies } from "../../firmware/actions/registry.js";
import { decide, explainSchedules } from "../../firmware/domain/decide.js";
import { meetsConfidence } from "../../firmware/domain/filters.js";
import type { ListDef, ListEntry, ListMatch } from "../../firmware/domain/lists.js";
import { compileScheduleSet } from "../../firmware/domain/schedule.js";
import type { ScheduleBook } from "../../firmware/domain/schedule-book.js";

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

describe("schedules", () => {
  const AMS = "Europe/Amsterdam";
  const book: ScheduleBook = {
    timeZone: AMS,
    byName: compileScheduleSet({
      holidayCalendars: [{ name: "NL", dates: [{ date: "2025-12-25", name: "Christmas" }] }],
      schedules: [
        {
          name: "Weekdays",
          windows: [{ days: ["mon", "tue", "wed", "thu", "fri"], from: "07:00", to: "18:00" }],
          holidays: ["NL"],
        },
        { name: "Mornings", windows: [{ days: [0, 1, 2, 3, 4, 5, 6], from: "06:00", to: "09:00" }] },
        { name: "Night", windows: [{ days: [0, 1, 2, 3, 4, 5, 6], from: "22:00", to: "06:00" }] },
      ],
    }),
  };
  const TUE_0800 = Date.parse("2025-01-07T07:00:00Z");
  const TUE_1000 = Date.parse("2025-01-07T09:00:00Z");
  const SAT_1000 = Date.parse("2025-01-11T09:00:00Z");
  const XMAS_1000 = Date.parse("2025-12-25T09:00:00Z");
  const contractors: ListDef = {
    id: 4,
    name: "Contractors",
    kind: "allow",
    maxDistance: 0,
    schedule: "Weekdays",
  };
  const nightBan: ListDef = { id: 5, name: "Night ban", kind: "block", maxDistance: 0, schedule: "Night" };
  const ct = (validity: Partial<ListEntry> = {}) => exact(contractors, entry(7, 4, "CT1", validity));

  it("a list's match counts only while its schedule is active; the reason and explanation say so", () => {
    const tue = decide("CT1", [ct()], TUE_1000, book);
    expect(tue).toMatchObject({
      result: "allow",
      reason: "CT1 is on allow list 'Contractors' (list schedule 'Weekdays' active)",
      at: TUE_1000,
      schedules: [{ of: "list", schedule: "Weekdays", active: true }],
      notInForce: null,
    });
    // The full explanation is built later, off the decision path, from the same book and time.
    expect(explainSchedules(tue)).toMatchObject([
      {
        of: "list",
        schedule: "Weekdays",
        active: true,
        by: "window",
        local: { weekday: "tue", time: "10:00" },
      },
    ]);
    const sat = decide("CT1", [ct()], SAT_1000, book);
    expect(sat).toMatchObject({
      result: "deny",
      reason:
        "CT1 is on allow list 'Contractors' but outside its schedule 'Weekdays' (no window covers sat 2025-01-11 10:00 local)",
      decisive: null,
      matches: [],
      builtIns: ["any-plate", "not-in-list"],
      schedules: [{ of: "list", schedule: "Weekdays", active: false }],
      notInForce: { because: "schedule" },
    });
    expect(explainSchedules(sat)).toMatchObject([{ active: false, by: "outside-windows" }]);
    expect(decide("CT1", [ct()], XMAS_1000, book).reason).toBe(
      "CT1 is on allow list 'Contractors' but outside its schedule 'Weekdays' (2025-12-25 is a holiday (Christmas, calendar 'NL'), closed all day)",
    );
  });

  it("an entry's schedule narrows its list's: both must be active", () => {
    const both = exact(contractors, entry(8, 4, "CT2", { schedule: "Mornings" }));
    expect(decide("CT2", [both], TUE_0800, book)).toMatchObject({
      result: "allow",
      reason:
        "CT2 is on allow list 'Contractors' (list schedule 'Weekdays' active, entry schedule 'Mornings' active)",
    });
    expect(decide("CT2", [both], TUE_1000, book)).toMatchObject({
      result: "deny",
      reason:
        "CT2 is on allow list 'Contractors' but the entry is outside its schedule 'Mornings' (no window covers tue 2025-01-07 10:00 local)",
      schedules: [
        { of: "list", active: true },
        { of: "entry", active: false },
      ],
    });
  });

  it("validity is reported before a schedule, and an unbound match is unaffected", () => {
    const expired = decide("CT1", [ct({ validTo: Date.parse("2025-01-01T00:00:00Z") })], SAT_1000, book);
    expect(expired).toMatchObject({ notInForce: { because: "expired" } });
    expect(expired.reason).toMatch(/but the entry expired/);
    expect(decide("AB1", [exact(allow, entry(1, 1, "AB1"))], SAT_1000, book)).toMatchObject({
      result: "allow",
      reason: "AB1 is on allow list 'Staff'",
      schedules: [],
    });
  });

  it("a block list bound to a schedule blocks only while it is active; an allow then decides", () => {
    const candidates = [exact(allow, entry(1, 1, "NB1")), exact(nightBan, entry(2, 5, "NB1"))];
    const night = decide("NB1", candidates, Date.parse("2025-01-07T22:30:00Z"), book);
    expect(night).toMatchObject({ result: "deny", decisive: { list: { name: "Night ban" } } });
    expect(night.reason).toBe("NB1 is on block list 'Night ban' (list schedule 'Night' active)");
    const day = decide("NB1", candidates, TUE_1000, book);
    expect(day).toMatchObject({ result: "allow", decisive: { list: { name: "Staff" } } });
    expect(day.matches.map((m) => m.list.name)).toEqual(["Staff"]); // actions on 'Night ban' do not fire
  });

  it("a schedule the book does not know fails safe: a block still blocks, an allow does not count", () => {
    const ghostAllow: ListDef = { ...allow, schedule: "Ghost" };
    const ghostBlock: ListDef = { ...block, schedule: "Ghost" };
    const a = decide("GH1", [exact(ghostAllow, entry(1, 1, "GH1"))], TUE_1000, book);
    expect(a).toMatchObject({ result: "deny", schedules: [{ schedule: "Ghost", active: false }] });
    expect(explainSchedules(a)).toMatchObject([{ by: "unknown-schedule", active: false }]);
    const b = decide("GH1", [exact(ghostBlock, entry(2, 2, "GH1"))], TUE_1000, book);
    expect(b).toMatchObject({ result: "deny", decisive: { list: { name: "Banned" } } });
  });

  it("an action bound to a schedule applies only while it is active at the decision's time", () => {
    const action = {
      on: { result: "allow" as const },
      enabled: true,
      schedule: "Night",
      do: { type: "barrier-open" as const },
    } as Parameters<typeof actionApplies>[0];
    const at = (ms: number) => decide("AB1", [exact(allow, entry(1, 1, "AB1"))], ms, book);
    expect(actionApplies(action, at(Date.parse("2025-01-07T22:30:00Z")), "1", book)).toBe(true);
    expect(actionApplies(action, at(TUE_1000), "1", book)).toBe(false);
    expect(actionApplies({ ...action, schedule: "Ghost" }, at(TUE_1000), "1", book)).toBe(false);
    expect(actionApplies({ ...action, schedule: undefined }, at(TUE_1000), "1", book)).toBe(true);
  });

  it("no Intl work per decision once the zone's offset for the quarter hour is cached", () => {
    const candidates = [ct(), exact(nightBan, entry(2, 5, "CT1"))];
    decide("CT1", candidates, TUE_1000, book);
    const format = vi.spyOn(Intl.DateTimeFormat.prototype, "formatToParts");
    try {
      for (let i = 0; i < 1000; i++) decide("CT1", candidates, TUE_1000 + i * 100, book);
      expect(format).not.toHaveBeenCalled();
    } finally {
      format.mockRestore();
    }
  });
});

describe("filters", () => {
  it("minimum confidence ignores weak reads and trusts cameras that send none", () => {
    expect(meetsConfidence(59.9, 60)).toBe(false);
    expect(meetsConfidence(60, 60)).toBe(true);
    expect(meetsConfidence(null, 60)).toBe(true);
  });
});
