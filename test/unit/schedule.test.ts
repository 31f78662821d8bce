import { describe, expect, it, vi } from "vitest";
import {
  type CompiledHolidays,
  type CompiledSchedule,
  compileHolidays,
  compileSchedule,
  compileScheduleSet,
  describeDays,
  explain,
  type HolidayCalendarDef,
  isActive,
  nextChange,
  type ScheduleDef,
  ScheduleError,
  scheduleProblems,
} from "../../firmware/domain/schedule.js";

const utc = (iso: string): number => Date.parse(iso);
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function schedule(windows: ScheduleDef["windows"], name = "test"): CompiledSchedule {
  return compileSchedule({ name, windows, holidays: [] });
}

function calendar(dates: HolidayCalendarDef["dates"], name = "public"): HolidayCalendarDef {
  return { name, dates };
}

const AMS = "Europe/Amsterdam";
const NYC = "America/New_York";

describe("weekly windows", () => {
  const contractors = schedule(
    [{ days: ["mon", "tue", "wed", "thu", "fri"], from: "07:00", to: "18:00" }],
    "Contractors",
  );

  it("covers a weekday 07:00–18:00 and nothing else (Amsterdam, CET = UTC+1)", () => {
    const active = (t: string): boolean => isActive(contractors, null, utc(t), AMS);
    expect(active("2025-01-07T05:59:59Z")).toBe(false); // Tue 06:59:59
    expect(active("2025-01-07T06:00:00Z")).toBe(true); // Tue 07:00
    expect(active("2025-01-07T16:59:59Z")).toBe(true); // Tue 17:59:59
    expect(active("2025-01-07T17:00:00Z")).toBe(false); // Tue 18:00, the end is exclusive
    expect(active("2025-01-11T10:00:00Z")).toBe(false); // Saturday
    expect(active("2025-07-07T05:00:00Z")).toBe(true); // Mon 07:00 CEST (UTC+2)
  });

  it("finds the next change, over a weekend too", () => {
    expect(iso(nextChange(contractors, null, utc("2025-01-07T05:00:00Z"), AMS))).toBe(
      "2025-01-07T06:00:00.000Z",
    );
    expect(iso(nextChange(contractors, null, utc("2025-01-10T11:00:00Z"), AMS))).toBe(
      "2025-01-10T17:00:00.000Z",
    );
    expect(iso(nextChange(contractors, null, utc("2025-01-10T17:00:00Z"), AMS))).toBe(
      "2025-01-13T06:00:00.000Z",
    );
  });

  it("explains which window made it active, and when none did", () => {
    const yes = explain(contractors, null, utc("2025-01-07T08:15:00Z"), AMS);
    expect(yes).toMatchObject({
      active: true,
      by: "window",
      local: { date: "2025-01-07", weekday: "tue", time: "09:15" },
      window: { index: 0, days: "mon–fri", from: "07:00", to: "18:00", startedOn: "2025-01-07" },
    });
    expect(yes.reason).toBe(
      "schedule 'Contractors' is active: inside window 0 (mon–fri 07:00–18:00); it is tue 2025-01-07 09:15 local",
    );
    const no = explain(contractors, null, utc("2025-01-11T10:00:00Z"), AMS);
    expect(no).toMatchObject({ active: false, by: "outside-windows" });
    expect(no.reason).toBe("schedule 'Contractors' is inactive: no window covers sat 2025-01-11 11:00 local");
  });

  it("runs a midnight-spanning night shift until its end the next morning", () => {
    const night = schedule([{ days: ["mon", "tue", "wed", "thu", "fri"], from: "22:00", to: "06:00" }]);
    const active = (t: string): boolean => isActive(night, null, utc(t), AMS);
    expect(active("2025-01-10T20:59:00Z")).toBe(false); // Fri 21:59
    expect(active("2025-01-10T21:00:00Z")).toBe(true); // Fri 22:00
    expect(active("2025-01-11T04:59:00Z")).toBe(true); // Sat 05:59, from Friday's shift
    expect(active("2025-01-11T05:00:00Z")).toBe(false); // Sat 06:00
    expect(active("2025-01-13T00:30:00Z")).toBe(false); // Mon 01:30: Sunday has no shift
    expect(active("2025-01-13T23:30:00Z")).toBe(true); // Tue 00:30, from Monday's shift
    expect(iso(nextChange(night, null, utc("2025-01-10T22:00:00Z"), AMS))).toBe("2025-01-11T05:00:00.000Z");
    expect(explain(night, null, utc("2025-01-11T04:00:00Z"), AMS)).toMatchObject({
      active: true,
      window: { index: 0, startedOn: "2025-01-10" },
    });
    expect(explain(night, null, utc("2025-01-11T04:00:00Z"), AMS).reason).toContain(
      "which began fri 2025-01-10",
    );
  });

  it("takes weekday numbers (1 = Monday, 0 and 7 = Sunday), full names and any case", () => {
    const a = schedule([{ days: [0, 6], from: "00:00", to: "24:00" }]);
    const b = schedule([{ days: ["Saturday", "SUN"], from: "00:00", to: "24:00" }]);
    const c = schedule([{ days: [7, "sat"], from: "00:00", to: "24:00" }]);
    for (const t of ["2025-01-11T12:00:00Z", "2025-01-12T12:00:00Z", "2025-01-13T12:00:00Z"])
      expect(new Set([a, b, c].map((s) => isActive(s, null, utc(t), "UTC"))).size).toBe(1);
    expect(isActive(a, null, utc("2025-01-12T23:59:00Z"), "UTC")).toBe(true);
    expect(isActive(a, null, utc("2025-01-13T00:00:00Z"), "UTC")).toBe(false);
    expect(describeDays([1, 2, 3, 4, 5])).toBe("mon–fri");
    expect(describeDays([6, 0])).toBe("sat, sun");
    expect(describeDays([5, 6, 0, 1])).toBe("fri–mon");
    expect(describeDays([0, 1, 2, 3, 4, 5, 6])).toBe("every day");
  });

  it("never changes when always or never active", () => {
    const always = schedule([{ days: [0, 1, 2, 3, 4, 5, 6], from: "00:00", to: "24:00" }]);
    const never = schedule([]);
    expect(isActive(always, null, utc("2025-03-30T01:00:00Z"), AMS)).toBe(true);
    expect(nextChange(always, null, utc("2025-03-29T12:00:00Z"), AMS)).toBeNull();
    expect(nextChange(never, null, utc("2025-10-26T00:30:00Z"), AMS)).toBeNull();
  });
});

