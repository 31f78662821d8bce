/**
 * The foundation path end to end: a camera's plate POST → decision → relay pulse, stored and announced live.
 * Real HTTP server on loopback, real SQLite file, sim HAL.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { IoTransition } from "../../hal/types.js";
import { startTestController, type TestController } from "../helpers/controller.js";
import { connectLive, type LiveClient } from "../helpers/live.js";
import { milesightPayload, pushMilesight } from "../sim/milesight-http.js";

const BARRIER = "lane1.barrier";
const PULSE_MS = 500;

let tc: TestController;
let live: LiveClient;

const barrierTransitions = (): IoTransition[] => (tc.hal.history?.() ?? []).filter((t) => t.name === BARRIER);
const activations = (): IoTransition[] => barrierTransitions().filter((t) => t.active);
const eventCount = async (): Promise<number> => (await tc.api("/api/v1/events?limit=1000")).body.items.length;

beforeEach(async () => {
  tc = await startTestController();
  live = await connectLive(tc.url, tc.token);
});

afterEach(async () => {
  await live.close();
  await tc.stop();
  tc.cleanup();
});

describe("a Milesight POST for an allowed plate", () => {
  it("gives exactly one relay pulse of the configured width, one stored event and one live decision", async () => {
    const result = await pushMilesight(tc.url, { plate: "ab 123-cd", confidence: 96 }, tc.cameraSecret);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ status: "decided", decision: "allow" });

    const off = await live.waitFor(
      (m) => m.type === "io" && m.name === BARRIER && m.state === "inactive",
      3000,
    );
    expect(off.kind).toBe("output");
    const transitions = barrierTransitions();
    expect(transitions.map((t) => t.active)).toEqual([true, false]);
    const width = (transitions[1] as IoTransition).monoMs - (transitions[0] as IoTransition).monoMs;
    expect(width).toBeGreaterThanOrEqual(PULSE_MS - 1);
    expect(width).toBeLessThan(PULSE_MS + 100);

    const events = (await tc.api("/api/v1/events")).body.items;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      plate: "AB123CD",
      plateRaw: "ab 123-cd",
      cameraId: "cam1",
      laneId: "1",
      decision: "allow",
      listName: "Allow",
      listKind: "allow",
      confidence: 96,
      direction: "approach",
      extras: { vehicleBrand: "Volkswagen", plateColor: "White", region: "NLD" },
    });
    expect(events[0].reason).toContain("allow list 'Allow'");
    expect(events[0].latencyMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(events[0].relayAt)).toBeGreaterThanOrEqual(Date.parse(events[0].receivedAt));

    const decisions = live.messages.filter((m) => m.type === "decision");
    expect(decisions).toHaveLength(1);
    expect(decisions[0].event).toMatchObject({ id: events[0].id, plate: "AB123CD", decision: "allow" });
  });

  it("reads the Title Case field names of newer firmware", async () => {
    const body = milesightPayload({
      plate: "AB123CD",
      generation: "title",
      confidence: 88,
      direction: "Away",
    });
    expect(body).toHaveProperty("Vehicle Type");
    const result = await pushMilesight(
      tc.url,
      { plate: "AB123CD", generation: "title", confidence: 88, direction: "Away" },
      tc.cameraSecret,
    );
    expect(result.body).toMatchObject({ decision: "allow" });
    const [event] = (await tc.api("/api/v1/events")).body.items;
    expect(event).toMatchObject({
      confidence: 88,
      direction: "away",
      extras: { vehicleType: "Car", vehicleColor: "Red" },
    });
  });
});

describe("Milesight HTTP GET form", () => {
  it("decides a GET read with or without the '?' the camera omits", async () => {
    const withMark = await fetch(
      `${tc.url}/api/v1/ingest/milesight?source=LPR&description=AB123CD&secret=${tc.cameraSecret}`,
    );
    expect(withMark.status).toBe(200);
    expect(await withMark.json()).toMatchObject({ status: "decided", decision: "allow" });
    const withoutMark = await fetch(
      `${tc.url}/api/v1/ingest/milesightsource=LPR&description=XY999ZZ&secret=${tc.cameraSecret}`,
    );
    expect(await withoutMark.json()).toMatchObject({ status: "decided", decision: "deny" });
    const plates = (await tc.api("/api/v1/events")).body.items.map((e: { plate: string }) => e.plate);
    expect(plates).toEqual(["XY999ZZ", "AB123CD"]);
    const noPlate = await fetch(`${tc.url}/api/v1/ingest/milesight?source=LPR&secret=${tc.cameraSecret}`);
    expect(noPlate.status).toBe(400);
    expect(((await noPlate.json()) as any).message).toMatch(/query.description: missing/);
  });
});

describe("plates that must not open", () => {
  it("a blocked plate is denied, stored, announced, and opens nothing", async () => {
    const result = await pushMilesight(tc.url, { plate: "XY-999-ZZ" }, tc.cameraSecret);
    expect(result.body).toMatchObject({ status: "decided", decision: "deny" });
    expect((result.body as { reason: string }).reason).toContain("block list 'Block'");
    await live.waitFor((m) => m.type === "decision" && m.event.plate === "XY999ZZ");
    expect(activations()).toHaveLength(0);
    expect(await eventCount()).toBe(1);
  });

  it("an unknown plate is denied with the reason that it is on no list", async () => {
    const result = await pushMilesight(tc.url, { plate: "QQ404QQ" }, tc.cameraSecret);
    expect(result.body).toMatchObject({ decision: "deny", reason: "QQ404QQ is not on any list" });
    expect(activations()).toHaveLength(0);
  });
});

describe("the repetition filter", () => {
  it("a repeated read inside the window gives no second pulse and no second event", async () => {
    const first = await pushMilesight(tc.url, { plate: "AB123CD" }, tc.cameraSecret);
    const second = await pushMilesight(tc.url, { plate: "AB-123-CD" }, tc.cameraSecret);
    expect(first.body).toMatchObject({ status: "decided" });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ status: "duplicate" });
    expect(activations()).toHaveLength(1);
    expect(await eventCount()).toBe(1);
  });
});

describe("bad input", () => {
  it("a malformed body gets 400 naming the problem and stores nothing", async () => {
    const post = (body: string) =>
      fetch(`${tc.url}/api/v1/ingest/milesight`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-camera-secret": tc.cameraSecret },
        body,
      });
    const noPlate = await post(JSON.stringify({ device: "Network Camera", confidence: 90 }));
    expect(noPlate.status).toBe(400);
    expect(((await noPlate.json()) as any).message).toMatch(/body\.plate: missing/);

    const wrongType = await post(JSON.stringify({ plate: 12345 }));
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as any).message).toMatch(/body\.plate: expected a string/);

    const badConfidence = await post(JSON.stringify({ plate: "AB123CD", confidence: 250 }));
    expect(badConfidence.status).toBe(400);
    expect(((await badConfidence.json()) as any).message).toMatch(/body\.confidence/);

    const notJson = await post("{plate: AB123CD");
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as any).message).toMatch(/JSON/);

    const badGeneric = await fetch(`${tc.url}/api/v1/ingest/generic`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-camera-secret": tc.cameraSecret },
      body: JSON.stringify({ plate: "AB123CD", colour: "red" }),
    });
    expect(badGeneric.status).toBe(400);
    expect(((await badGeneric.json()) as any).message).toBe("body.colour: unknown field");

    expect(await eventCount()).toBe(0);
    expect(activations()).toHaveLength(0);
  });

  it("a push from an unknown camera is refused with 401 and stores nothing", async () => {
    const wrongSecret = await pushMilesight(tc.url, { plate: "AB123CD" }, "not-the-camera-secret-at-all");
    expect(wrongSecret.status).toBe(401);
    expect(await eventCount()).toBe(0);
    expect(activations()).toHaveLength(0);
  });

  it("a non-plate Milesight event is acknowledged and ignored", async () => {
    const res = await fetch(`${tc.url}/api/v1/ingest/milesight`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-camera-secret": tc.cameraSecret },
      body: JSON.stringify({ event: "Vehicle Counting", "License Plate": "AB123CD", Car: 1 }),
    });
    expect(res.status).toBe(202);
    expect(activations()).toHaveLength(0);
  });
});

describe("persistence and safety", () => {
  it("a restart keeps lists, entries and events", async () => {
    const created = await tc.api("/api/v1/lists", { body: { name: "Staff", kind: "allow" } });
    expect(created.status).toBe(201);
    await tc.api(`/api/v1/lists/${created.body.id}/entries`, {
      body: { plate: "ST 4FF 01", description: "J. Doe" },
    });
    await pushMilesight(tc.url, { plate: "ST4FF01" }, tc.cameraSecret);
    await live.close();
    tc = await tc.restart();
    live = await connectLive(tc.url, tc.token);

    const lists = (await tc.api("/api/v1/lists")).body.items;
    expect(lists.map((l: { name: string }) => l.name)).toEqual(["Allow", "Block", "Staff"]);
    const entries = (await tc.api(`/api/v1/lists/${created.body.id}/entries`)).body.items;
    expect(entries).toMatchObject([{ plate: "ST4FF01", plateRaw: "ST 4FF 01", description: "J. Doe" }]);
    const events = (await tc.api("/api/v1/events")).body.items;
    expect(events).toMatchObject([{ plate: "ST4FF01", decision: "allow", listName: "Staff" }]);
    // Seeds are not re-created on restart.
    expect(lists).toHaveLength(3);
  });

  it("outputs are safe after start and after stop, even when stopped mid-pulse", async () => {
    expect(
      (await tc.api("/api/v1/io")).body.items.find((i: { name: string }) => i.name === BARRIER).state,
    ).toBe("inactive");
    await pushMilesight(tc.url, { plate: "AB123CD" }, tc.cameraSecret);
    expect(tc.hal.output(BARRIER).active).toBe(true);
    const hal = tc.hal;
    await live.close();
    await tc.stop();
    const last = (hal.history?.() ?? []).filter((t) => t.name === BARRIER).at(-1);
    expect(last?.active).toBe(false);
    // Restart for afterEach to stop again.
    tc = await startTestController({ dataDir: tc.dataDir });
    live = await connectLive(tc.url, tc.token);
    expect(tc.hal.output(BARRIER).active).toBe(false);
  });
});
