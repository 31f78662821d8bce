/**
 * The policy example site (provisioning/site.policy.example.json) does what the README says: schedules,
 * holidays, anti-passback between its entrance and exit, a night-only beacon for refused cars, and the guard
 * asked about strangers and misreads at the entrance.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSite } from "../../firmware/config/site.js";
import { startTestController, type TestController } from "../helpers/controller.js";

const path = join(import.meta.dirname, "../../provisioning/site.policy.example.json");
let tc: TestController;

const decide = async (plate: string, lane: string, at: string) =>
  (await tc.api("/api/v1/decide", { body: { plate, lane, at } })).body;

beforeAll(async () => {
  tc = await startTestController({ site: parseSite(JSON.parse(readFileSync(path, "utf8")), path) });
});
afterAll(async () => {
  await tc.stop();
  tc.cleanup();
});

describe("policy example site", () => {
  it("lets contractors in on weekday working hours only, and not on a holiday", async () => {
    // 2026-12-01 is a Tuesday; 10:00 in Amsterdam is 09:00 UTC.
    expect(await decide("CT100AA", "in", "2026-12-01T09:00:00Z")).toMatchObject({ decision: "allow" });
    const evening = await decide("CT100AA", "in", "2026-12-01T19:00:00Z");
    expect(evening.decision).toBe("deny");
    expect(evening.reason).toContain("outside its schedule 'Weekdays'");
    const christmas = await decide("CT100AA", "in", "2026-12-25T09:00:00Z");
    expect(christmas.decision).toBe("deny");
    expect(await decide("AB123CD", "in", "2026-12-25T09:00:00Z")).toMatchObject({ decision: "allow" });
  });

  it("blinks the entrance beacon for refused cars at night only", async () => {
    const night = await decide("XY999ZZ", "in", "2026-12-01T23:00:00Z");
    expect(night.actions.map((a: any) => a.type)).toEqual(["output-blink"]);
    const day = await decide("XY999ZZ", "in", "2026-12-01T12:00:00Z");
    expect(day.actions).toEqual([]);
    expect(day.outsideSchedule.map((a: any) => a.type)).toEqual(["output-blink"]);
  });

  it("tracks the car park: entrance and exit form one zone with hard anti-passback", async () => {
    const { items } = (await tc.api("/api/v1/zones")).body;
    expect(items).toEqual([expect.objectContaining({ name: "Car park", capacity: 120, count: 0 })]);
    const entry = await decide("AB123CD", "in", "2026-12-01T09:00:00Z");
    expect(entry.explanation.presence).toMatchObject({ zone: "Car park", movement: "entry" });
  });

  it("asks the guard about strangers and fuzzy matches at the entrance, not at the exit", async () => {
    const stranger = await decide("QQ555QQ", "in", "2026-12-01T09:00:00Z");
    expect(stranger).toMatchObject({ decision: "deny", askOperator: true, actions: [] });
    // Fuzzy matching is per list: once the guard's office turns it on for Staff, a misread is asked about too.
    const staff = (await tc.api("/api/v1/lists")).body.items.find((l: any) => l.name === "Staff");
    await tc.api(`/api/v1/lists/${staff.id}`, { method: "PATCH", body: { maxDistance: 1 } });
    const misread = await decide("AB123C0", "in", "2026-12-01T09:00:00Z");
    expect(misread).toMatchObject({ decision: "allow", askOperator: true });
    expect(misread.explanation.match).toMatchObject({ kind: "fuzzy" });
    expect(await decide("AB123CD", "in", "2026-12-01T09:00:00Z")).toMatchObject({ askOperator: false });
    expect(await decide("QQ555QQ", "out", "2026-12-01T09:00:00Z")).toMatchObject({ askOperator: false });
    expect((await tc.api("/api/v1/approval/settings")).body).toMatchObject({
      passList: "Visitors",
      passHours: 4,
    });
  });
});
