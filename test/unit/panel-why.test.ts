/**
 * The panel's "Why" rows (ui/src/lib/why.ts) for real explanations: each one is made by the controller's own
 * code — decide(), the presence check, the schedule book and gate.ts's explain() — and passed through JSON as
 * GET /api/v1/events/{id} serves it, so a change of the stored shape shows up here.
 */
import { describe, expect, it } from "vitest";
import type { ApprovalExplanation } from "../../firmware/approvals.js";
import { type DecideContext, decide } from "../../firmware/domain/decide.js";
import { weightedDistance } from "../../firmware/domain/fuzzy.js";
import type { ListDef, ListEntry, ListMatch } from "../../firmware/domain/lists.js";
import type { LaneBook } from "../../firmware/domain/passes.js";
import {
  assessPassage,
  type Movement,
  type PresenceCheck,
  withPresence,
  type ZonePolicy,
} from "../../firmware/domain/presence.js";
import { compileScheduleSet } from "../../firmware/domain/schedule.js";
import type { ScheduleBook } from "../../firmware/domain/schedule-book.js";
import { type Explanation, explain } from "../../firmware/gate.js";
import { editText, type WhyRow, whyRows } from "../../ui/src/lib/why.js";

/** Monday 2025-01-13 10:00 UTC (the book's zone is UTC, so local times read the same). */
const MON_1000 = Date.parse("2025-01-13T10:00:00Z");
const TUE_1000 = Date.parse("2025-01-14T10:00:00Z");
const WED_1000 = Date.parse("2025-01-15T10:00:00Z");
const SAT_1000 = Date.parse("2025-01-18T10:00:00Z");
const SAT_0300 = Date.parse("2025-01-18T03:00:00Z");
const UTC = { timeZone: "UTC" };

const book: ScheduleBook = {
  timeZone: "UTC",
  byName: compileScheduleSet({
    holidayCalendars: [
      {
        name: "NL",
        dates: [
          { date: "2025-01-14", name: "Closing day" },
          { date: "2025-01-15", name: "Half day", windows: [{ from: "08:00", to: "12:00" }] },
        ],
      },
    ],
    schedules: [
      {
        name: "Weekdays",
        windows: [{ days: ["mon", "tue", "wed", "thu", "fri"], from: "07:00", to: "18:00" }],
        holidays: ["NL"],
      },
      { name: "Night", windows: [{ days: ["fri"], from: "22:00", to: "06:00" }] },
    ],
  }),
};
const LANES: LaneBook = { lanes: new Set(["1", "2", "3"]), groups: new Map([["North", ["2", "3"]]]) };

const staff: ListDef = { id: 1, name: "Staff", kind: "allow", maxDistance: 0, schedule: "Weekdays" };
const fleet: ListDef = { id: 2, name: "Fleet", kind: "allow", maxDistance: 1 };
const vip: ListDef = { id: 3, name: "VIP", kind: "allow", maxDistance: 0, priority: 200 };
const banned: ListDef = { id: 4, name: "Block", kind: "block", maxDistance: 0 };
const visitors: ListDef = { id: 5, name: "Visitors", kind: "allow", maxDistance: 0 };
const watch: ListDef = { id: 6, name: "Watch", kind: "custom", maxDistance: 0 };
const night: ListDef = { id: 7, name: "Night shift", kind: "allow", maxDistance: 0 };

function entry(id: number, list: ListDef, plate: string, more: Partial<ListEntry> = {}): ListEntry {
  return { id, listId: list.id, plate, description: null, validFrom: null, validTo: null, ...more };
}

/** A candidate as the store finds it: exact, or fuzzy with the real weighted distance and its edits. */
function candidate(list: ListDef, read: string, e: ListEntry): ListMatch {
  if (read === e.plate) return { list, entry: e, match: { kind: "exact" } };
  const fuzzy = weightedDistance(read, e.plate, list.maxDistance);
  if (!fuzzy) throw new Error(`${read} does not match ${e.plate} within ${list.maxDistance}`);
  return { list, entry: e, match: { kind: "fuzzy", ...fuzzy } };
}

/** The explanation as the API serves it (JSON), from the controller's own decision. */
function stored(explanation: Explanation): unknown {
  return JSON.parse(JSON.stringify(explanation));
}

function decided(
  read: string,
  candidates: ListMatch[],
  at = MON_1000,
  context: DecideContext = { lane: "1", lanes: LANES },
) {
  const decision = decide(read, candidates, at, book, context);
  return { decision, explanation: stored(explain(decision)) };
}

