/**
 * Passes and priorities through the HTTP API and the camera push path of a real controller: visit counts
 * (used up, reset, kept over a restart, untouched by the dry run), lane scope and lane groups, a priority
 * override, and the Wiegand `entry-card` source. `repeatWindowMs: 0`: every read is an arrival.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { SiteConfig } from "../../firmware/config/site.js";
import { encodeWiegand, WIEGAND_FORMATS } from "../../hal/wiegand-format.js";
import {
  startTestController,
  TEST_CAMERA_SECRET,
  type TestController,
  testSite,
} from "../helpers/controller.js";
import { asOneFrame, pulsesOf } from "../helpers/wiegand.js";
import { pushMilesight } from "../sim/milesight-http.js";

const SECRETS: Record<string, string> = {
  "1": TEST_CAMERA_SECRET,
  "2": "lane-two-camera-secret-0123",
  "3": "lane-three-camera-secret-01",
};

/** Three lanes with a camera each, lane group North = lanes 2 and 3, every read an arrival. */
function passSite(extra: Partial<Record<keyof SiteConfig, unknown>> = {}): SiteConfig {
  const lanes = ["1", "2", "3"];
  return testSite({
    outputs: lanes.map((id, i) => ({ name: `lane${id}.barrier`, pin: 17 + i })),
    inputs: [],
    lanes: lanes.map((id) => ({ id, name: `Lane ${id}`, barrierOutput: `lane${id}.barrier` })),
    laneGroups: [{ name: "North", lanes: ["2", "3"] }],
    cameras: lanes.map((id) => ({
      id: `cam${id}`,
      name: `Camera ${id}`,
      protocol: "milesight-http",
      lane: id,
      secret: SECRETS[id],
    })),
    filters: { repeatWindowMs: 0 },
    ...extra,
  });
}

let tc: TestController;

afterEach(async () => {
  await tc.stop();
  tc.cleanup();
});

const read = (plate: string, lane = "1") => pushMilesight(tc.url, { plate }, SECRETS[lane]);

async function listId(name: string): Promise<number> {
  const lists = await tc.api("/api/v1/lists");
  return lists.body.items.find((l: { name: string }) => l.name === name).id;
}

