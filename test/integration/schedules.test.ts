/**
 * Schedules wired in, through the real server: CRUD and validation, lists, entries and actions bound to
 * schedules, holidays, explanations, in-use deletion, restart, DST. Time travel: the dry run's `at`, and a
 * controller clock the test moves for real camera reads.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoSite } from "../../firmware/config/site.js";
import type { Clock } from "../../firmware/gate.js";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { pushMilesight } from "../sim/milesight-http.js";

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"];
const EVERY_DAY = [0, 1, 2, 3, 4, 5, 6];

/** The controller's wall clock, moved by the test; the monotonic clock stays real. */
let offsetMs = 0;
const clock: Clock = { now: () => Date.now() + offsetMs, mono: () => performance.now() };
const travelTo = (iso: string): void => {
  offsetMs = Date.parse(iso) - Date.now();
};

const demo = demoSite();
const site = testSite({
  timeZone: "Europe/Amsterdam",
  outputs: [...demo.outputs, { name: "lane1.light", pin: 22 }],
  holidayCalendars: [{ name: "NL", dates: [{ date: "2025-12-25", name: "Christmas" }] }],
  schedules: [
    { name: "Weekdays", windows: [{ days: WEEKDAYS, from: "07:00", to: "18:00" }], holidays: ["NL"] },
    { name: "Night", windows: [{ days: EVERY_DAY, from: "22:00", to: "06:00" }] },
  ],
  seedLists: [
    ...demo.seedLists,
    { name: "Contractors", kind: "allow", plates: ["CT100AA"], schedule: "Weekdays" },
  ],
  actions: [
    { on: { result: "allow" }, do: { type: "barrier-open" } },
    {
      on: { result: "allow" },
      schedule: "Night",
      do: { type: "output-pulse", output: "lane1.light", ms: 40 },
    },
    {
      id: "night-hook",
      on: { result: "allow" },
      schedule: "Night",
      // Nothing listens: the messages stay queued, which is all this test looks at.
      do: {
        type: "http-webhook",
        url: "http://127.0.0.1:9/hook",
        backoffMinMs: 60_000,
        backoffMaxMs: 60_000,
      },
    },
  ],
});

let tc: TestController;
beforeAll(async () => {
  offsetMs = 0;
  tc = await startTestController({ site, clock });
});
afterAll(async () => {
  await tc.stop();
  tc.cleanup();
});

const dryRun = async (plate: string, at: string) =>
  (await tc.api("/api/v1/decide", { body: { plate, at } })).body;
const activations = (name: string) => (tc.hal.history?.() ?? []).filter((t) => t.name === name && t.active);
const listId = async (name: string): Promise<number> =>
  (await tc.api("/api/v1/lists")).body.items.find((l: { name: string }) => l.name === name).id;

