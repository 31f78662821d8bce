/**
 * Actions through the API, on the real server: list them, enable/disable one and bind it to a schedule
 * (or unbind), with validation, audit, the next read using the change, and a restart keeping it — the
 * restart builds its site from the file's content again, so only what was stored can carry the change.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoSite, type SiteConfig } from "../../firmware/config/site.js";
import type { Clock } from "../../firmware/gate.js";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { pushMilesight } from "../sim/milesight-http.js";

/** Noon on a Wednesday in Amsterdam: the "Night" schedule is not active. */
const NOON = Date.parse("2026-06-03T10:00:00Z");
const clock: Clock = { now: () => NOON + (performance.now() % 1000), mono: () => performance.now() };

function site(): SiteConfig {
  const demo = demoSite();
  return testSite({
    timeZone: "Europe/Amsterdam",
    outputs: [...demo.outputs, { name: "lane1.beacon", pin: 22 }],
    schedules: [{ name: "Night", windows: [{ days: [0, 1, 2, 3, 4, 5, 6], from: "22:00", to: "06:00" }] }],
    filters: { repeatWindowMs: 0 },
    actions: [
      { on: { result: "allow" }, do: { type: "barrier-open" } },
      { id: "beacon", on: { result: "deny" }, do: { type: "output-pulse", output: "lane1.beacon", ms: 30 } },
    ],
  });
}

let tc: TestController;
const pulses = (name: string) => (tc.hal.history?.() ?? []).filter((t) => t.name === name && t.active).length;
const read = (plate: string) => pushMilesight(tc.url, { plate }, tc.cameraSecret);
const ALLOWED = demoSite().seedLists.find((l) => l.kind === "allow")?.plates[0] ?? "";

beforeAll(async () => {
  tc = await startTestController({ site: site(), clock });
});
afterAll(async () => {
  await tc.stop();
  tc.cleanup();
});

describe("actions through the API", () => {
  it("lists the site's actions with their refs, and no action details", async () => {
    const { items } = (await tc.api("/api/v1/actions")).body;
    expect(items).toEqual([
      {
        ref: "0:barrier-open",
        index: 0,
        id: null,
        type: "barrier-open",
        on: { result: "allow" },
        lanes: null,
        enabled: true,
        schedule: null,
      },
      expect.objectContaining({ ref: "beacon", type: "output-pulse", schedule: null, enabled: true }),
    ]);
    expect(JSON.stringify(items)).not.toContain("lane1.beacon");
  });

  it("binds an action to a schedule: the next read uses it, the dry run says so, audited", async () => {
    const before = pulses("lane1.beacon");
    await read("ZZ999ZZ");
    expect(pulses("lane1.beacon")).toBe(before + 1);
    const res = await tc.api("/api/v1/actions/beacon", { method: "PATCH", body: { schedule: "Night" } });
    expect(res.status).toBe(200);
    expect(res.body.action).toMatchObject({ ref: "beacon", schedule: "Night", enabled: true });
    expect((await tc.api("/api/v1/audit?limit=1")).body.items[0]).toMatchObject({
      id: res.body.auditId,
      action: "action.update",
      target: "action:beacon",
      detail: { from: { schedule: null, enabled: true }, to: { schedule: "Night", enabled: true } },
    });
    await read("ZZ999ZZ");
    expect(pulses("lane1.beacon")).toBe(before + 1);
    const dry = (await tc.api("/api/v1/decide", { body: { plate: "ZZ999ZZ", lane: "1" } })).body;
    expect(dry.outsideSchedule).toEqual([
      expect.objectContaining({ type: "output-pulse", schedule: "Night" }),
    ]);
    // The schedule cannot be deleted while the action is bound to it.
    const del = await tc.api("/api/v1/schedules/Night", { method: "DELETE" });
    expect(del.status).toBe(409);
  });

  it("disables an action: an allowed plate opens nothing", async () => {
    const res = await tc.api("/api/v1/actions/0:barrier-open", { method: "PATCH", body: { enabled: false } });
    expect(res.body.action).toMatchObject({ enabled: false });
    const before = pulses("lane1.barrier");
    expect((await read(ALLOWED)).body.decision).toBe("allow");
    expect(pulses("lane1.barrier")).toBe(before);
  });

  it("refuses bad changes with a clear message, changing nothing", async () => {
    const bad = async (path: string, body: unknown, status: number, message: RegExp) => {
      const res = await tc.api(path, { method: "PATCH", body });
      expect(res.status).toBe(status);
      expect(res.body.message).toMatch(message);
    };
    await bad(
      "/api/v1/actions/beacon",
      { schedule: "Weekends" },
      400,
      /\/schedule 'Weekends' is not a schedule/,
    );
    await bad("/api/v1/actions/beacon", {}, 400, /body/);
    await bad("/api/v1/actions/beacon", { enabled: "yes" }, 400, /enabled/);
    await bad("/api/v1/actions/beacon", { colour: "red" }, 400, /colour|additional/i);
    await bad(
      "/api/v1/actions/nope",
      { enabled: true },
      404,
      /action 'nope' does not exist; actions: '0:barrier-open', 'beacon'/,
    );
    expect((await tc.api("/api/v1/actions")).body.items[1]).toMatchObject({
      schedule: "Night",
      enabled: true,
    });
    expect((await tc.api("/api/v1/actions", { token: null })).status).toBe(401);
  });

  it("a restart keeps the changes; null unbinds", async () => {
    const dataDir = tc.dataDir;
    await tc.stop();
    tc = await startTestController({ site: site(), dataDir, clock });
    const { items } = (await tc.api("/api/v1/actions")).body;
    expect(items.map((a: { enabled: boolean; schedule: string | null }) => [a.enabled, a.schedule])).toEqual([
      [false, null],
      [true, "Night"],
    ]);
    await tc.api("/api/v1/actions/beacon", { method: "PATCH", body: { schedule: null } });
    const before = pulses("lane1.beacon");
    await read("ZZ999ZZ");
    expect(pulses("lane1.beacon")).toBe(before + 1);
  });
});
