/**
 * The panel's times in the site's time zone (ui/src/lib/format.ts, the "Why" rows, the hello's `site`): the
 * panel must read the same clock as the controller's reasons, whatever zone the device showing it is set to.
 */
import { describe, expect, it } from "vitest";
import { localTimeFormatter } from "../../firmware/util/time.js";
import {
  browserTimeZone,
  clockTime,
  differingTimeZone,
  eventTime,
  knownTimeZone,
  sentenceTime,
  timeZonePlace,
} from "../../ui/src/lib/format.js";
import { parseMessage, siteOf } from "../../ui/src/lib/live-logic.js";
import { whyRows } from "../../ui/src/lib/why.js";

/** Monday 2025-01-13 08:15:02.345 UTC: 17:15 in Tokyo, 03:15 in New York, 09:15 in Amsterdam. */
const AT = Date.parse("2025-01-13T08:15:02.345Z");
const ISO = new Date(AT).toISOString();

describe("clock and event times in a time zone", () => {
  it("shows the same instant as each zone's wall clock", () => {
    expect(clockTime(AT, "Asia/Tokyo")).toBe("17:15:02");
    expect(clockTime(new Date(AT), "America/New_York")).toBe("03:15:02");
    expect(clockTime(AT, "Europe/Amsterdam")).toBe("09:15:02");
    expect(clockTime(AT, "UTC")).toBe("08:15:02");
    // Summer time: Amsterdam is two hours ahead of UTC in July.
    expect(clockTime(Date.parse("2025-07-01T08:15:02Z"), "Europe/Amsterdam")).toBe("10:15:02");
  });

  it("without a zone (before the hello) uses the browser's", () => {
    expect(clockTime(AT)).toBe(clockTime(AT, browserTimeZone()));
    expect(eventTime(ISO, undefined, AT)).toBe(eventTime(ISO, browserTimeZone(), AT));
  });

  it("an event of today shows its time of day in the zone", () => {
    expect(eventTime(ISO, "Asia/Tokyo", AT + 60_000)).toBe("17:15:02");
    expect(eventTime(ISO, "America/New_York", AT + 60_000)).toBe("03:15:02");
  });

  it("decides 'today' by the zone's calendar, not the browser's", () => {
    // 23:30 UTC on the 13th and 00:10 UTC on the 14th: two days in UTC, one (the 14th) in Tokyo.
    const late = "2025-01-13T23:30:00.000Z";
    const now = Date.parse("2025-01-14T00:10:00Z");
    expect(eventTime(late, "Asia/Tokyo", now)).toBe("08:30:00");
    expect(eventTime(late, "UTC", now)).toMatch(/^(13 Jan|Jan 13) 23:30:00$/);
    // 23:30 in New York on the 13th, 00:10 on the 14th there: one day in UTC (the 14th), two in New York.
    const nyLate = "2025-01-14T04:30:00.000Z";
    const nyNow = Date.parse("2025-01-14T05:10:00Z");
    expect(eventTime(nyLate, "UTC", nyNow)).toBe("04:30:00");
    expect(eventTime(nyLate, "America/New_York", nyNow)).toMatch(/^(13 Jan|Jan 13) 23:30:00$/);
  });

  it("an unreadable timestamp is a dash, not 'Invalid Date'", () => {
    expect(eventTime("not a time", "Asia/Tokyo")).toBe("—");
  });

  it("spells times in sentences as the controller's reasons do, in the same zone", () => {
    for (const zone of ["Asia/Tokyo", "America/New_York", "Europe/Amsterdam", "UTC"])
      expect(sentenceTime(AT, zone)).toBe(localTimeFormatter(zone)(AT));
    expect(sentenceTime(AT, "Asia/Tokyo")).toBe("17:15");
    expect(sentenceTime(AT, "Asia/Tokyo", true)).toBe("17:15:02");
  });
});