describe("holidays", () => {
  const contractors = schedule(
    [{ days: ["mon", "tue", "wed", "thu", "fri"], from: "07:00", to: "18:00" }],
    "Contractors",
  );
  const christmas = compileHolidays([
    calendar([
      { date: "2025-12-24", name: "Christmas Eve", windows: [{ from: "09:00", to: "12:00" }] },
      { date: "2025-12-25", name: "Christmas", windows: [] },
    ]),
  ]);

  it("closes a weekday all day", () => {
    expect(isActive(contractors, christmas, utc("2025-12-25T10:00:00Z"), AMS)).toBe(false); // Thu 11:00
    expect(isActive(contractors, christmas, utc("2025-12-26T10:00:00Z"), AMS)).toBe(true); // Fri
    const why = explain(contractors, christmas, utc("2025-12-25T10:00:00Z"), AMS);
    expect(why).toMatchObject({ active: false, by: "holiday-closed", holiday: { date: "2025-12-25" } });
    expect(why.reason).toBe(
      "schedule 'Contractors' is inactive: 2025-12-25 is a holiday (Christmas, calendar 'public'), closed all day",
    );
    // Wed 24th 12:00 (end of its holiday window) → Fri 26th 07:00.
    expect(iso(nextChange(contractors, christmas, utc("2025-12-24T10:00:00Z"), AMS))).toBe(
      "2025-12-24T11:00:00.000Z",
    );
    expect(iso(nextChange(contractors, christmas, utc("2025-12-24T11:00:00Z"), AMS))).toBe(
      "2025-12-26T06:00:00.000Z",
    );
  });

  it("uses a holiday's own windows instead of the weekly ones", () => {
    const at = (local: string): boolean => isActive(contractors, christmas, utc(local), AMS);
    expect(at("2025-12-24T07:00:00Z")).toBe(false); // 08:00: weekly would say yes
    expect(at("2025-12-24T08:00:00Z")).toBe(true); // 09:00
    expect(at("2025-12-24T11:00:00Z")).toBe(false); // 12:00
    expect(explain(contractors, christmas, utc("2025-12-24T09:00:00Z"), AMS)).toMatchObject({
      active: true,
      by: "holiday-window",
      holiday: { date: "2025-12-24", windows: "09:00–12:00" },
    });
    expect(explain(contractors, christmas, utc("2025-12-24T13:00:00Z"), AMS)).toMatchObject({
      active: false,
      by: "holiday-outside",
    });
  });

  it("governs its whole date: a night shift runs into it no further than midnight and does not start on it", () => {
    const night = schedule([{ days: [1, 2, 3, 4, 5], from: "22:00", to: "06:00" }]);
    const at = (t: string): boolean => isActive(night, christmas, utc(t), AMS);
    expect(at("2025-12-22T23:30:00Z")).toBe(true); // Tue 23rd 00:30, Monday's shift
    expect(at("2025-12-23T23:30:00Z")).toBe(false); // Wed 24th 00:30: cut at midnight, the 24th is open 09–12 only
    expect(at("2025-12-24T21:30:00Z")).toBe(false); // Wed 24th 22:30: weekly windows do not start on a holiday
    expect(at("2025-12-25T21:30:00Z")).toBe(false); // Thu 25th: closed
    expect(at("2025-12-25T23:30:00Z")).toBe(false); // Fri 26th 00:30: no shift started on the 25th
    expect(at("2025-12-26T21:30:00Z")).toBe(true); // Fri 26th 22:30
    const day = compileHolidays([calendar([{ date: "2025-12-25", windows: [] }])]);
    expect(isActive(night, day, utc("2025-12-24T22:30:00Z"), AMS)).toBe(true); // Wed 24th 23:30
    expect(isActive(night, day, utc("2025-12-24T23:00:00Z"), AMS)).toBe(false); // Thu 25th 00:00: cut
    expect(iso(nextChange(night, day, utc("2025-12-24T22:00:00Z"), AMS))).toBe("2025-12-24T23:00:00.000Z");
  });

  it("lets a holiday window run past midnight into an ordinary day", () => {
    const never = schedule([]);
    const party = compileHolidays([
      calendar([{ date: "2025-12-31", windows: [{ from: "20:00", to: "02:00" }] }]),
    ]);
    expect(isActive(never, party, utc("2025-12-31T19:00:00Z"), AMS)).toBe(true); // 20:00
    expect(isActive(never, party, utc("2026-01-01T00:30:00Z"), AMS)).toBe(true); // 01:30 on the 1st
    expect(isActive(never, party, utc("2026-01-01T01:00:00Z"), AMS)).toBe(false); // 02:00
    expect(explain(never, party, utc("2026-01-01T00:30:00Z"), AMS)).toMatchObject({
      by: "holiday-window",
      holiday: { date: "2025-12-31", windows: "20:00–02:00 the next day" },
    });
    expect(iso(nextChange(never, party, utc("2025-06-01T00:00:00Z"), AMS))).toBe("2025-12-31T19:00:00.000Z");
    expect(iso(nextChange(never, party, utc("2025-12-31T19:00:00Z"), AMS))).toBe("2026-01-01T01:00:00.000Z");
    expect(nextChange(never, party, utc("2026-01-01T01:00:00Z"), AMS)).toBeNull();
  });

  it("takes the most restrictive entry when several calendars list a date", () => {
    const both = compileHolidays([
      calendar(
        [{ date: "2025-12-24", name: "Christmas Eve", windows: [{ from: "08:00", to: "14:00" }] }],
        "public",
      ),
      calendar(
        [{ date: "2025-12-24", name: "Stocktake", windows: [{ from: "10:00", to: "16:00" }] }],
        "site",
      ),
    ]);
    const at = (t: string): boolean => isActive(contractors, both, utc(t), AMS);
    expect(at("2025-12-24T08:30:00Z")).toBe(false); // 09:30: only "public" says open
    expect(at("2025-12-24T10:00:00Z")).toBe(true); // 11:00: both do
    expect(at("2025-12-24T13:30:00Z")).toBe(false); // 14:30
    expect(explain(contractors, both, utc("2025-12-24T10:00:00Z"), AMS).reason).toContain(
      "2025-12-24 is a holiday (Christmas Eve, calendar 'public'; Stocktake, calendar 'site'), open 10:00–14:00",
    );
    const closed = compileHolidays([
      calendar([{ date: "2025-12-24", windows: [{ from: "08:00", to: "14:00" }] }], "public"),
      calendar([{ date: "2025-12-24" } as never], "site"), // windows defaulted: closed
    ]);
    expect(isActive(contractors, closed, utc("2025-12-24T10:00:00Z"), AMS)).toBe(false);
  });
});