const ZONE: ZonePolicy = {
  name: "Car park",
  capacity: 2,
  countVisitorsOnly: false,
  antiPassback: "hard",
  resetAfterMs: 86_400_000,
  fullDenies: "visitors",
};

/** A decision through a zone, as the gate makes it: the list decision, the presence check, `applied`. */
function throughZone(
  read: string,
  candidates: ListMatch[],
  zone: {
    policy?: Partial<ZonePolicy>;
    count?: number;
    inside?: [string, number][];
    movement?: Movement | null;
  },
  opened: boolean,
) {
  const list = decide(read, candidates, MON_1000, book, { lane: "1", lanes: LANES });
  const movement = zone.movement === undefined ? "entry" : zone.movement;
  const check: PresenceCheck = assessPassage({
    policy: { ...ZONE, ...zone.policy },
    state: { count: zone.count ?? 0, inside: new Map(zone.inside ?? []) },
    plate: read,
    movement,
    movementFrom: movement ? "lane" : null,
    listed: list.result === "allow",
    now: MON_1000,
    formatTime: (ms) => new Date(ms).toISOString().slice(11, 16),
  });
  const decision = withPresence(list, check);
  const applied = check.effect != null && opened && !check.veto;
  return { decision, explanation: stored(explain(decision, { ...check, applied })) };
}

const byKey = (rows: WhyRow[]) => Object.fromEntries(rows.map((r) => [r.key, r]));
const texts = (rows: WhyRow[]) => rows.map((r) => `${r.label}: ${r.text}`);

describe("whyRows: list matches", () => {
  it("an exact match on a list with a schedule: the list, its priority, exact, decided; the schedule's window", () => {
    const { decision, explanation } = decided("ST1001", [
      candidate(staff, "ST1001", entry(11, staff, "ST1001")),
    ]);
    expect(decision.result).toBe("allow");
    const rows = whyRows(explanation, undefined, UTC);
    expect(texts(rows)).toEqual([
      "Decided by: allow list 'Staff'",
      "Match: 'Staff' · allow · priority 50 · exact · decided",
      "List schedule: 'Weekdays' active · inside window mon–fri 07:00–18:00 at mon 10:00",
    ]);
    const row = byKey(rows);
    expect(row.decided?.tone).toBe("ok");
    expect(row["match-1"]?.decisive).toBe(true);
    expect(row["schedule-1"]?.tone).toBe("ok");
  });

  it("a fuzzy match names each edit (positions in the read plate) and the plate it is listed as", () => {
    const { decision, explanation } = decided("FL5ST01", [
      candidate(fleet, "FL5ST01", entry(12, fleet, "FL55T01")),
    ]);
    expect(decision.reason).toContain("S→5 at 4");
    const rows = whyRows(explanation, undefined, UTC);
    expect(byKey(rows)["match-1"]?.text).toBe(
      "'Fleet' · allow · priority 50 · fuzzy 0.5: S→5 at 4 (OCR), listed as FL55T01 · decided",
    );
    // An O read for a listed 0, and a real (non-OCR) substitution plus an insertion.
    const two = decided("AB12OCD", [candidate(fleet, "AB12OCD", entry(13, fleet, "AB120CD"))]);
    expect(byKey(whyRows(two.explanation))["match-1"]?.text).toContain("fuzzy 0.5: O→0 at 5 (OCR)");
    expect(editText({ op: "substitute", at: 0, from: "X", to: "K", cost: 1 })).toBe("X→K at 1");
    expect(editText({ op: "insert", at: 6, char: "D", cost: 1 })).toBe("missing 'D' at 7");
    expect(editText({ op: "delete", at: 2, char: "Q", cost: 1 })).toBe("extra 'Q' at 3");
  });

  it("several matches best first with their priorities; only the decisive one is marked", () => {
    const { decision, explanation } = decided("VIP1", [
      candidate(banned, "VIP1", entry(21, banned, "VIP1")),
      candidate(vip, "VIP1", entry(22, vip, "VIP1")),
    ]);
    expect(decision.result).toBe("allow");
    const rows = whyRows(explanation);
    expect(texts(rows)).toEqual([
      "Decided by: allow list 'VIP'",
      "Match 1: 'VIP' · allow · priority 200 · exact · decided",
      "Match 2: 'Block' · block · priority 100 · exact",
    ]);
    expect(rows.filter((r) => r.decisive).map((r) => r.key)).toEqual(["match-1"]);
  });

  it("a block list decides; a custom list alone decides but grants nothing", () => {
    const block = decided("XY999ZZ", [candidate(banned, "XY999ZZ", entry(31, banned, "XY999ZZ"))]);
    expect(byKey(whyRows(block.explanation)).decided).toMatchObject({
      text: "block list 'Block'",
      tone: "bad",
    });
    const custom = decided("WA1", [candidate(watch, "WA1", entry(32, watch, "WA1"))]);
    expect(texts(whyRows(custom.explanation))).toEqual([
      "Decided by: custom list 'Watch' (grants no access)",
      "Match: 'Watch' · custom · priority 10 · exact · decided",
    ]);
  });

  it("a plate on no list: the built-in decided", () => {
    const { explanation } = decided("NO1234", []);
    const rows = whyRows(explanation);
    expect(texts(rows)).toEqual(["Decided by: not on any list", "Match: built-in “not on any list”"]);
    expect(byKey(rows)["match-1"]?.decisive).toBe(true);
  });
});