describe("which zone, and whether to say so", () => {
  it("knows a zone as the browser spells it, and nothing else", () => {
    expect(knownTimeZone("Asia/Tokyo")).toBe("Asia/Tokyo");
    expect(knownTimeZone("asia/tokyo")).toBe("Asia/Tokyo");
    expect(knownTimeZone("Etc/UTC")).toBe("UTC");
    expect(knownTimeZone("Mars/Olympus_Mons")).toBeNull();
    expect(knownTimeZone("")).toBeNull();
    expect(knownTimeZone(9)).toBeNull();
    expect(knownTimeZone(undefined)).toBeNull();
  });

  it("names the site's zone only when the browser's differs", () => {
    expect(differingTimeZone("Asia/Tokyo", "America/New_York")).toBe("Asia/Tokyo");
    expect(differingTimeZone("Europe/Amsterdam", "UTC")).toBe("Europe/Amsterdam");
    expect(differingTimeZone("Asia/Tokyo", "Asia/Tokyo")).toBeNull();
    // Two spellings of one zone are the same zone.
    expect(differingTimeZone("UTC", "Etc/UTC")).toBeNull();
    // Not known yet (no hello), or not a zone: nothing to say; times are in the browser's zone.
    expect(differingTimeZone(undefined, "America/New_York")).toBeNull();
    expect(differingTimeZone("Mars/Olympus_Mons", "UTC")).toBeNull();
    expect(differingTimeZone(browserTimeZone())).toBeNull();
  });

  it("shortens a zone to its place for the top bar", () => {
    expect(timeZonePlace("Europe/Amsterdam")).toBe("Amsterdam");
    expect(timeZonePlace("America/New_York")).toBe("New York");
    expect(timeZonePlace("America/Argentina/Buenos_Aires")).toBe("Buenos Aires");
    expect(timeZonePlace("UTC")).toBe("UTC");
  });
});

describe("the hello's site", () => {
  const hello = (site: unknown) => JSON.stringify({ type: "hello", lanes: [], io: [], cameras: [], site });

  it("takes the site's name and time zone", () => {
    expect(parseMessage(hello({ name: "Depot", timeZone: "Asia/Tokyo" }))).toMatchObject({
      type: "hello",
      site: { name: "Depot", timeZone: "Asia/Tokyo" },
    });
    expect(siteOf({ name: "Depot", timeZone: "Etc/UTC" })).toEqual({ name: "Depot", timeZone: "UTC" });
    expect(siteOf({ timeZone: "Asia/Tokyo" })).toEqual({ name: "", timeZone: "Asia/Tokyo" });
  });

  it("leaves the site out when absent (an older controller) or its zone is unknown here", () => {
    for (const site of [
      undefined,
      null,
      "Asia/Tokyo",
      { name: "Depot" },
      { name: "Depot", timeZone: "Nowhere/Else" },
    ]) {
      const msg = parseMessage(hello(site));
      expect(msg?.type).toBe("hello");
      expect(msg).not.toHaveProperty("site");
    }
  });
});

describe("the Why's times in the site's zone", () => {
  const explanation = {
    matches: [],
    builtIns: [],
    schedules: [],
    notInForce: null,
    presence: {
      zone: "Car park",
      movement: "entry",
      movementFrom: "lane",
      antiPassback: "hard",
      insideSince: AT,
      count: 1,
      capacity: null,
      full: false,
      veto: {
        reason: "entered zone 'Car park' at 17:15 and has not left (anti-passback)",
        rule: "anti-passback",
      },
      flag: null,
      effect: null,
      applied: false,
    },
    approval: {
      status: "resolved",
      asked: "not on any list",
      outcome: "deny",
      by: "admin",
      at: ISO,
      reason: null,
    },
  };
  const text = (key: string, timeZone?: string) =>
    whyRows(explanation, undefined, timeZone ? { timeZone } : {}).find((r) => r.key === key)?.text;

  it("inside since and the operator's answer read the site's clock, like the sentence beside them", () => {
    expect(text("zone", "Asia/Tokyo")).toMatch(/· inside since 17:15$/);
    expect(text("approval", "Asia/Tokyo")).toMatch(/ at 17:15:02$/);
    expect(text("zone", "America/New_York")).toMatch(/· inside since 03:15$/);
    expect(text("approval", "America/New_York")).toMatch(/ at 03:15:02$/);
  });
});