async function addEntry(list: string, body: Record<string, unknown>): Promise<{ id: number; list: number }> {
  const id = await listId(list);
  const res = await tc.api(`/api/v1/lists/${id}/entries`, { body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id, list: id };
}

async function entryOf(list: number, entryId: number): Promise<Record<string, unknown>> {
  const res = await tc.api(`/api/v1/lists/${list}/entries`);
  return res.body.items.find((e: { id: number }) => e.id === entryId);
}

async function eventOf(res: { body: { event?: { id: number }; eventId?: number; id?: number } }) {
  const id = res.body.event?.id ?? res.body.eventId ?? res.body.id;
  return (await tc.api(`/api/v1/events/${id}`)).body;
}

const opens = (lane: string) =>
  (tc.hal.history?.() ?? []).filter((t) => t.name === `lane${lane}.barrier` && t.active).length;

describe("visitor passes", () => {
  it("2 visits: two opens, then denied with the count; the dry run uses none; reset opens again", async () => {
    tc = await startTestController({ site: passSite() });
    const e = await addEntry("Allow", { plate: "VI 5170 R", maxVisits: 2 });
    expect(await entryOf(e.list, e.id)).toMatchObject({ maxVisits: 2, visitsUsed: 0, visitsLeft: 2 });

    for (let i = 0; i < 3; i++) {
      const dry = await tc.api("/api/v1/decide", { body: { plate: "VI5170R", lane: "1" } });
      expect(dry.body).toMatchObject({
        decision: "allow",
        reason: "VI5170R is on allow list 'Allow' (visit 1 of 2)",
      });
    }
    expect(await entryOf(e.list, e.id)).toMatchObject({ visitsUsed: 0, visitsLeft: 2 });

    const first = await read("VI5170R");
    expect(first.body).toMatchObject({ decision: "allow" });
    const second = await read("VI5170R");
    expect(second.body).toMatchObject({ decision: "allow" });
    const third = await read("VI5170R");
    expect(third.body).toMatchObject({ decision: "deny" });
    const denied = await eventOf(third);
    expect(denied.reason).toBe(
      "VI5170R is on allow list 'Allow' but its visitor pass is used up (2 of 2 visits)",
    );
    expect(denied.explanation).toMatchObject({
      notInForce: { because: "used-up", entryId: e.id },
      pass: { entryId: e.id, maxVisits: 2, visitsUsed: 2, consumes: false },
    });
    const allowed = await eventOf(second);
    expect(allowed.reason).toBe("VI5170R is on allow list 'Allow' (visit 2 of 2)");
    expect(allowed.explanation.pass).toMatchObject({ visitsUsed: 1, consumes: true });
    // The barrier opened (a second open while it is still up keeps it up rather than pulsing again).
    await vi.waitFor(() => expect(opens("1")).toBeGreaterThan(0));
    await vi.waitFor(async () =>
      expect(await entryOf(e.list, e.id)).toMatchObject({ visitsUsed: 2, visitsLeft: 0 }),
    );

    const reset = await tc.api(`/api/v1/lists/${e.list}/entries/${e.id}/reset-visits`, { method: "POST" });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ visitsUsed: 0, visitsLeft: 2 });
    const audit = await tc.api("/api/v1/audit");
    expect(JSON.stringify(audit.body)).toContain("entry.reset-visits");
    expect((await read("VI5170R")).body).toMatchObject({ decision: "allow" });
  });

  it("many arrivals in one turn on three lanes: a pass with one visit left opens exactly once", async () => {
    tc = await startTestController({ site: passSite() });
    const e = await addEntry("Allow", { plate: "ONCE123", maxVisits: 1 });
    const results = await Promise.all(["1", "2", "3", "1", "2", "3"].map((lane) => read("ONCE123", lane)));
    expect(results.filter((r) => r.body.decision === "allow")).toHaveLength(1);
    await vi.waitFor(async () => expect(await entryOf(e.list, e.id)).toMatchObject({ visitsUsed: 1 }));
  });

  it("a restart keeps the committed count", async () => {
    tc = await startTestController({ site: passSite() });
    const e = await addEntry("Allow", { plate: "KEEP123", maxVisits: 2 });
    expect((await read("KEEP123")).body).toMatchObject({ decision: "allow" });
    tc = await tc.restart();
    expect(await entryOf(e.list, e.id)).toMatchObject({ visitsUsed: 1, visitsLeft: 1 });
    expect((await read("KEEP123")).body).toMatchObject({ decision: "allow" });
    expect((await read("KEEP123")).body).toMatchObject({ decision: "deny" });
  });

  it("refuses bad passes with the field's path", async () => {
    tc = await startTestController({ site: passSite() });
    const allow = await listId("Allow");
    const block = await listId("Block");
    const negative = await tc.api(`/api/v1/lists/${allow}/entries`, {
      body: { plate: "NEG1234", maxVisits: -1 },
    });
    expect(negative.status).toBe(400);
    expect(negative.body.message).toContain("maxVisits");
    const lane = await tc.api(`/api/v1/lists/${allow}/entries`, {
      body: { plate: "LAN1234", lanes: ["1", "9"] },
    });
    expect(lane.status).toBe(400);
    expect(lane.body.message).toContain(
      "/lanes/1 '9' is neither a lane nor a lane group (lanes: 1, 2, 3; groups: North)",
    );
    const onBlock = await tc.api(`/api/v1/lists/${block}/entries`, {
      body: { plate: "BLK1234", maxVisits: 2 },
    });
    expect(onBlock.status).toBe(400);
    expect(onBlock.body.message).toContain("/maxVisits: only entries of allow lists have visits");
    const e = await addEntry("Allow", { plate: "PAT1234" });
    const patch = await tc.api(`/api/v1/lists/${allow}/entries/${e.id}`, {
      method: "PATCH",
      body: { lanes: ["Nowhere"] },
    });
    expect(patch.status).toBe(400);
    expect(patch.body.message).toContain("/lanes/0 'Nowhere'");
  });
});

