/**
 * Property tests for schedules against a brute-force reference written independently of the module: local wall
 * time from its own Intl.DateTimeFormat (formatToParts, no offset arithmetic), and coverage decided minute by
 * minute straight from the definitions (no compiled ranges, no caches).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compileHolidays,
  compileSchedule,
  explain,
  type HolidayCalendarDef,
  isActive,
  nextChange,
  type ScheduleDef,
  scheduleProblems,
} from "../../firmware/domain/schedule.js";

const MIN = 60_000;
const DAY = 86_400_000;
const WEEK_MINUTES = 10_080;

// ─── The reference ──────────────────────────────────────────────────────────────────────────────────────────

const refFormatters = new Map<string, Intl.DateTimeFormat>();

/** Local calendar date (as a UTC midnight) and minute of day of an instant, from Intl alone. */
function refLocal(ms: number, timeZone: string): { date: number; minute: number } {
  let f = refFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      hourCycle: "h23",
    });
    refFormatters.set(timeZone, f);
  }
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(ms))) if (p.type !== "literal") parts[p.type] = Number(p.value);
  return {
    date: Date.UTC(parts.year as number, (parts.month as number) - 1, parts.day as number),
    minute: (parts.hour as number) * 60 + (parts.minute as number),
  };
}

const NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

function refDay(d: string | number): number {
  if (typeof d === "number") return d === 7 ? 0 : d;
  const i = NAMES.indexOf(d.toLowerCase().slice(0, 3));
  return i;
}

function refMinutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** Whether a window starting on some day covers minute `m` counted from that day's midnight (0–2879). */
function refCovers(w: { from: string; to: string }, m: number): boolean {
  const from = refMinutes(w.from);
  let to = refMinutes(w.to);
  if (to <= from) to += 1440;
  return m >= from && m < to;
}

function refActive(def: ScheduleDef, calendars: HolidayCalendarDef[], ms: number, timeZone: string): boolean {
  const { date, minute } = refLocal(ms, timeZone);
  const entriesOn = (day: number): { windows?: { from: string; to: string }[] }[] => {
    const key = new Date(day).toISOString().slice(0, 10);
    return calendars.flatMap((c) => c.dates.filter((h) => h.date === key));
  };
  const today = entriesOn(date);
  if (today.length) return today.every((h) => (h.windows ?? []).some((w) => refCovers(w, minute)));
  const weekday = new Date(date).getUTCDay();
  if (def.windows.some((w) => w.days.map(refDay).includes(weekday) && refCovers(w, minute))) return true;
  const yesterday = entriesOn(date - DAY);
  if (yesterday.length)
    return yesterday.every((h) => (h.windows ?? []).some((w) => refCovers(w, minute + 1440)));
  return def.windows.some(
    (w) => w.days.map(refDay).includes((weekday + 6) % 7) && refCovers(w, minute + 1440),
  );
}

// ─── Generators ─────────────────────────────────────────────────────────────────────────────────────────────

const ZONES = [
  "UTC",
  "Europe/Amsterdam",
  "America/New_York",
  "Asia/Kolkata",
  "Australia/Adelaide",
  "Australia/Lord_Howe", // DST of 30 minutes
  "Asia/Kathmandu", // UTC+5:45
  "Pacific/Chatham", // UTC+12:45 / +13:45
  "America/Sao_Paulo",
  "America/St_Johns", // UTC−3:30 with DST
];