describe("whyRows: schedules and entries not in force", () => {
  it("outside the list's schedule on a closed holiday: which entry would have decided, and the holiday", () => {
    const { decision, explanation } = decided(
      "CT100AA",
      [candidate(staff, "CT100AA", entry(41, staff, "CT100AA"))],
      TUE_1000,
    );
    expect(decision.result).toBe("deny");
    expect(texts(whyRows(explanation, { laneId: "1", listName: null, listKind: null }, UTC))).toEqual([
      "Decided by: no list in force: “not on any list”",
      "Match: built-in “not on any list”",
      "List schedule: 'Weekdays' not active · holiday 2025-01-14 (Closing day, calendar 'NL'): closed all day",
      "Not in force: allow list 'Staff' would have decided, but outside its schedule 'Weekdays'",
    ]);
  });

  it("a holiday's own window, no window at the weekend, and a night window that began the day before", () => {
    const half = decided("CT100AA", [candidate(staff, "CT100AA", entry(41, staff, "CT100AA"))], WED_1000);
    expect(byKey(whyRows(half.explanation))["schedule-1"]?.text).toBe(
      "'Weekdays' active · holiday 2025-01-15 (Half day, calendar 'NL'), open 08:00–12:00 at wed 10:00",
    );
    const weekend = decided("CT100AA", [candidate(staff, "CT100AA", entry(41, staff, "CT100AA"))], SAT_1000);
    expect(byKey(whyRows(weekend.explanation))["schedule-1"]).toMatchObject({
      label: "List schedule",
      text: "'Weekdays' not active · no window covers sat 2025-01-18 10:00",
      tone: "warn",
    });
    // The entry's own schedule: Friday 22:00–06:00, read on Saturday 03:00.
    const shift = entry(42, night, "NS1", { schedule: "Night" });
    const late = decided("NS1", [candidate(night, "NS1", shift)], SAT_0300);
    expect(byKey(whyRows(late.explanation))["schedule-1"]).toMatchObject({
      label: "Entry schedule",
      text: "'Night' active · inside window fri 22:00–06:00, began 2025-01-17 at sat 03:00",
    });
    const day = decided("NS1", [candidate(night, "NS1", shift)], SAT_1000);
    expect(byKey(whyRows(day.explanation))["not-in-force"]?.text).toBe(
      "allow list 'Night shift' would have decided, but the entry is outside its schedule 'Night'",
    );
  });

  it("an expired entry and one not valid yet", () => {
    const old = entry(43, visitors, "OLD1", { validTo: MON_1000 - 1 });
    expect(
      byKey(whyRows(decided("OLD1", [candidate(visitors, "OLD1", old)]).explanation))["not-in-force"]?.text,
    ).toBe("allow list 'Visitors' would have decided, but the entry has expired");
    const soon = entry(44, visitors, "NEW1", { validFrom: MON_1000 + 1 });
    expect(
      byKey(whyRows(decided("NEW1", [candidate(visitors, "NEW1", soon)]).explanation))["not-in-force"]?.text,
    ).toBe("allow list 'Visitors' would have decided, but the entry is not valid yet");
  });
});