describe("lane scope", () => {
  it("a lane-scoped pass opens on its lane only, and says why not elsewhere", async () => {
    tc = await startTestController({ site: passSite() });
    await addEntry("Allow", { plate: "LANE111", lanes: ["1"] });
    const other = await read("LANE111", "2");
    expect(other.body).toMatchObject({ decision: "deny" });
    expect((await eventOf(other)).reason).toBe(
      "LANE111 is on allow list 'Allow' but it is not valid on lane 2 (pass for lanes: 1)",
    );
    expect((await read("LANE111", "1")).body).toMatchObject({ decision: "allow" });
    await vi.waitFor(() => expect(opens("1")).toBe(1));
    expect(opens("2")).toBe(0);
  });

  it("a pass for a lane group opens on the group's lanes", async () => {
    tc = await startTestController({ site: passSite() });
    const e = await addEntry("Allow", { plate: "GROUP22", lanes: ["North"], maxVisits: 5 });
    expect(await entryOf(e.list, e.id)).toMatchObject({ lanes: ["North"] });
    expect((await read("GROUP22", "3")).body).toMatchObject({ decision: "allow" });
    expect((await read("GROUP22", "2")).body).toMatchObject({ decision: "allow" });
    const lane1 = await read("GROUP22", "1");
    expect(lane1.body).toMatchObject({ decision: "deny" });
    expect((await eventOf(lane1)).reason).toContain(
      "not valid on lane 1 (pass for lanes: group 'North' (2, 3))",
    );
    // Out of scope used no visit.
    await vi.waitFor(async () => expect(await entryOf(e.list, e.id)).toMatchObject({ visitsUsed: 2 }));
  });
});

describe("priorities", () => {
  it("block beats allow by default; an allow list configured above it overrides, shown in the explanation", async () => {
    tc = await startTestController({ site: passSite() });
    const vip = await tc.api("/api/v1/lists", { body: { name: "VIP", kind: "allow", priority: 200 } });
    expect(vip.body).toMatchObject({ priority: 200, effectivePriority: 200 });
    const lists = await tc.api("/api/v1/lists");
    expect(lists.body.items.find((l: { name: string }) => l.name === "Block")).toMatchObject({
      priority: null,
      effectivePriority: 100,
    });
    await addEntry("Allow", { plate: "XY999ZZ" });
    expect((await read("XY999ZZ")).body).toMatchObject({ decision: "deny" });

    await addEntry("VIP", { plate: "XY999ZZ" });
    const over = await read("XY999ZZ");
    expect(over.body).toMatchObject({ decision: "allow" });
    const event = await eventOf(over);
    expect(event.reason).toBe(
      "XY999ZZ is on allow list 'VIP' (priority 200, above block list 'Block' at 100)",
    );
    expect(
      event.explanation.matches.map((m: { listName: string; priority: number }) => [m.listName, m.priority]),
    ).toEqual([
      ["VIP", 200],
      ["Block", 100],
      ["Allow", 50],
    ]);

    const cleared = await tc.api(`/api/v1/lists/${vip.body.id}`, {
      method: "PATCH",
      body: { priority: null },
    });
    expect(cleared.body).toMatchObject({ priority: null, effectivePriority: 50 });
    expect((await read("XY999ZZ")).body).toMatchObject({ decision: "deny" });
  });
});

describe("wiegand entry-card", () => {
  it("sends the decisive entry's card number; an entry without one sends notInListCode", async () => {
    const site = passSite({
      outputs: [
        ...["1", "2", "3"].map((id, i) => ({ name: `lane${id}.barrier`, pin: 17 + i })),
        { name: "wg.d0", pin: 5 },
        { name: "wg.d1", pin: 6 },
      ],
      wiegand: [{ name: "panel", d0: "wg.d0", d1: "wg.d1" }],
      actions: [
        { on: { result: "allow" }, do: { type: "barrier-open" } },
        {
          on: { result: "allow" },
          do: {
            type: "wiegand",
            device: "panel",
            format: "26-h10301",
            source: "entry-card",
            facility: 42,
            notInListCode: 9,
          },
        },
      ],
    });
    tc = await startTestController({ site });
    const e = await addEntry("Allow", { plate: "CARD001", cardNumber: "4242" });
    expect(await entryOf(e.list, e.id)).toMatchObject({ cardNumber: 4242 });
    expect((await read("CARD001")).body).toMatchObject({ decision: "allow" });
    const H10301 = WIEGAND_FORMATS["26-h10301"];
    // The bits on the lines in order (frames are 100 ms apart, and a loaded VM can pause a frame that long).
    const bits = () => asOneFrame(pulsesOf(tc.hal.history?.() ?? [], "wg.d0", "wg.d1")).bits;
    const card4242 = encodeWiegand(H10301, { facility: 42, card: 4242 });
    await vi.waitFor(() => expect(bits()).toBe(card4242), { timeout: 2000 });
    expect((await read("AB123CD")).body).toMatchObject({ decision: "allow" }); // seeded, no card number
    await vi.waitFor(() => expect(bits()).toBe(card4242 + encodeWiegand(H10301, { facility: 42, card: 9 })), {
      timeout: 2000,
    });
  });
});
