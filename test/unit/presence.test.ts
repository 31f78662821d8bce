/** The pure presence core: movement, anti-passback, occupancy, timed reset; property tests over sequences. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyPassage,
  assessPassage,
  type Movement,
  movementOf,
  type ZonePolicy,
  type ZoneSnapshot,
} from "../../firmware/domain/presence.js";

const HOUR = 3_600_000;
const policy = (over: Partial<ZonePolicy> = {}): ZonePolicy => ({
  name: "Car park",
  countVisitorsOnly: false,
  antiPassback: "hard",
  resetAfterMs: 12 * HOUR,
  fullDenies: "visitors",
  ...over,
});
const empty: ZoneSnapshot = { count: 0, inside: new Map() };
const hhmm = (ms: number): string => new Date(ms).toISOString().slice(11, 16);
function must<T>(value: T | null | undefined): T {
  if (value == null) throw new Error("expected a value");
  return value;
}
const T0 = Date.parse("2025-03-03T08:15:00Z");

function pass(
  p: ZonePolicy,
  state: ZoneSnapshot,
  plate: string,
  movement: Movement,
  now: number,
  listed = true,
) {
  return assessPassage({
    policy: p,
    state,
    plate,
    movement,
    movementFrom: "lane",
    listed,
    now,
    formatTime: hhmm,
  });
}

describe("movementOf", () => {
  it("takes the lane's direction, else the camera's role, else the read's direction", () => {
    expect(movementOf("exit", "entry", "in")).toEqual({ movement: "exit", from: "lane" });
    expect(movementOf("both", "entry", "out")).toEqual({ movement: "entry", from: "camera" });
    expect(movementOf(undefined, "both", "out")).toEqual({ movement: "exit", from: "read" });
    expect(movementOf(undefined, "both", "approach")).toEqual({ movement: null, from: null });
    expect(movementOf(undefined, undefined, null)).toEqual({ movement: null, from: null });
  });
});

describe("assessPassage", () => {
  it("hard: a second entry without an exit is denied with a sentence naming the time", () => {
    const first = pass(policy(), empty, "AB123CD", "entry", T0);
    expect(first.veto).toBeNull();
    const state = applyPassage(empty, must(first.effect));
    const second = pass(policy(), state, "AB123CD", "entry", T0 + 60_000);
    expect(second.veto?.reason).toBe(
      "AB123CD entered zone 'Car park' at 08:15 and has not left (anti-passback)",
    );
    expect(second.effect).toBeNull();
  });

  it("soft: allowed, flagged, and the count goes on", () => {
    const p = policy({ antiPassback: "soft" });
    const state = applyPassage(empty, must(pass(p, empty, "AB123CD", "entry", T0).effect));
    const second = pass(p, state, "AB123CD", "entry", T0 + 1);
    expect(second.veto).toBeNull();
    expect(second.flag?.rule).toBe("anti-passback");
    expect(second.effect?.countAfter).toBe(2);
  });

  it("timed reset: a plate inside is forgotten resetAfterMs after it entered", () => {
    const p = policy({ resetAfterMs: HOUR });
    const state = applyPassage(empty, must(pass(p, empty, "AB123CD", "entry", T0).effect));
    expect(pass(p, state, "AB123CD", "entry", T0 + HOUR - 1).veto).not.toBeNull();
    const later = pass(p, state, "AB123CD", "entry", T0 + HOUR);
    expect(later.veto).toBeNull();
    expect(later.insideSince).toBeNull();
  });

  it("an exit without an entry is allowed and noted; the count is clamped at 0", () => {
    const c = pass(policy(), empty, "AB123CD", "exit", T0);
    expect(c.veto).toBeNull();
    expect(c.flag?.rule).toBe("exit-without-entry");
    expect(c.effect?.countDelta).toBe(0);
    expect(applyPassage(empty, must(c.effect)).count).toBe(0);
  });

  it("full: visitors are denied, listed plates enter; fullDenies all/none", () => {
    const full: ZoneSnapshot = { count: 2, inside: new Map() };
    const p = policy({ capacity: 2 });
    expect(pass(p, full, "VIS1T", "entry", T0, false).veto?.reason).toBe(
      "zone 'Car park' is full (2/2): only plates on an allow list may enter",
    );
    expect(pass(p, full, "AB123CD", "entry", T0, true).veto).toBeNull();
    expect(pass(policy({ capacity: 2, fullDenies: "all" }), full, "AB123CD", "entry", T0).veto?.rule).toBe(
      "capacity",
    );
    expect(
      pass(policy({ capacity: 2, fullDenies: "none" }), full, "VIS1T", "entry", T0, false).veto,
    ).toBeNull();
    // Exits are never refused for a full zone.
    expect(pass(p, full, "VIS1T", "exit", T0, false).veto).toBeNull();
  });

  it("countVisitorsOnly: listed plates do not count", () => {
    const p = policy({ countVisitorsOnly: true });
    expect(pass(p, empty, "AB123CD", "entry", T0, true).effect?.countDelta).toBe(0);
    expect(pass(p, empty, "VIS1T", "entry", T0, false).effect?.countDelta).toBe(1);
  });

  it("a lane counted by its loop: the passage tracks presence but leaves the count to the loop", () => {
    const p = policy({ capacity: 1, antiPassback: "hard" });
    const full: ZoneSnapshot = { count: 1, inside: new Map() };
    const base = { policy: p, plate: "VIS1T", movementFrom: "lane", listed: false, now: T0 } as const;
    const entry = assessPassage({
      ...base,
      state: empty,
      movement: "entry",
      countsOccupancy: false,
      formatTime: hhmm,
    });
    expect(entry.effect).toMatchObject({ movement: "entry", countDelta: 0, countAfter: 0 });
    // The capacity still refuses a visitor at the decision.
    const refused = assessPassage({
      ...base,
      state: full,
      movement: "entry",
      countsOccupancy: false,
      formatTime: hhmm,
    });
    expect(refused.veto?.rule).toBe("capacity");
    const exit = assessPassage({
      ...base,
      state: full,
      movement: "exit",
      countsOccupancy: false,
      formatTime: hhmm,
    });
    expect(exit.effect).toMatchObject({ countDelta: 0, countAfter: 1 });
  });

  it("an unknown movement changes nothing", () => {
    const c = assessPassage({
      policy: policy(),
      state: empty,
      plate: "AB123CD",
      movement: null,
      movementFrom: null,
      listed: true,
      now: T0,
      formatTime: hhmm,
    });
    expect(c.effect).toBeNull();
    expect(c.veto).toBeNull();
  });
});

describe("properties over random passage sequences", () => {
  const step = fc.record({
    plate: fc.constantFrom("AA1", "BB2", "CC3"),
    movement: fc.constantFrom<Movement>("entry", "exit"),
    gapMs: fc.integer({ min: 0, max: 2 * HOUR }),
  });

  it("hard anti-passback never lets a plate in twice; the count is entries − exits, never negative", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.integer({ min: 1, max: 4 }), (steps, resetHours) => {
        const p = policy({ resetAfterMs: resetHours * HOUR });
        let state = empty;
        let now = T0;
        let expected = 0;
        for (const s of steps) {
          now += s.gapMs;
          const c = pass(p, state, s.plate, s.movement, now);
          if (
            s.movement === "entry" &&
            state.inside.has(s.plate) &&
            now - (state.inside.get(s.plate) ?? 0) < p.resetAfterMs
          )
            expect(c.veto?.rule).toBe("anti-passback");
          if (c.veto) continue;
          state = applyPassage(state, must(c.effect));
          expected = Math.max(0, expected + (s.movement === "entry" ? 1 : -1));
          expect(state.count).toBe(expected);
          expect(state.count).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });

  it("without exits being missed or clamped, the count equals entries − exits exactly", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const p = policy({ antiPassback: "off" });
        let state = empty;
        let entries = 0;
        let exits = 0;
        for (const s of steps) {
          const c = pass(p, state, s.plate, s.movement, T0);
          if (c.flag?.rule === "clamped" || (s.movement === "exit" && state.count === 0)) continue;
          state = applyPassage(state, must(c.effect));
          if (s.movement === "entry") entries++;
          else exits++;
          expect(state.count).toBe(entries - exits);
        }
      }),
    );
  });
});