describe("whyRows: passes", () => {
  it("a visit used by this decision; a pass used up; a pass for other lanes", () => {
    const first = decided("VIS1", [
      candidate(visitors, "VIS1", entry(51, visitors, "VIS1", { maxVisits: 2, visitsUsed: 1 })),
    ]);
    expect(byKey(whyRows(first.explanation)).pass?.text).toBe(
      "visits used 1 / 2 · every lane · this decision used visit 2",
    );

    const usedUp = decided("VIS1", [
      candidate(visitors, "VIS1", entry(51, visitors, "VIS1", { maxVisits: 2, visitsUsed: 2 })),
    ]);
    const rows = byKey(whyRows(usedUp.explanation, { laneId: "1", listName: null, listKind: null }));
    expect(rows["not-in-force"]?.text).toBe(
      "allow list 'Visitors' would have decided, but its visitor pass is used up (2 of 2 visits)",
    );
    expect(rows.pass?.text).toBe("visits used 2 / 2 · every lane · no visit used");

    const north = entry(52, visitors, "VIS2", { lanes: ["North"] });
    const elsewhere = decided("VIS2", [candidate(visitors, "VIS2", north)]);
    const lane = byKey(whyRows(elsewhere.explanation, { laneId: "1", listName: null, listKind: null }));
    expect(lane["not-in-force"]?.text).toBe(
      "allow list 'Visitors' would have decided, but not valid on lane 1 (valid on North)",
    );
    expect(lane.pass?.text).toBe("unlimited visits · lanes: North");
  });
});

describe("whyRows: zones", () => {
  const allowOn = (plate: string) => [candidate(visitors, plate, entry(61, visitors, plate))];

  it("an entry let in: movement and where it came from, mode, count/capacity, applied", () => {
    const { explanation } = throughZone("ZN1001", allowOn("ZN1001"), { count: 0 }, true);
    expect(texts(whyRows(explanation, undefined, UTC)).slice(2)).toEqual([
      "Zone: 'Car park' · entry (from the lane) · anti-passback hard · not inside",
      "Occupancy: 0 / 2",
      "Passage: applied: entry recorded, count 0 → 1",
    ]);
  });

  it("hard anti-passback: the zone decided, inside since, the veto sentence, the overruled list match", () => {
    const entered = Date.parse("2025-01-13T08:15:00Z");
    const { decision, explanation } = throughZone(
      "ZN1001",
      allowOn("ZN1001"),
      { count: 1, inside: [["ZN1001", entered]] },
      false,
    );
    expect(decision.result).toBe("deny");
    // From the explanation alone: it keeps the overruled match.
    const rows = whyRows(explanation, undefined, UTC);
    expect(texts(rows)).toEqual([
      "Decided by: zone 'Car park': anti-passback",
      "Match: 'Visitors' · allow · priority 50 · exact · overruled by the zone",
      "Zone: 'Car park' · entry (from the lane) · anti-passback hard · inside since 08:15",
      "Occupancy: 1 / 2",
      "Anti-passback: ZN1001 entered zone 'Car park' at 08:15 and has not left (anti-passback)",
      "Passage: refused: nothing counted",
    ]);
    expect(rows.filter((r) => r.decisive).map((r) => r.key)).toEqual(["zone-veto"]);
    expect(byKey(rows)["zone-veto"]?.tone).toBe("bad");
  });

  it("full for visitors; soft anti-passback flagged; an exit without entry; no movement", () => {
    const full = throughZone("ZZ9999", [], { count: 2 }, false);
    const f = byKey(whyRows(full.explanation));
    expect(f.decided?.text).toBe("zone 'Car park': full");
    expect(f["zone-count"]).toMatchObject({ text: "2 / 2 · full", tone: "warn" });
    expect(f["zone-veto"]).toMatchObject({
      label: "Zone full",
      text: "zone 'Car park' is full (2/2): only plates on an allow list may enter",
    });

    const soft = throughZone(
      "SO1001",
      allowOn("SO1001"),
      {
        policy: { antiPassback: "soft", capacity: undefined },
        count: 1,
        inside: [["SO1001", MON_1000 - 60_000]],
      },
      true,
    );
    const s = byKey(whyRows(soft.explanation, undefined, UTC));
    expect(s.decided?.text).toBe("allow list 'Visitors'");
    expect(s["zone-count"]?.text).toBe("1 (no capacity)");
    expect(s["zone-flag"]).toMatchObject({
      label: "Zone note",
      text: "SO1001 entered zone 'Car park' at 09:59 and has not left (anti-passback)",
      tone: "warn",
    });
    expect(s["zone-passage"]?.text).toBe("applied: entry recorded, count 1 → 2");

    const out = throughZone("EX1", allowOn("EX1"), { movement: "exit", count: 0 }, true);
    const o = byKey(whyRows(out.explanation));
    expect(o.zone?.text).toMatch(/^'Car park' · exit \(from the lane\)/);
    expect(o["zone-flag"]?.text).toBe("EX1 left zone 'Car park' without a recorded entry");
    expect(o["zone-passage"]?.text).toBe("applied: exit recorded, count kept");

    const unknown = throughZone("UN1", allowOn("UN1"), { movement: null }, true);
    const u = byKey(whyRows(unknown.explanation));
    expect(u.zone?.text).toContain("movement unknown");
    expect(u["zone-passage"]?.text).toBe("presence and count left alone (no movement)");

    const notOpened = throughZone("NO1", allowOn("NO1"), {}, false);
    expect(byKey(whyRows(notOpened.explanation))["zone-passage"]?.text).toBe(
      "not applied: the barrier did not open",
    );
  });
});