describe("schedule and holiday calendar API", () => {
  it("serves the site file's seeds with who uses them", async () => {
    const { status, body } = await tc.api("/api/v1/schedules");
    expect(status).toBe(200);
    const contractors = await listId("Contractors");
    expect(body.items).toMatchObject([
      {
        name: "Weekdays",
        windows: [{ days: WEEKDAYS, from: "07:00", to: "18:00" }],
        holidays: ["NL"],
        usedBy: [`list ${contractors} 'Contractors'`],
      },
      { name: "Night", usedBy: ["site action 1 (output-pulse)", "site action 2 (http-webhook)"] },
    ]);
    const calendars = await tc.api("/api/v1/holiday-calendars");
    expect(calendars.body.items).toMatchObject([
      {
        name: "NL",
        dates: [{ date: "2025-12-25", name: "Christmas", windows: [] }],
        usedBy: ["schedule 'Weekdays'"],
      },
    ]);
    const list = await tc.api(`/api/v1/lists/${contractors}`);
    expect(list.body).toMatchObject({ name: "Contractors", schedule: "Weekdays" });
    expect((await tc.api("/api/v1/schedules", { token: null })).status).toBe(401);
  });

  it("rejects a bad schedule with every problem and its path, at once", async () => {
    const res = await tc.api("/api/v1/schedules", {
      body: {
        name: "Bad",
        windows: [
          { days: ["mon", "tue"], from: "07:00", to: "12:00" },
          { days: ["tue"], from: "11:00", to: "14:00" },
          { days: ["mond"], from: "25:00", to: "18:00" },
          { days: ["sat"], from: "08:00", to: "08:00" },
        ],
        holidays: ["XX"],
        extra: true,
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.problems).toEqual([
      "/extra is not a known key",
      "/windows/2/days/0 unknown weekday 'mond': use mon, tue, wed, thu, fri, sat, sun or 0–7 (1 = Monday, 0 and 7 = Sunday)",
      "/windows/2/from '25:00' is not a time: hours run 00–23 (24:00 only as an end)",
      "/windows/3 from and to are both 08:00: an empty window (write 00:00–24:00 for the whole day)",
      "/windows/1 overlaps /windows/0 on tue 11:00–12:00",
      "/holidays/0 'XX' is not a holiday calendar (calendars: 'NL')",
    ]);
    expect(res.body.message).toBe(`schedule 'Bad': ${res.body.problems.join("; ")}`);
    const missing = await tc.api("/api/v1/schedules", { body: { windows: [] } });
    expect(missing.status).toBe(400);
    expect(missing.body.problems).toEqual(["/ must have required properties name"]);
    expect((await tc.api("/api/v1/schedules/Bad")).status).toBe(404);
  });

  it("rejects a bad holiday calendar the same way", async () => {
    const res = await tc.api("/api/v1/holiday-calendars", {
      body: {
        name: "Site",
        dates: [
          { date: "2025-02-30" },
          {
            date: "2025-12-24",
            windows: [
              { from: "09:00", to: "12:00" },
              { from: "11:00", to: "13:00" },
            ],
          },
        ],
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.problems).toEqual([
      "/dates/0/date '2025-02-30' is not a date: write YYYY-MM-DD (e.g. 2025-12-25)",
      "/dates/1/windows/1 overlaps /dates/1/windows/0 at 11:00–12:00",
    ]);
  });

  it("creates, replaces and deletes schedules and calendars, audited; names are unique and fixed", async () => {
    const created = await tc.api("/api/v1/schedules", {
      body: { name: "Lunch", windows: [{ days: ["mon"], from: "12:00", to: "13:00" }] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "Lunch", holidays: [], usedBy: [] });
    expect((await tc.api("/api/v1/schedules", { body: { name: "Lunch" } })).status).toBe(409);
    const replaced = await tc.api("/api/v1/schedules/Lunch", {
      method: "PUT",
      body: { windows: [{ days: WEEKDAYS, from: "12:00", to: "13:30" }] },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.windows).toEqual([{ days: WEEKDAYS, from: "12:00", to: "13:30" }]);
    const renamed = await tc.api("/api/v1/schedules/Lunch", { method: "PUT", body: { name: "Brunch" } });
    expect(renamed.status).toBe(400);
    expect(renamed.body.message).toContain("cannot be renamed");
    const upserted = await tc.api("/api/v1/schedules/Brunch", {
      method: "PUT",
      body: { windows: [{ days: ["sun"], from: "10:00", to: "12:00" }] },
    });
    expect(upserted.status).toBe(201);
    expect((await tc.api("/api/v1/schedules/Brunch")).body.name).toBe("Brunch");
    expect((await tc.api("/api/v1/schedules/Brunch", { method: "DELETE" })).status).toBe(204);
    expect((await tc.api("/api/v1/schedules/Brunch")).status).toBe(404);

    expect(
      (
        await tc.api("/api/v1/holiday-calendars", {
          body: { name: "Company", dates: [{ date: "2025-08-01" }] },
        })
      ).status,
    ).toBe(201);
    const cal = await tc.api("/api/v1/holiday-calendars/Company", {
      method: "PUT",
      body: { name: "Company", dates: [{ date: "2025-08-01", windows: [{ from: "08:00", to: "12:00" }] }] },
    });
    expect(cal.status).toBe(200);
    expect(cal.body.dates[0].windows).toEqual([{ from: "08:00", to: "12:00" }]);
    expect((await tc.api("/api/v1/holiday-calendars/Company", { method: "DELETE" })).status).toBe(204);

    const audit = (await tc.api("/api/v1/audit?limit=20")).body.items.map(
      (a: { action: string; target: string }) => [a.action, a.target].join(" "),
    );
    expect(audit).toEqual(
      expect.arrayContaining([
        "schedule.create schedule:Lunch",
        "schedule.update schedule:Lunch",
        "schedule.create schedule:Brunch",
        "schedule.delete schedule:Brunch",
        "holiday-calendar.create holiday-calendar:Company",
        "holiday-calendar.update holiday-calendar:Company",
        "holiday-calendar.delete holiday-calendar:Company",
      ]),
    );
  });

  it("says whether a schedule is active now, why, and when that changes", async () => {
    const tue = await tc.api("/api/v1/schedules/Weekdays/now?at=2025-01-07T09:00:00Z");
    expect(tue.body).toMatchObject({
      name: "Weekdays",
      timeZone: "Europe/Amsterdam",
      active: true,
      why: "schedule 'Weekdays' is active: inside window 0 (mon–fri 07:00–18:00); it is tue 2025-01-07 10:00 local",
      explanation: { by: "window", local: { weekday: "tue", time: "10:00" } },
      nextChange: "2025-01-07T17:00:00.000Z",
    });
    const xmas = await tc.api("/api/v1/schedules/Weekdays/now?at=2025-12-25T09:00:00Z");
    expect(xmas.body).toMatchObject({ active: false, explanation: { by: "holiday-closed" } });
    expect(xmas.body.nextChange).toBe("2025-12-26T06:00:00.000Z");
    expect((await tc.api("/api/v1/schedules/Nope/now")).status).toBe(404);
  });
});

describe("a list bound to a schedule", () => {
  it("allows on Tuesday 10:00 and denies on Saturday, saying why", async () => {
    const tue = await dryRun("CT100AA", "2025-01-07T09:00:00Z");
    expect(tue).toMatchObject({
      decision: "allow",
      reason: "CT100AA is on allow list 'Contractors' (list schedule 'Weekdays' active)",
      explanation: {
        schedules: [{ of: "list", schedule: "Weekdays", active: true, by: "window" }],
        notInForce: null,
      },
      actions: [{ index: 0, type: "barrier-open" }],
    });
    const sat = await dryRun("CT100AA", "2025-01-11T09:00:00Z");
    expect(sat).toMatchObject({
      decision: "deny",
      reason:
        "CT100AA is on allow list 'Contractors' but outside its schedule 'Weekdays' (no window covers sat 2025-01-11 10:00 local)",
      explanation: {
        match: null,
        matches: [],
        builtIns: ["any-plate", "not-in-list"],
        schedules: [{ of: "list", schedule: "Weekdays", active: false, by: "outside-windows" }],
        notInForce: { listName: "Contractors", plate: "CT100AA", because: "schedule" },
      },
      actions: [],
    });
  });

  it("a holiday closes it, and a calendar change applies to the next decision", async () => {
    const xmas = await dryRun("CT100AA", "2025-12-25T09:00:00Z");
    expect(xmas.decision).toBe("deny");
    expect(xmas.reason).toBe(
      "CT100AA is on allow list 'Contractors' but outside its schedule 'Weekdays' (2025-12-25 is a holiday (Christmas, calendar 'NL'), closed all day)",
    );
    expect(xmas.explanation.schedules[0]).toMatchObject({
      by: "holiday-closed",
      holiday: { date: "2025-12-25" },
    });
    expect((await dryRun("CT100AA", "2025-12-26T09:00:00Z")).decision).toBe("allow");
    const put = await tc.api("/api/v1/holiday-calendars/NL", {
      method: "PUT",
      body: {
        dates: [
          { date: "2025-12-25", name: "Christmas" },
          { date: "2025-12-26", name: "Boxing Day", windows: [{ from: "08:00", to: "10:00" }] },
        ],
      },
    });
    expect(put.status).toBe(200);
    expect((await dryRun("CT100AA", "2025-12-26T07:30:00Z")).decision).toBe("allow"); // 08:30
    const boxing = await dryRun("CT100AA", "2025-12-26T09:00:00Z"); // 10:00
    expect(boxing.decision).toBe("deny");
    expect(boxing.reason).toContain(
      "2025-12-26 is a holiday (Boxing Day, calendar 'NL'), open only 08:00–10:00",
    );
  });

  it("real reads follow the controller's clock: a Tuesday opens, a Saturday does not", async () => {
    travelTo("2025-01-07T09:00:00Z");
    const before = activations("lane1.barrier").length;
    const tue = await pushMilesight(tc.url, { plate: "CT100AA" }, tc.cameraSecret);
    expect(tue.body).toMatchObject({ status: "decided", decision: "allow" });
    expect(activations("lane1.barrier")).toHaveLength(before + 1);
    travelTo("2025-01-11T09:00:00Z");
    const sat = await pushMilesight(tc.url, { plate: "CT100AA" }, tc.cameraSecret);
    expect(sat.body).toMatchObject({ status: "decided", decision: "deny" });
    expect(activations("lane1.barrier")).toHaveLength(before + 1);
    const event = (await tc.api(`/api/v1/events/${sat.body.eventId}`)).body;
    expect(event.reason).toContain(
      "outside its schedule 'Weekdays' (no window covers sat 2025-01-11 10:00 local)",
    );
    expect(event.explanation).toMatchObject({
      at: expect.stringMatching(/^2025-01-11T09:00:0/),
      schedules: [{ of: "list", schedule: "Weekdays", active: false }],
      notInForce: { listName: "Contractors", because: "schedule" },
    });
    offsetMs = 0;
  });

  it("binds and unbinds through PATCH; an unknown schedule is refused", async () => {
    const id = await listId("Allow");
    const bad = await tc.api(`/api/v1/lists/${id}`, { method: "PATCH", body: { schedule: "Nope" } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe("schedule 'Nope' does not exist (schedules: 'Weekdays', 'Night', 'Lunch')");
    const bound = await tc.api(`/api/v1/lists/${id}`, { method: "PATCH", body: { schedule: "Lunch" } });
    expect(bound.body).toMatchObject({ name: "Allow", schedule: "Lunch" });
    expect((await dryRun("AB123CD", "2025-01-07T09:00:00Z")).decision).toBe("deny");
    expect((await dryRun("AB123CD", "2025-01-07T11:30:00Z")).decision).toBe("allow"); // 12:30
    await tc.api(`/api/v1/lists/${id}`, { method: "PATCH", body: { schedule: null } });
    expect((await dryRun("AB123CD", "2025-01-07T09:00:00Z")).decision).toBe("allow");
  });
});

describe("an entry bound to a schedule", () => {
  it("matches only while its schedule is active, and says so", async () => {
    const mornings = await tc.api("/api/v1/schedules", {
      body: { name: "Mornings", windows: [{ days: EVERY_DAY, from: "06:00", to: "09:00" }] },
    });
    expect(mornings.status).toBe(201);
    const id = await listId("Allow");
    const unknown = await tc.api(`/api/v1/lists/${id}/entries`, {
      body: { plate: "EM100AA", schedule: "Nope" },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain("entry 0: schedule 'Nope' does not exist");
    const added = await tc.api(`/api/v1/lists/${id}/entries`, {
      body: { plate: "EM100AA", schedule: "Mornings" },
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ plate: "EM100AA", schedule: "Mornings" });

    const morning = await dryRun("EM100AA", "2025-01-11T07:00:00Z"); // Sat 08:00
    expect(morning).toMatchObject({
      decision: "allow",
      reason: "EM100AA is on allow list 'Allow' (entry schedule 'Mornings' active)",
      explanation: { schedules: [{ of: "entry", schedule: "Mornings", active: true }] },
    });
    const later = await dryRun("EM100AA", "2025-01-11T09:00:00Z"); // Sat 10:00
    expect(later).toMatchObject({
      decision: "deny",
      reason:
        "EM100AA is on allow list 'Allow' but the entry is outside its schedule 'Mornings' (no window covers sat 2025-01-11 10:00 local)",
      explanation: { notInForce: { entryId: added.body.id, because: "schedule" } },
    });
    // The dry run's entry paging shows the binding; PATCH removes it.
    const patched = await tc.api(`/api/v1/lists/${id}/entries/${added.body.id}`, {
      method: "PATCH",
      body: { schedule: null },
    });
    expect(patched.body).toMatchObject({ plate: "EM100AA", schedule: null });
    expect((await dryRun("EM100AA", "2025-01-11T09:00:00Z")).decision).toBe("allow");
    await tc.api(`/api/v1/lists/${id}/entries/${added.body.id}`, {
      method: "PATCH",
      body: { schedule: "Mornings" },
    });
  });
});

describe("an action bound to a schedule", () => {
  it("the dry run lists it only while its schedule is active, and says why not otherwise", async () => {
    const night = await dryRun("AB123CD", "2025-01-07T22:00:00Z"); // Tue 23:00
    expect(night.actions).toEqual([
      { index: 0, type: "barrier-open" },
      { index: 1, type: "output-pulse" },
      { index: 2, type: "http-webhook" },
    ]);
    expect(night.outsideSchedule).toEqual([]);
    const day = await dryRun("AB123CD", "2025-01-08T11:00:00Z"); // Wed 12:00
    expect(day.actions).toEqual([{ index: 0, type: "barrier-open" }]);
    expect(day.outsideSchedule).toEqual([
      {
        index: 1,
        type: "output-pulse",
        schedule: "Night",
        why: "no window covers wed 2025-01-08 12:00 local",
      },
      {
        index: 2,
        type: "http-webhook",
        schedule: "Night",
        why: "no window covers wed 2025-01-08 12:00 local",
      },
    ]);
  });

  it("real reads: the light pulses and the webhook is queued at night only", async () => {
    const lightBefore = activations("lane1.light").length;
    travelTo("2025-01-07T22:00:00Z"); // Tue 23:00
    const night = await pushMilesight(tc.url, { plate: "AB123CD" }, tc.cameraSecret);
    expect(night.body).toMatchObject({ status: "decided", decision: "allow" });
    expect(activations("lane1.light")).toHaveLength(lightBefore + 1);
    travelTo("2025-01-08T11:00:00Z"); // Wed 12:00
    const day = await pushMilesight(tc.url, { plate: "KA777" }, tc.cameraSecret);
    expect(day.body).toMatchObject({ status: "decided", decision: "allow" });
    expect(activations("lane1.light")).toHaveLength(lightBefore + 1);
    offsetMs = 0;
    const queued = async (eventId: number) =>
      (await tc.api(`/api/v1/events/${eventId}/outbox`)).body.items.map((m: { target: string }) => m.target);
    expect(await queued(night.body.eventId)).toEqual(["night-hook"]);
    expect(await queued(day.body.eventId)).toEqual([]);
  });
});

describe("deleting what is in use", () => {
  it("is refused with 409 naming the users", async () => {
    const contractors = await listId("Contractors");
    const weekdays = await tc.api("/api/v1/schedules/Weekdays", { method: "DELETE" });
    expect(weekdays.status).toBe(409);
    expect(weekdays.body.message).toBe(
      `schedule 'Weekdays' is in use by list ${contractors} 'Contractors'; unbind it first`,
    );
    const night = await tc.api("/api/v1/schedules/Night", { method: "DELETE" });
    expect(night.status).toBe(409);
    expect(night.body.message).toContain("site action 1 (output-pulse), site action 2 (http-webhook)");
    const mornings = await tc.api("/api/v1/schedules/Mornings", { method: "DELETE" });
    expect(mornings.status).toBe(409);
    expect(mornings.body.message).toMatch(/in use by entry \d+ \(EM100AA\) on list 'Allow'/);
    const nl = await tc.api("/api/v1/holiday-calendars/NL", { method: "DELETE" });
    expect(nl.status).toBe(409);
    expect(nl.body.message).toBe("holiday calendar 'NL' is in use by schedule 'Weekdays'; unbind it first");
    expect((await tc.api("/api/v1/schedules/Weekdays")).status).toBe(200);
  });
});

describe("daylight saving time (windows are local wall-clock time)", () => {
  it("spring forward: a 02:30–04:00 window starts at the jump; a 02:00–03:00 window is empty that night", async () => {
    await tc.api("/api/v1/schedules", {
      body: { name: "Early", windows: [{ days: EVERY_DAY, from: "02:30", to: "04:00" }] },
    });
    await tc.api("/api/v1/schedules", {
      body: { name: "Two", windows: [{ days: EVERY_DAY, from: "02:00", to: "03:00" }] },
    });
    const crew = await tc.api("/api/v1/lists", {
      body: { name: "Early crew", kind: "allow", schedule: "Early" },
    });
    await tc.api(`/api/v1/lists/${crew.body.id}/entries`, { body: { plate: "EC100AA" } });
    // Amsterdam 2025-03-30: 02:00 CET becomes 03:00 CEST at 01:00Z.
    expect((await dryRun("EC100AA", "2025-03-30T00:45:00Z")).decision).toBe("deny"); // 01:45 CET
    const jump = await dryRun("EC100AA", "2025-03-30T01:00:00Z"); // 03:00 CEST
    expect(jump.decision).toBe("allow");
    expect(jump.explanation.schedules[0]).toMatchObject({ active: true, local: { time: "03:00" } });
    expect((await dryRun("EC100AA", "2025-03-30T01:59:00Z")).decision).toBe("allow"); // 03:59 CEST
    expect((await dryRun("EC100AA", "2025-03-30T02:00:00Z")).decision).toBe("deny"); // 04:00 CEST
    const early = await tc.api("/api/v1/schedules/Early/now?at=2025-03-30T00:00:00Z");
    expect(early.body).toMatchObject({ active: false, nextChange: "2025-03-30T01:00:00.000Z" });
    const two = await tc.api("/api/v1/schedules/Two/now?at=2025-03-29T12:00:00Z");
    expect(two.body.nextChange).toBe("2025-03-31T00:00:00.000Z"); // skips the night of the jump
  });

  it("fall back: the repeated hour is inside a 02:00–03:00 window both times", async () => {
    // Amsterdam 2025-10-26: 03:00 CEST becomes 02:00 CET at 01:00Z.
    for (const at of ["2025-10-26T00:30:00Z", "2025-10-26T01:30:00Z"])
      expect((await tc.api(`/api/v1/schedules/Two/now?at=${at}`)).body.active).toBe(true);
    expect((await tc.api("/api/v1/schedules/Two/now?at=2025-10-26T02:00:00Z")).body.active).toBe(false);
  });
});

describe("restart", () => {
  it("keeps schedules, calendars and bindings; the site file does not seed over API changes", async () => {
    await tc.api("/api/v1/schedules/Weekdays", {
      method: "PUT",
      body: { windows: [{ days: WEEKDAYS, from: "07:00", to: "20:00" }], holidays: ["NL"] },
    });
    tc = await tc.restart();
    const names = (await tc.api("/api/v1/schedules")).body.items.map((s: { name: string }) => s.name);
    expect(names).toEqual(["Weekdays", "Night", "Lunch", "Mornings", "Early", "Two"]);
    expect((await tc.api("/api/v1/schedules/Weekdays")).body.windows[0].to).toBe("20:00");
    expect((await tc.api("/api/v1/holiday-calendars/NL")).body.dates).toHaveLength(2);
    expect((await dryRun("CT100AA", "2025-01-07T18:30:00Z")).decision).toBe("allow"); // Tue 19:30
    expect((await dryRun("CT100AA", "2025-12-26T09:00:00Z")).decision).toBe("deny"); // Boxing Day 10:00
    const morning = await dryRun("EM100AA", "2025-01-11T09:00:00Z");
    expect(morning.reason).toContain("the entry is outside its schedule 'Mornings'");
    expect((await dryRun("AB123CD", "2025-01-07T22:00:00Z")).actions).toHaveLength(3);
  });

  it("a seed added to the site file later arrives at the next start; one deleted through the API stays deleted", async () => {
    const withWeekend = testSite({
      ...site,
      schedules: [
        ...site.schedules,
        { name: "Weekend", windows: [{ days: ["sat", "sun"], from: "00:00", to: "24:00" }] },
      ],
    });
    const dataDir = tc.dataDir;
    await tc.stop();
    tc = await startTestController({ site: withWeekend, dataDir, clock });
    expect((await tc.api("/api/v1/schedules/Weekend")).status).toBe(200);
    expect((await tc.api("/api/v1/schedules/Weekdays")).body.windows[0].to).toBe("20:00"); // not overwritten
    expect((await tc.api("/api/v1/schedules/Weekend", { method: "DELETE" })).status).toBe(204);
    tc = await tc.restart();
    expect((await tc.api("/api/v1/schedules/Weekend")).status).toBe(404);
  });
});

describe("start-up checks", () => {
  it("an action naming a schedule that exists nowhere stops the start with its path", async () => {
    const bad = testSite({
      actions: [{ on: { result: "allow" }, schedule: "Nope", do: { type: "barrier-open" } }],
    });
    await expect(startTestController({ site: bad })).rejects.toThrow(
      "site file: /actions/0/schedule 'Nope' is not a schedule (there are none); define it under schedules in the site file or through /api/v1/schedules",
    );
  });

  it("the site file's schedules, calendars and time zone are checked with their paths", () => {
    expect(() =>
      testSite({
        timeZone: "Europe/Amsterdm",
        holidayCalendars: [{ name: "NL", dates: [{ date: "2025-13-01" }] }],
        schedules: [
          { name: "S", windows: [{ days: ["mon"], from: "09:00", to: "09:00" }], holidays: ["DE"] },
        ],
        seedLists: [{ name: "L", kind: "allow", schedule: "T" }],
      }),
    ).toThrow(
      [
        "test site: /timeZone 'Europe/Amsterdm' is not a time zone this system knows: use an IANA name such as Europe/Amsterdam",
        "/holidayCalendars/0/dates/0/date '2025-13-01' is not a date: write YYYY-MM-DD (e.g. 2025-12-25)",
        "/schedules/0/windows/0 from and to are both 09:00: an empty window (write 00:00–24:00 for the whole day)",
        "/schedules/0/holidays/0 'DE' is not among holidayCalendars",
        "/seedLists/0/schedule 'T' is not among schedules",
      ].join("; "),
    );
  });
});