const hhmm = (m: number): string =>
  `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;

/** Minutes of a week, biased to quarter hours and to the night (23:00–05:00) when clocks change. */
const weekMinute = fc.oneof(
  fc.integer({ min: 0, max: WEEK_MINUTES - 1 }),
  fc.integer({ min: 0, max: WEEK_MINUTES / 15 - 1 }).map((q) => q * 15),
  fc
    .tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 24 }))
    .map(([d, q]) => (d * 1440 - 60 + q * 15 + WEEK_MINUTES) % WEEK_MINUTES),
);

const dayAs = (d: number): fc.Arbitrary<string | number> =>
  fc.constantFrom<string | number>(
    NAMES[d] as string,
    d,
    ...(d === 0 ? [7, "Sunday"] : []),
    (NAMES[d] as string).toUpperCase(),
  );

/** Points near `hot` (a local minute where clocks change), else anywhere: edges of windows to build. */
const pointsNear = (hot: number | null, modulo: number): fc.Arbitrary<number> =>
  hot === null
    ? fc.integer({ min: 0, max: modulo - 1 })
    : fc.integer({ min: -120, max: 120 }).map((d) => (((hot + d) % modulo) + modulo) % modulo);

/**
 * Valid weekly windows: disjoint week segments (sorted points paired), rotated round the week unless their
 * edges are meant to fall near `hot` (the local week minute of a clock change).
 */
const weeklyWindows = (hot: number | null): fc.Arbitrary<ScheduleDef["windows"]> =>
  fc
    .tuple(
      fc.uniqueArray(fc.oneof(weekMinute, pointsNear(hot, WEEK_MINUTES)), { maxLength: 10 }),
      hot === null ? fc.integer({ min: 0, max: WEEK_MINUTES - 1 }) : fc.constant(0),
    )
    .chain(([points, shift]) => {
      const sorted = [...points].sort((a, b) => a - b);
      const segments: [number, number][] = [];
      for (let i = 0; i + 1 < sorted.length; i += 2) {
        const s = ((sorted[i] as number) + shift) % WEEK_MINUTES;
        let len = (sorted[i + 1] as number) - (sorted[i] as number);
        // A window lasts at most a day, and exactly a day only from midnight (00:00–24:00).
        if (len >= 1440) len = s % 1440 === 0 ? 1440 : 1439;
        segments.push([s, s + len]);
      }
      return fc.tuple(
        ...segments.map(([s, e]) => {
          const day = Math.floor(s / 1440);
          const from = s - day * 1440;
          const end = e - day * 1440;
          const to = end <= 1440 ? end : end - 1440;
          return dayAs(day).map((d) => ({ days: [d], from: hhmm(from), to: hhmm(to) }));
        }),
      );
    });

/** Windows of one holiday: disjoint segments of the date and the day after, each starting on the date. */
const holidayWindows = (hot: number | null): fc.Arbitrary<{ from: string; to: string }[]> =>
  fc
    .uniqueArray(fc.oneof(fc.integer({ min: 0, max: 2879 }), pointsNear(hot, 1440)), { maxLength: 6 })
    .map((points) => {
      const sorted = [...points].sort((a, b) => a - b);
      const windows: { from: string; to: string }[] = [];
      for (let i = 0; i + 1 < sorted.length; i += 2) {
        const s = sorted[i] as number;
        let e = sorted[i + 1] as number;
        if (s >= 1440) continue;
        if (e - s >= 1440) e = s === 0 ? 1440 : s + 1439;
        windows.push({ from: hhmm(s), to: hhmm(e <= 1440 ? e : e - 1440) });
      }
      return windows;
    });

/** The zone's offset at `ms` in minutes, from the reference's own local time. */
function refOffsetMinutes(ms: number, timeZone: string): number {
  const { date, minute } = refLocal(ms, timeZone);
  return Math.round((date + minute * MIN - Math.floor(ms / MIN) * MIN) / MIN);
}

/** The zone's offset changes in 2016–2026 (Sao Paulo still had DST until 2019, at midnight), found by search. */
const transitionCache = new Map<string, number[]>();
function transitions(timeZone: string): number[] {
  let found = transitionCache.get(timeZone);
  if (found) return found;
  found = [];
  let prev = Date.UTC(2016, 0, 1);
  let prevOffset = refOffsetMinutes(prev, timeZone);
  for (let t = prev + DAY; t < Date.UTC(2027, 0, 1); prev = t, t += DAY) {
    const offset = refOffsetMinutes(t, timeZone);
    if (offset === prevOffset) continue;
    let [lo, hi] = [prev / MIN, t / MIN];
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (refOffsetMinutes(mid * MIN, timeZone) === prevOffset) lo = mid;
      else hi = mid;
    }
    found.push(hi * MIN);
    prevOffset = offset;
  }
  transitionCache.set(timeZone, found);
  return found;
}

/**
 * An instant: anywhere in 2000–2040, in a month when clocks change somewhere, or up to 36 h before a change in
 * 2016–2026 — then with `hot`, the local week minute just before the change, for windows to cluster around.
 */
const instantIn = (timeZone: string): fc.Arbitrary<{ at: number; hot: number | null }> => {
  const changes = transitions(timeZone);
  const anywhere = fc.oneof(
    fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
    fc
      .tuple(
        fc.integer({ min: 2000, max: 2039 }),
        fc.constantFrom(2, 3, 8, 9, 10),
        fc.integer({ min: 0, max: 31 * DAY - 1 }),
      )
      .map(([y, m, offset]) => Date.UTC(y, m, 1) + offset),
  );
  if (!changes.length) return anywhere.map((at) => ({ at, hot: null }));
  const beforeChange = fc
    .tuple(
      fc.constantFrom(...changes),
      fc.oneof(fc.integer({ min: 0, max: 6 * 60 }), fc.integer({ min: 0, max: 36 * 60 })),
      fc.integer({ min: 0, max: MIN - 1 }),
    )
    .map(([t, minutes, ms]) => {
      const { date, minute } = refLocal(t - 1, timeZone);
      return { at: t - minutes * MIN - ms, hot: new Date(date).getUTCDay() * 1440 + minute };
    });
  return fc.oneof(
    anywhere.map((at) => ({ at, hot: null })),
    beforeChange,
    beforeChange,
  );
};

/** Holiday calendars with dates around `at` (some shared between calendars, to exercise the merge). */
const calendarsNear = (at: number, hot: number | null): fc.Arbitrary<HolidayCalendarDef[]> =>
  fc
    .array(
      fc.array(
        fc.record({
          day: fc.oneof(fc.integer({ min: -1, max: 2 }), fc.integer({ min: -3, max: 12 })),
          windows: holidayWindows(hot === null ? null : hot % 1440),
        }),
        { maxLength: 4 },
      ),
      { maxLength: 2 },
    )
    .map((cals) =>
      cals.map((entries, i) => {
        const seen = new Set<string>();
        const dates: HolidayCalendarDef["dates"] = [];
        for (const e of entries) {
          const date = new Date(at + e.day * DAY).toISOString().slice(0, 10);
          if (seen.has(date)) continue;
          seen.add(date);
          dates.push({ date, name: `h${dates.length}`, windows: e.windows });
        }
        return { name: `cal${i}`, dates };
      }),
    );

const scenario = fc
  .constantFrom(...ZONES)
  .chain((zone) => instantIn(zone).map(({ at, hot }) => ({ zone, at, hot })))
  .chain((s) =>
    fc
      .record({ windows: weeklyWindows(s.hot), calendars: calendarsNear(s.at, s.hot) })
      .map((r) => ({ zone: s.zone, at: s.at, ...r })),
  );

function compiled(s: { windows: ScheduleDef["windows"]; calendars: HolidayCalendarDef[] }) {
  const def: ScheduleDef = { name: "p", windows: s.windows, holidays: s.calendars.map((c) => c.name) };
  return { def, schedule: compileSchedule(def), holidays: compileHolidays(s.calendars) };
}

// ─── Properties ─────────────────────────────────────────────────────────────────────────────────────────────

describe("schedule properties", () => {
  it("generated definitions are valid", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const def = { name: "p", windows: s.windows, holidays: s.calendars.map((c) => c.name) };
        expect(
          scheduleProblems({ timeZone: s.zone, holidayCalendars: s.calendars, schedules: [def] }),
        ).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it("isActive and explain agree with the reference, walking local time minute by minute", () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 0, max: MIN - 1 }), (s, jitter) => {
        const { def, schedule, holidays } = compiled(s);
        for (let t = s.at + jitter, i = 0; i < 8 * 60; i++, t += MIN) {
          const expected = refActive(def, s.calendars, t, s.zone);
          if (isActive(schedule, holidays, t, s.zone) !== expected)
            throw new Error(`isActive at ${new Date(t).toISOString()} in ${s.zone}: expected ${expected}`);
          if (i % 37 === 0) expect(explain(schedule, holidays, t, s.zone).active).toBe(expected);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("nextChange, followed from flip to flip, finds exactly the flips a minute-by-minute walk sees", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { def, schedule, holidays } = compiled(s);
        const ref = (t: number): boolean => refActive(def, s.calendars, t, s.zone);
        // Every zone here has whole-minute offsets, so the state can only flip on a minute boundary: walking
        // each boundary for 36 hours sees every flip there.
        const end = s.at + 36 * 3_600_000;
        const walked: number[] = [];
        let state = ref(s.at);
        for (let t = Math.floor(s.at / MIN) * MIN + MIN; t <= end; t += MIN)
          if (ref(t) !== state) {
            walked.push(t);
            state = !state;
          }
        const followed: number[] = [];
        let next = nextChange(schedule, holidays, s.at, s.zone);
        while (next !== null && next <= end && followed.length <= walked.length) {
          followed.push(next);
          next = nextChange(schedule, holidays, next, s.zone);
        }
        expect(followed.map((t) => new Date(t).toISOString())).toEqual(
          walked.map((t) => new Date(t).toISOString()),
        );
        // Past the walk: the next flip really flips, and samples before it (or for 400 days) do not.
        const from = followed.at(-1) ?? s.at;
        const before = ref(from);
        const horizon = next ?? from + 400 * DAY;
        for (let k = 1; k < 100; k++) {
          const t = Math.floor(end + ((horizon - end) * k) / 100);
          if (t > end && t < horizon && ref(t) !== before)
            throw new Error(
              `flip at ${new Date(t).toISOString()} before ${next === null ? "never" : new Date(next).toISOString()}`,
            );
        }
        if (next !== null) {
          expect(ref(next)).toBe(!before);
          expect(ref(next - 1)).toBe(before);
        }
      }),
      { numRuns: 120 },
    );
  });

  it("validation never throws, whatever it is given, and returns strings with paths", () => {
    const time = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc
        .tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 70 }))
        .map(([h, m]) => `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`),
      fc.constantFrom("24:00", "7:5", "00:00"),
      fc.anything(),
    );
    const day = fc.oneof(
      fc.constantFrom(...NAMES, "monday", "Mond"),
      fc.integer({ min: -2, max: 9 }),
      fc.anything(),
    );
    const window = fc.record(
      { days: fc.oneof(fc.array(day), fc.anything()), from: time, to: time },
      { requiredKeys: [] },
    );
    const set = fc.record(
      {
        timeZone: fc.oneof(fc.constantFrom(...ZONES, "Mars/Olympus", ""), fc.anything()),
        holidayCalendars: fc.array(
          fc.record(
            {
              name: fc.oneof(fc.string(), fc.anything()),
              dates: fc.array(
                fc.record(
                  {
                    date: fc.oneof(
                      fc.constantFrom("2025-12-25", "2025-02-30", "1969-12-31"),
                      fc.string(),
                      fc.anything(),
                    ),
                    windows: fc.array(window),
                  },
                  { requiredKeys: [] },
                ),
              ),
            },
            { requiredKeys: [] },
          ),
        ),
        schedules: fc.array(
          fc.record(
            {
              name: fc.oneof(fc.string(), fc.anything()),
              windows: fc.oneof(fc.array(window), fc.anything()),
              holidays: fc.array(fc.oneof(fc.string(), fc.anything())),
            },
            { requiredKeys: [] },
          ),
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), set), fc.oneof(fc.constant(""), fc.string()), (value, path) => {
        const problems = scheduleProblems(value, path);
        expect(Array.isArray(problems)).toBe(true);
        for (const p of problems) expect(typeof p).toBe("string");
      }),
      { numRuns: 400 },
    );
  });

  it("rejects every overlapping pair of windows and only those", () => {
    const time = fc.integer({ min: 0, max: 1439 });
    const window = fc.record({
      days: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }),
      from: time,
      to: fc.integer({ min: 1, max: 1440 }),
    });
    fc.assert(
      fc.property(window, window, (a, b) => {
        fc.pre(a.from !== a.to && b.from !== b.to);
        // Brute force: mark each window's minutes of the week, wrapping past Saturday into Sunday.
        const mark = (w: typeof a): Uint8Array => {
          const week = new Uint8Array(WEEK_MINUTES);
          const len = w.to > w.from ? w.to - w.from : w.to + 1440 - w.from;
          for (const d of w.days)
            for (let m = 0; m < len; m++) week[(d * 1440 + w.from + m) % WEEK_MINUTES] = 1;
          return week;
        };
        const [ma, mb] = [mark(a), mark(b)];
        const overlapping = ma.some((v, i) => v === 1 && mb[i] === 1);
        const toDef = (w: typeof a) => ({ days: w.days, from: hhmm(w.from), to: hhmm(w.to) });
        const problems = scheduleProblems({ schedules: [{ name: "x", windows: [toDef(a), toDef(b)] }] });
        expect(problems).toEqual(
          overlapping
            ? [expect.stringMatching(/^\/schedules\/0\/windows\/1 overlaps \/schedules\/0\/windows\/0 on /)]
            : [],
        );
      }),
      { numRuns: 1000 },
    );
  });
});