describe("whyRows: operator approval", () => {
  const base = () => {
    const list = decide("AP999", [], MON_1000, book, { lane: "1", lanes: LANES });
    return explain({ ...list, result: "deny", reason: `waiting for the operator: ${list.reason}` });
  };

  it("pending: waiting for the operator, why it asks and what happens on timeout", () => {
    const approval: ApprovalExplanation = {
      status: "pending",
      asked: "AP999 is not on any list",
      timeoutMs: 60_000,
      onTimeout: "deny",
    };
    const rows = byKey(whyRows(stored({ ...base(), approval }), undefined, UTC));
    expect(rows.decided).toMatchObject({ text: "waiting for the operator", tone: "warn" });
    expect(rows.approval?.text).toBe(
      "pending · asked because AP999 is not on any list · if unanswered in 60 s: deny",
    );
    // The built-in would have decided, but the operator does.
    expect(rows["match-1"]?.decisive).toBeUndefined();
  });

  it("resolved: outcome, by whom and when", () => {
    const answer = (a: Partial<Extract<ApprovalExplanation, { status: "resolved" }>>) =>
      byKey(
        whyRows(
          stored({
            ...base(),
            approval: {
              status: "resolved",
              asked: "AP999 is not on any list",
              outcome: "approve",
              by: "admin",
              at: "2025-01-13T10:00:12.345Z",
              reason: "panel",
              ...a,
            },
          }),
          undefined,
          UTC,
        ),
      );
    const approved = answer({});
    expect(approved.decided).toMatchObject({ text: "the operator", tone: "ok" });
    expect(approved.approval).toMatchObject({
      label: "Operator",
      text: "resolved · approved by the operator at 10:00:12 (“panel”)",
      decisive: true,
    });
    expect(answer({ outcome: "approve-pass", passEntryId: 9 }).approval?.text).toBe(
      "resolved · approved with a pass by the operator at 10:00:12 (“panel”) · pass added",
    );
    const timedOut = answer({ outcome: "deny", by: "timeout", reason: null });
    expect(timedOut.decided).toMatchObject({ text: "no operator answer in time", tone: "bad" });
    expect(timedOut.approval?.text).toBe("resolved · denied: no answer in time at 10:00:12");
    expect(answer({ outcome: "deny", by: "restart", reason: null }).approval?.text).toBe(
      "resolved · denied: expired while the controller was stopped at 10:00:12",
    );
  });
});

describe("whyRows: what it does not know", () => {
  it("says nothing for a missing or unreadable explanation", () => {
    expect(whyRows(null)).toEqual([]);
    expect(whyRows(undefined)).toEqual([]);
    expect(whyRows("allow")).toEqual([]);
    expect(whyRows({})).toEqual([]);
    expect(whyRows({ matches: "none" })).toEqual([]);
  });

  it("leaves out malformed parts and shows only the sections present", () => {
    const { explanation } = decided("ST1001", [candidate(staff, "ST1001", entry(11, staff, "ST1001"))]);
    const e = explanation as Record<string, unknown>;
    const rows = whyRows(
      {
        ...e,
        matches: [
          42,
          { listName: "Odd", kind: "weird", match: { kind: "exact" } },
          ...(e.matches as unknown[]),
        ],
        schedules: [null, ...(e.schedules as unknown[])],
        presence: "somewhere",
        pass: { visitsUsed: "many" },
        approval: { status: "thinking" },
        notInForce: { listName: "X", because: "bored" },
      },
      undefined,
      UTC,
    );
    expect(rows.map((r) => r.key)).toEqual(["decided", "match-1", "schedule-1"]);
    // The plain exact allow without zone, pass or approval has none of those rows either.
    expect(whyRows(explanation).map((r) => r.key)).toEqual(["decided", "match-1", "schedule-1"]);
  });
});