describe("daylight saving time (windows are local wall-clock time)", () => {
  const every = [0, 1, 2, 3, 4, 5, 6];
  const twoToThree = schedule([{ days: every, from: "02:00", to: "03:00" }]);

  it("Amsterdam spring forward (2025-03-30, 02:00 → 03:00): a 02:00–03:00 window is empty that day", () => {
    expect(isActive(twoToThree, null, utc("2025-03-29T01:30:00Z"), AMS)).toBe(true); // Sat 02:30 CET
    expect(isActive(twoToThree, null, utc("2025-03-30T00:59:59Z"), AMS)).toBe(false); // 01:59:59 CET
    expect(isActive(twoToThree, null, utc("2025-03-30T01:00:00Z"), AMS)).toBe(false); // 03:00 CEST
    expect(iso(nextChange(twoToThree, null, utc("2025-03-29T12:00:00Z"), AMS))).toBe(
      "2025-03-31T00:00:00.000Z",
    );
  });

  it("Amsterdam spring forward: windows reaching into the skipped hour are cut or start at the jump", () => {
    const before = schedule([{ days: every, from: "01:30", to: "02:30" }]);
    expect(iso(nextChange(before, null, utc("2025-03-30T00:00:00Z"), AMS))).toBe("2025-03-30T00:30:00.000Z");
    expect(iso(nextChange(before, null, utc("2025-03-30T00:30:00Z"), AMS))).toBe("2025-03-30T01:00:00.000Z");
    const after = schedule([{ days: every, from: "02:30", to: "04:00" }]);
    expect(iso(nextChange(after, null, utc("2025-03-30T00:00:00Z"), AMS))).toBe("2025-03-30T01:00:00.000Z");
    expect(explain(after, null, utc("2025-03-30T01:00:00Z"), AMS)).toMatchObject({
      active: true,
      local: { time: "03:00" },
    });
    expect(iso(nextChange(after, null, utc("2025-03-30T01:00:00Z"), AMS))).toBe("2025-03-30T02:00:00.000Z");
  });

  it("Amsterdam fall back (2025-10-26, 03:00 → 02:00): the repeated hour is inside the window both times", () => {
    expect(isActive(twoToThree, null, utc("2025-10-26T00:30:00Z"), AMS)).toBe(true); // 02:30 CEST
    expect(isActive(twoToThree, null, utc("2025-10-26T01:30:00Z"), AMS)).toBe(true); // 02:30 CET
    expect(isActive(twoToThree, null, utc("2025-10-26T02:00:00Z"), AMS)).toBe(false); // 03:00 CET
    expect(iso(nextChange(twoToThree, null, utc("2025-10-25T23:00:00Z"), AMS))).toBe(
      "2025-10-26T00:00:00.000Z",
    );
    expect(iso(nextChange(twoToThree, null, utc("2025-10-26T00:00:00Z"), AMS))).toBe(
      "2025-10-26T02:00:00.000Z",
    );
  });

  it("Amsterdam fall back: the repeated hour re-enters a window that had ended", () => {
    const early = schedule([{ days: every, from: "01:00", to: "02:15" }]);
    // 02:30 CEST: outside; at 03:00 CEST the clock shows 02:00 CET again, inside until 02:15 CET.
    expect(isActive(early, null, utc("2025-10-26T00:30:00Z"), AMS)).toBe(false);
    expect(iso(nextChange(early, null, utc("2025-10-26T00:30:00Z"), AMS))).toBe("2025-10-26T01:00:00.000Z");
    expect(iso(nextChange(early, null, utc("2025-10-26T01:00:00Z"), AMS))).toBe("2025-10-26T01:15:00.000Z");
  });

  it("Amsterdam fall back: a change comes back with the repeated hour even when no later local time differs", () => {
    // Only a holiday window, 02:00–02:15 on the fall-back day. At 02:30 CEST every later local time is
    // inactive, but the clock goes back to 02:00 at 03:00 CEST, into the window again.
    const never = schedule([]);
    const h = compileHolidays([
      calendar([{ date: "2025-10-26", windows: [{ from: "02:00", to: "02:15" }] }]),
    ]);
    expect(isActive(never, h, utc("2025-10-26T00:30:00Z"), AMS)).toBe(false);
    expect(iso(nextChange(never, h, utc("2025-10-26T00:30:00Z"), AMS))).toBe("2025-10-26T01:00:00.000Z");
    expect(iso(nextChange(never, h, utc("2025-10-26T01:00:00Z"), AMS))).toBe("2025-10-26T01:15:00.000Z");
    expect(nextChange(never, h, utc("2025-10-26T01:15:00Z"), AMS)).toBeNull();
  });

  it("New York spring forward (2025-03-09) and fall back (2025-11-02)", () => {
    expect(iso(nextChange(twoToThree, null, utc("2025-03-08T12:00:00Z"), NYC))).toBe(
      "2025-03-10T06:00:00.000Z",
    );
    const late = schedule([{ days: every, from: "02:30", to: "04:00" }]);
    expect(iso(nextChange(late, null, utc("2025-03-09T05:00:00Z"), NYC))).toBe("2025-03-09T07:00:00.000Z");
    const oneToTwo = schedule([{ days: every, from: "01:00", to: "02:00" }]);
    expect(iso(nextChange(oneToTwo, null, utc("2025-11-02T04:00:00Z"), NYC))).toBe(
      "2025-11-02T05:00:00.000Z",
    );
    expect(isActive(oneToTwo, null, utc("2025-11-02T06:30:00Z"), NYC)).toBe(true); // 01:30 EST, the second time
    expect(iso(nextChange(oneToTwo, null, utc("2025-11-02T05:00:00Z"), NYC))).toBe(
      "2025-11-02T07:00:00.000Z",
    );
  });

  it("half-hour zones: Asia/Kolkata (UTC+5:30) and Australia/Adelaide (UTC+9:30, DST +10:30)", () => {
    const office = schedule([{ days: ["mon", "tue", "wed", "thu", "fri"], from: "09:00", to: "17:30" }]);
    expect(iso(nextChange(office, null, utc("2025-01-07T00:00:00Z"), "Asia/Kolkata"))).toBe(
      "2025-01-07T03:30:00.000Z",
    );
    expect(iso(nextChange(office, null, utc("2025-01-07T03:30:00Z"), "Asia/Kolkata"))).toBe(
      "2025-01-07T12:00:00.000Z",
    );
    const ADL = "Australia/Adelaide";
    // DST ends 2025-04-06 03:00 ACDT → 02:00 ACST (16:30Z on the 5th): 02:00–03:00 lasts two hours.
    expect(iso(nextChange(twoToThree, null, utc("2025-04-05T12:00:00Z"), ADL))).toBe(
      "2025-04-05T15:30:00.000Z",
    );
    expect(iso(nextChange(twoToThree, null, utc("2025-04-05T15:30:00Z"), ADL))).toBe(
      "2025-04-05T17:30:00.000Z",
    );
    // DST starts 2025-10-05 02:00 ACST → 03:00 ACDT (16:30Z on the 4th): no 02:00–03:00 that day.
    expect(iso(nextChange(twoToThree, null, utc("2025-10-04T12:00:00Z"), ADL))).toBe(
      "2025-10-05T15:30:00.000Z",
    );
    expect(isActive(office, null, utc("2025-10-06T22:30:00Z"), ADL)).toBe(true); // Tue 09:00 ACDT
    expect(isActive(office, null, utc("2025-10-06T22:29:00Z"), ADL)).toBe(false);
  });
});

