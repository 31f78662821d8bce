/**
 * Zones through the real server: lane 1 enters zone 'Car park', lane 2 leaves it; Milesight pushes over HTTP.
 * Hard and soft anti-passback, manual resets, capacity against visitors, manual correction, the live
 * occupancy messages, the dry run (which changes nothing) and a restart that keeps presence and counts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SiteConfig } from "../../firmware/config/site.js";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { connectLive } from "../helpers/live.js";
import { pushMilesight } from "../sim/milesight-http.js";

const ENTRY_SECRET = "entry-camera-secret-0123456789";
const EXIT_SECRET = "exit-camera-secret-01234567890";

function zoneSite(antiPassback: "hard" | "soft", capacity?: number): SiteConfig {
  return testSite({
    outputs: [
      { name: "lane1.barrier", pin: 17 },
      { name: "lane2.barrier", pin: 18 },
    ],
    inputs: [],
    zones: [
      {
        name: "Car park",
        antiPassback,
        ...(capacity === undefined ? {} : { capacity }),
        lanes: [
          { lane: "1", direction: "entry" },
          { lane: "2", direction: "exit" },
        ],
      },
    ],
    lanes: [
      { id: "1", name: "In", barrierOutput: "lane1.barrier" },
      { id: "2", name: "Out", barrierOutput: "lane2.barrier" },
    ],
    cameras: [
      { id: "cam-in", protocol: "milesight-http", lane: "1", addresses: ["127.0.0.1"], secret: ENTRY_SECRET },
      { id: "cam-out", protocol: "milesight-http", lane: "2", addresses: ["127.0.0.1"], secret: EXIT_SECRET },
    ],
    filters: { repeatWindowMs: 0 },
    // Listed plates are allowed; visitors (not in a list) are let in and out too, unless the zone refuses.
    actions: [
      { on: { result: "allow" }, do: { type: "barrier-open" } },
      { on: { list: "not-in-list" }, do: { type: "barrier-open" } },
    ],
  });
}

const enter = (tc: TestController, plate: string) => pushMilesight(tc.url, { plate }, ENTRY_SECRET);
const leave = (tc: TestController, plate: string) => pushMilesight(tc.url, { plate }, EXIT_SECRET);
const opens = (tc: TestController, lane: string) =>
  (tc.hal.history?.() ?? []).filter((t) => t.name === `lane${lane}.barrier` && t.active).length;
const zone = async (tc: TestController) => (await tc.api("/api/v1/zones")).body.items[0];
const zonePath = `/api/v1/zones/${encodeURIComponent("Car park")}`;

describe("hard anti-passback and capacity", () => {
  let tc: TestController;
  beforeAll(async () => {
    tc = await startTestController({ site: zoneSite("hard", 3) });
  });
  afterAll(async () => {
    await tc.stop();
    tc.cleanup();
  });

  it("denies a second entry without an exit, with the reason, and leaves the barrier shut", async () => {
    const first = await enter(tc, "AB123CD");
    expect(first.body).toMatchObject({ status: "decided", decision: "allow" });
    const before = opens(tc, "1");
    const second = await enter(tc, "AB123CD");
    expect(second.body.decision).toBe("deny");
    expect(second.body.reason).toMatch(
      /^AB123CD entered zone 'Car park' at \d\d:\d\d and has not left \(anti-passback\)$/,
    );
    expect(opens(tc, "1")).toBe(before);
    const event = (await tc.api(`/api/v1/events/${second.body.eventId}`)).body;
    expect(event.explanation.presence).toMatchObject({
      zone: "Car park",
      movement: "entry",
      antiPassback: "hard",
      veto: { rule: "anti-passback" },
      applied: false,
      count: 1,
    });
    // The list that allowed it is kept in the chain, as overruled.
    expect(event.explanation.matches).toEqual([]);
    expect(event.explanation.overruled).toMatchObject({ listName: "Allow", kind: "allow", plate: "AB123CD" });
    expect((await zone(tc)).count).toBe(1);
  });

  it("lets the plate in again after it left", async () => {
    expect((await leave(tc, "AB123CD")).body.decision).toBe("allow");
    expect((await zone(tc)).count).toBe(0);
    expect((await enter(tc, "AB123CD")).body.decision).toBe("allow");
    expect((await zone(tc)).count).toBe(1);
  });

  it("two reads of the same plate in one tick cannot both enter", async () => {
    const before = (await zone(tc)).count;
    const [a, b] = await Promise.all([enter(tc, "SAME1"), enter(tc, "SAME1")]);
    const vetoed = [a, b].filter((r) => r.body.reason.endsWith("(anti-passback)"));
    expect(vetoed).toHaveLength(1);
    expect((await zone(tc)).count).toBe(before + 1);
    await leave(tc, "SAME1");
  });

  it("lists who is inside and forgets one plate on a manual reset, audited", async () => {
    const inside = (await tc.api(`${zonePath}/presence?plate=AB123`)).body;
    expect(inside.items).toMatchObject([{ plate: "AB123CD", laneId: "1" }]);
    expect((await tc.api(`${zonePath}/presence`, { token: null })).status).toBe(401);
    const reset = await tc.api(`${zonePath}/presence/AB123CD/reset`, {
      body: { reason: "read missed at exit" },
    });
    expect(reset.status).toBe(200);
    expect((await tc.api(`${zonePath}/presence/AB123CD/reset`, { body: {} })).status).toBe(404);
    const audit = (await tc.api("/api/v1/audit?limit=5")).body.items;
    expect(audit[0]).toMatchObject({
      action: "presence.reset",
      target: "zone:Car park",
      id: reset.body.auditId,
    });
    expect((await enter(tc, "AB123CD")).body.decision).toBe("allow");
    expect((await tc.api(`${zonePath}/presence`, { method: "DELETE" })).body).toMatchObject({ removed: 1 });
    expect((await tc.api(`${zonePath}/presence`)).body.items).toEqual([]);
  });

  it("the dry run shows the effect without applying it", async () => {
    await enter(tc, "DRY1");
    const count = (await zone(tc)).count;
    const dry = (await tc.api("/api/v1/decide", { body: { plate: "DRY1", lane: "1" } })).body;
    expect(dry.decision).toBe("deny");
    expect(dry.explanation.presence).toMatchObject({ veto: { rule: "anti-passback" }, applied: false });
    expect(dry.actions).toEqual([]);
    const out = (await tc.api("/api/v1/decide", { body: { plate: "DRY1", lane: "2" } })).body;
    expect(out.explanation.presence.effect).toMatchObject({ movement: "exit", countDelta: -1 });
    expect((await zone(tc)).count).toBe(count);
    expect((await tc.api(`${zonePath}/presence?plate=DRY1`)).body.items).toHaveLength(1);
  });

  it("full: visitors denied, listed plates allowed; live messages; manual correction audited", async () => {
    const live = await connectLive(tc.url, tc.token);
    const now = await zone(tc);
    expect(live.messages[0].zones).toEqual([
      { zone: "Car park", count: now.count, capacity: 3, full: now.full, inside: now.inside },
    ]);
    await tc.api(`${zonePath}/occupancy`, { method: "PUT", body: { count: 2, reason: "counted by hand" } });
    await live.waitFor((m) => m.type === "occupancy" && m.count === 2);
    expect((await enter(tc, "VISIT1")).body.decision).toBe("deny"); // not in list, but opened by the action…
    expect(opens(tc, "1")).toBeGreaterThan(0);
    await live.waitFor((m) => m.type === "occupancy" && m.count === 3 && m.capacity === 3 && m.full);
    const visitor = await enter(tc, "VISIT2");
    expect(visitor.body.reason).toBe("zone 'Car park' is full (3/3): only plates on an allow list may enter");
    const event = (await tc.api(`/api/v1/events/${visitor.body.eventId}`)).body;
    expect(event.explanation.presence).toMatchObject({
      full: true,
      veto: { rule: "capacity" },
      applied: false,
    });
    expect((await enter(tc, "KA777")).body.decision).toBe("allow");
    await live.waitFor((m) => m.type === "occupancy" && m.count === 4);
    const fix = await tc.api(`${zonePath}/occupancy`, {
      method: "PUT",
      body: { count: 1, reason: "recount" },
    });
    expect(fix.body).toMatchObject({ from: 4, zone: { count: 1, full: false } });
    const audit = (await tc.api("/api/v1/audit?limit=1")).body.items[0];
    expect(audit).toMatchObject({
      action: "occupancy.correct",
      detail: { from: 4, to: 1, reason: "recount" },
    });
    await live.waitFor((m) => m.type === "occupancy" && m.count === 1);
    await live.close();
  });

  it("a restart keeps who is inside and the count", async () => {
    const inside = (await tc.api(`${zonePath}/presence`)).body.items.map((r: { plate: string }) => r.plate);
    expect(inside).toContain("KA777");
    tc = await tc.restart();
    expect((await zone(tc)).count).toBe(1);
    expect((await tc.api(`${zonePath}/presence`)).body.items.map((r: { plate: string }) => r.plate)).toEqual(
      inside,
    );
    expect((await enter(tc, "KA777")).body.decision).toBe("deny");
  });
});

describe("soft anti-passback", () => {
  let tc: TestController;
  beforeAll(async () => {
    tc = await startTestController({ site: zoneSite("soft") });
  });
  afterAll(async () => {
    await tc.stop();
    tc.cleanup();
  });

  it("allows a second entry, flags it in the event and audits it", async () => {
    await enter(tc, "AB123CD");
    const second = await enter(tc, "AB123CD");
    expect(second.body.decision).toBe("allow");
    expect(second.body.reason).toMatch(/; soft anti-passback: AB123CD entered zone 'Car park' at \d\d:\d\d/);
    const event = (await tc.api(`/api/v1/events/${second.body.eventId}`)).body;
    expect(event.explanation.presence).toMatchObject({
      flag: { rule: "anti-passback" },
      applied: true,
      count: 1,
    });
    const audit = (await tc.api("/api/v1/audit?limit=5")).body.items;
    expect(audit).toContainEqual(
      expect.objectContaining({
        action: "presence.soft-anti-passback",
        actor: "gate",
        detail: expect.objectContaining({ eventId: second.body.eventId }),
      }),
    );
    expect((await zone(tc)).count).toBe(2);
  });

  it("an exit without an entry is allowed and noted", async () => {
    const out = await leave(tc, "KA777");
    expect(out.body.decision).toBe("allow");
    expect(out.body.reason).toContain("KA777 left zone 'Car park' without a recorded entry");
  });
});

describe("zones set up through the API", () => {
  let tc: TestController;
  // No zone in the site file: every zone here is made through the API. Lane 1 has a presence loop, and an
  // unbarriered side exit has a counting loop of its own.
  const site = (): SiteConfig => {
    const base = zoneSite("hard");
    return testSite({
      ...base,
      zones: [],
      // No debounce, so a crossing is two transitions at once.
      inputs: [
        { name: "lane1.presence", pin: 27, debounceMs: 0 },
        { name: "side.loop", pin: 22, debounceMs: 0 },
      ],
      lanes: [
        { id: "1", name: "In", barrierOutput: "lane1.barrier", presenceInput: "lane1.presence" },
        { id: "2", name: "Out", barrierOutput: "lane2.barrier" },
      ],
    });
  };
  const crossLoop = async (input: string) => {
    tc.hal.simulateInput?.(input, true);
    tc.hal.simulateInput?.(input, false);
  };
  const yard = `/api/v1/zones/Yard`;

  beforeAll(async () => {
    tc = await startTestController({ site: site() });
  });
  afterAll(async () => {
    await tc.stop();
    tc.cleanup();
  });

  it("creates a zone whose lanes track presence from the next read, audited and announced", async () => {
    expect((await tc.api("/api/v1/zones")).body.items).toEqual([]);
    const live = await connectLive(tc.url, tc.token);
    expect((await enter(tc, "AB123CD")).body.reason).not.toContain("zone");
    const created = await tc.api("/api/v1/zones", {
      body: {
        name: "Yard",
        capacity: 10,
        antiPassback: "hard",
        lanes: [
          { lane: "1", direction: "entry" },
          { lane: "2", direction: "exit" },
        ],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.zone).toMatchObject({
      name: "Yard",
      count: 0,
      capacity: 10,
      antiPassback: "hard",
      fullDenies: "visitors",
      lanes: [
        { lane: "1", direction: "entry", countBy: "decision" },
        { lane: "2", direction: "exit", countBy: "decision" },
      ],
      loops: [],
    });
    const audit = (await tc.api("/api/v1/audit?limit=1")).body.items[0];
    expect(audit).toMatchObject({ id: created.body.auditId, action: "zone.create", target: "zone:Yard" });
    expect((await enter(tc, "AB123CD")).body.decision).toBe("allow");
    expect((await enter(tc, "AB123CD")).body.reason).toMatch(/entered zone 'Yard' at .* \(anti-passback\)$/);
    expect((await tc.api(yard)).body.count).toBe(1);
    expect((await tc.api("/api/v1/zones", { body: { name: "Yard" } })).status).toBe(409);
    // The panel learns of the new zone, and of each entry (the count and the plates inside), live.
    const announced = await live.waitFor((m) => m.type === "zone");
    expect(announced.zone).toEqual(created.body.zone);
    await live.waitFor((m) => m.type === "occupancy" && m.zone === "Yard" && m.count === 1 && m.inside === 1);
    await live.close();
  });

  it("rejects bad definitions naming each problem, and changes nothing", async () => {
    const before = (await tc.api(yard)).body;
    const bad = async (body: object, method: "PUT" | "POST", problem: RegExp) => {
      const res = await tc.api(method === "PUT" ? yard : "/api/v1/zones", { method, body });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.message).toMatch(problem);
    };
    await bad({ lanes: [{ lane: "9" }] }, "PUT", /\/lanes\/0\/lane '9' is not among lanes/);
    await bad({ capacity: -1 }, "PUT", /capacity/);
    await bad({ antiPassback: "sometimes" }, "PUT", /antiPassback/);
    await bad({ resetAfterMs: 10 }, "PUT", /resetAfterMs/);
    await bad(
      { lanes: [{ lane: "2", direction: "exit", countBy: "loop" }] },
      "PUT",
      /countBy 'loop' needs a presenceInput on lane '2'/,
    );
    await bad({ lanes: [{ lane: "1", countBy: "loop" }] }, "PUT", /needs direction 'entry' or 'exit'/);
    await bad({ loops: [{ input: "nowhere", movement: "exit" }] }, "PUT", /loops\/0\/input 'nowhere'/);
    await bad(
      { countVisitorsOnly: true, loops: [{ input: "side.loop", movement: "exit" }] },
      "PUT",
      /countVisitorsOnly cannot be used with loop counting/,
    );
    await bad(
      { name: "Other", lanes: [{ lane: "1", direction: "entry" }] },
      "POST",
      /lane '1' already belongs to zone 'Yard'/,
    );
    expect((await tc.api(yard)).body).toEqual(before);
    expect((await tc.api("/api/v1/zones")).body.items).toHaveLength(1);
  });

  it("a change applies to the next read and keeps the count and who is inside", async () => {
    const changed = await tc.api(yard, {
      method: "PUT",
      body: {
        capacity: 10,
        antiPassback: "soft",
        lanes: [
          { lane: "1", direction: "entry", countBy: "loop" },
          { lane: "2", direction: "exit" },
        ],
        loops: [{ input: "side.loop", movement: "exit" }],
      },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.zone).toMatchObject({ count: 1, inside: 1, antiPassback: "soft" });
    expect((await tc.api("/api/v1/audit?limit=1")).body.items[0]).toMatchObject({
      action: "zone.update",
      detail: { from: { antiPassback: "hard" }, to: { antiPassback: "soft" } },
    });
    // Soft now: allowed and flagged.
    expect((await enter(tc, "AB123CD")).body.reason).toContain("soft anti-passback");
  });

  it("counts vehicles on loops: the entry lane's presence loop and the side exit's loop", async () => {
    const live = await connectLive(tc.url, tc.token);
    // Lane 1 is counted by its loop now: a decision alone does not change the count…
    const passage = async (read: Promise<{ body: { eventId: number } }>) =>
      (await tc.api(`/api/v1/events/${(await read).body.eventId}`)).body.explanation.presence;
    // A visitor: denied by the lists, but the site's action opens for it.
    expect(await passage(enter(tc, "NEW1"))).toMatchObject({ applied: true, effect: { countDelta: 0 } });
    expect((await tc.api(yard)).body).toMatchObject({ count: 1, inside: 2 });
    // …the vehicle crossing the loop does (released = passed), and so does a tailgater without a read.
    await crossLoop("lane1.presence");
    await crossLoop("lane1.presence");
    await live.waitFor((m) => m.type === "occupancy" && m.zone === "Yard" && m.count === 3);
    expect((await tc.api(yard)).body.count).toBe(3);
    // The side exit's loop counts out; never below zero.
    for (let i = 0; i < 5; i++) await crossLoop("side.loop");
    await live.waitFor((m) => m.type === "occupancy" && m.zone === "Yard" && m.count === 0);
    expect((await tc.api(yard)).body.count).toBe(0);
    // The exit lane still counts by decision.
    await crossLoop("lane1.presence");
    expect(await passage(leave(tc, "NEW1"))).toMatchObject({ applied: true, effect: { countDelta: -1 } });
    expect((await tc.api(yard)).body).toMatchObject({ count: 0, inside: 1 });
    await live.close();
  });

  it("a restart keeps the zone made through the API; a deleted zone stays deleted", async () => {
    tc = await tc.restart();
    expect((await tc.api(yard)).body).toMatchObject({
      antiPassback: "soft",
      loops: [{ input: "side.loop" }],
    });
    const live = await connectLive(tc.url, tc.token);
    const removed = await tc.api(yard, { method: "DELETE" });
    await live.waitFor((m) => m.type === "zone-removed" && m.zone === "Yard");
    await live.close();
    expect(removed.body).toMatchObject({ name: "Yard" });
    expect((await tc.api("/api/v1/audit?limit=1")).body.items[0]).toMatchObject({
      id: removed.body.auditId,
      action: "zone.delete",
      detail: { to: null, from: { name: "Yard" } },
    });
    expect((await tc.api(yard)).status).toBe(404);
    expect((await enter(tc, "NEW1")).body.reason).not.toContain("zone");
    tc = await tc.restart();
    expect((await tc.api("/api/v1/zones")).body.items).toEqual([]);
  });
});

describe("timed reset", () => {
  let tc: TestController;
  beforeAll(async () => {
    const site = zoneSite("hard");
    tc = await startTestController({
      site: testSite({ ...site, zones: [{ ...site.zones[0], resetAfterMs: 1000 }] }),
    });
  });
  afterAll(async () => {
    await tc.stop();
    tc.cleanup();
  });

  it("forgets a plate when its time is up and says so live, without waiting for another read", async () => {
    const live = await connectLive(tc.url, tc.token);
    const entered = Date.now();
    expect((await enter(tc, "AB123CD")).body.decision).toBe("allow");
    await live.waitFor((m) => m.type === "occupancy" && m.inside === 1);
    expect((await enter(tc, "AB123CD")).body.decision).toBe("deny");
    const forgotten = await live.waitFor((m) => m.type === "occupancy" && m.inside === 0, 5000);
    expect(Date.now() - entered).toBeGreaterThanOrEqual(1000);
    expect(forgotten).toMatchObject({ zone: "Car park", count: 1 }); // the count is not presence: it stays
    expect((await tc.api(`${zonePath}/presence`)).body.items).toEqual([]);
    expect((await enter(tc, "AB123CD")).body.decision).toBe("allow");
    await live.close();
  });
});