describe("validation", () => {
  const valid = {
    timeZone: "Europe/Amsterdam",
    holidayCalendars: [{ name: "NL", dates: [{ date: "2025-12-25", name: "Christmas" }] }],
    schedules: [
      {
        name: "Contractors",
        windows: [{ days: ["mon", "tue", "wed", "thu", "fri"], from: "07:00", to: "18:00" }],
        holidays: ["NL"],
      },
      { name: "Night shift", windows: [{ days: [1, 2, 3, 4, 5], from: "22:00", to: "06:00" }] },
    ],
  };

  it("accepts a good set and compiles it", () => {
    expect(scheduleProblems(valid)).toEqual([]);
    const set = compileScheduleSet(valid);
    expect([...set.keys()]).toEqual(["Contractors", "Night shift"]);
    const c = set.get("Contractors");
    expect(c && isActive(c.schedule, c.holidays, utc("2025-12-25T10:00:00Z"), AMS)).toBe(false);
    expect(c && isActive(c.schedule, c.holidays, utc("2025-12-24T10:00:00Z"), AMS)).toBe(true);
  });

  it("reports every problem at once, each with its path", () => {
    const problems = scheduleProblems({
      timeZone: "Europe/Amsterdm",
      holidayCalendars: [
        {
          name: "NL",
          dates: [
            { date: "2025-12-25" },
            {
              date: "2025-12-25",
              windows: [
                { from: "10:00", to: "12:00" },
                { from: "11:00", to: "13:00" },
              ],
            },
            { date: "2025-02-30" },
            { date: "25-12-2025" },
          ],
        },
      ],
      schedules: [
        {
          name: " ",
          windows: [
            { days: ["mon", "tue"], from: "07:00", to: "12:00" },
            { days: ["tue", "wed"], from: "11:00", to: "14:00" },
            { days: ["mond", 9, "fri", "friday"], from: "25:00", to: "7:5" },
            { days: [], from: "08:00", to: "08:00" },
            { days: ["sun"], from: "22:00", to: "06:00" },
            { days: ["mon"], from: "05:00", to: "06:30" },
            { days: ["sat"], from: "24:00", to: "07:60" },
          ],
          holidays: ["DE"],
        },
        { name: "Dup" },
        { name: "Dup", extra: true },
      ],
    });
    expect(problems).toEqual([
      "/schedules/2/extra is not a known key",
      "/timeZone 'Europe/Amsterdm' is not a time zone this system knows: use an IANA name such as Europe/Amsterdam",
      "/holidayCalendars/0/dates/1/date '2025-12-25' is listed twice (also /holidayCalendars/0/dates/0/date)",
      "/holidayCalendars/0/dates/1/windows/1 overlaps /holidayCalendars/0/dates/1/windows/0 at 11:00–12:00",
      "/holidayCalendars/0/dates/2/date '2025-02-30' is not a date: write YYYY-MM-DD (e.g. 2025-12-25)",
      "/holidayCalendars/0/dates/3/date '25-12-2025' is not a date: write YYYY-MM-DD (e.g. 2025-12-25)",
      "/schedules/0/name is empty: every schedule needs a name",
      "/schedules/0/windows/2/days/0 unknown weekday 'mond': use mon, tue, wed, thu, fri, sat, sun or 0–7 (1 = Monday, 0 and 7 = Sunday)",
      "/schedules/0/windows/2/days/1 unknown weekday '9': use mon, tue, wed, thu, fri, sat, sun or 0–7 (1 = Monday, 0 and 7 = Sunday)",
      "/schedules/0/windows/2/days/3 fri is listed twice",
      "/schedules/0/windows/2/from '25:00' is not a time: hours run 00–23 (24:00 only as an end)",
      "/schedules/0/windows/2/to '7:5' is not a time: write HH:MM, 24-hour, two digits each (e.g. 07:05)",
      "/schedules/0/windows/3/days is empty: name at least one weekday",
      "/schedules/0/windows/3 from and to are both 08:00: an empty window (write 00:00–24:00 for the whole day)",
      "/schedules/0/windows/6/from '24:00' is the end of a day, not a start: use 00:00",
      "/schedules/0/windows/6/to '07:60' is not a time: minutes run 00–59",
      "/schedules/0/windows/1 overlaps /schedules/0/windows/0 on tue 11:00–12:00",
      "/schedules/0/windows/5 overlaps /schedules/0/windows/4 on mon 05:00–06:00",
      "/schedules/0/holidays/0 'DE' is not among holidayCalendars",
      "/schedules/2/name 'Dup' is used twice (also /schedules/1)",
    ]);
  });

  it("names the overlap of two midnight-spanning windows across the day boundary", () => {
    expect(
      scheduleProblems({
        schedules: [
          {
            name: "x",
            windows: [
              { days: ["mon"], from: "22:00", to: "06:00" },
              { days: ["mon"], from: "23:00", to: "02:00" },
              { days: ["tue"], from: "06:00", to: "07:00" }, // touches, does not overlap
            ],
          },
        ],
      }),
    ).toEqual(["/schedules/0/windows/1 overlaps /schedules/0/windows/0 on mon 23:00–tue 02:00"]);
  });

  it("reports schema problems with paths and never throws on junk", () => {
    expect(scheduleProblems({ schedules: [{ name: 3, windows: "no" }] })).toEqual([
      "/schedules/0/name must be string",
      "/schedules/0/windows must be array",
    ]);
    expect(scheduleProblems(null)).toEqual(["/ must be object"]);
    expect(scheduleProblems(() => 1)).toEqual(["/ is not plain JSON data"]);
    expect(scheduleProblems({ schedules: [] }, "/access")).toEqual([]);
    expect(scheduleProblems({ timeZone: 5 }, "/access")).toEqual(["/access/timeZone must be string"]);
  });

  it("refuses to compile an invalid schedule or calendar", () => {
    expect(() =>
      compileSchedule({ name: "x", windows: [{ days: ["mon"], from: "9:00", to: "17:00" }], holidays: [] }),
    ).toThrow(ScheduleError);
    expect(() => compileHolidays([calendar([{ date: "2025-13-01", windows: [] }])])).toThrow(/not a date/);
    expect(() => compileScheduleSet({ schedules: [{ name: "" }] })).toThrow(/name is empty/);
  });
});

describe("cost", () => {
  it("isActive does no Intl work once the zone's offset for the quarter hour is cached", () => {
    const s = schedule([
      { days: [1, 2, 3, 4, 5], from: "07:00", to: "12:00" },
      { days: [1, 2, 3, 4, 5], from: "13:00", to: "18:00" },
      { days: [6], from: "22:00", to: "04:00" },
    ]);
    const h: CompiledHolidays = compileHolidays([calendar([{ date: "2025-12-25", windows: [] }])]);
    const start = utc("2025-06-02T08:00:00Z"); // Mon 10:00 CEST
    isActive(s, h, start, AMS);
    const format = vi.spyOn(Intl.DateTimeFormat.prototype, "formatToParts");
    try {
      const t0 = performance.now();
      let active = 0;
      for (let i = 0; i < 100_000; i++) if (isActive(s, h, start + (i % 900) * 1000, AMS)) active++;
      const perCallUs = ((performance.now() - t0) * 1000) / 100_000;
      expect(format).not.toHaveBeenCalled();
      expect(active).toBe(100_000);
      expect(perCallUs).toBeLessThan(20); // typically well under 1 µs; only a gross regression fails this
    } finally {
      format.mockRestore();
    }
  });
});
