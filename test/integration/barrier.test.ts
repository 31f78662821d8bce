/**
 * The barrier through the real controller: real HTTP, real SQLite audit, live socket, and the sim HAL driven
 * like the loop, limit switches and button would. Each safety rule gets a test that tries to break it;
 * ordering and delays are checked on the HAL's monotonic timestamps.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { IoTransition } from "../../hal/types.js";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { connectLive, type LiveClient } from "../helpers/live.js";
import { pushMilesight } from "../sim/milesight-http.js";

const CLOSE_DELAY = 50;
const OPEN_TIMEOUT = 300;
const HOLD_PULSE = 150;

let tc: TestController;
let live: LiveClient;

const history = (): readonly IoTransition[] => tc.hal.history?.() ?? [];
const edges = (name: string, active: boolean) =>
  history().filter((t) => t.name === name && t.active === active);
const sim = (name: string, active: boolean) => tc.hal.simulateInput?.(name, active);
const lane1 = async () =>
  (await tc.api("/api/v1/lanes")).body.items.find((l: { id: string }) => l.id === "1");
const audits = async () =>
  (await tc.api("/api/v1/audit")).body.items as { actor: string; action: string; detail: any }[];

/** Wait for a condition; fails the test (not hangs) after `timeoutMs`. */
async function waitUntil(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Let time pass to show that something does NOT happen. The only sleep here: there is no event to wait for
 * when the point is its absence. It is several times the delay under test.
 */
const quietFor = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `effect` followed `cause` in the same synchronous call chain (a few ms at most on a loaded machine). */
function expectSameInstant(effect: IoTransition | undefined, cause: IoTransition | undefined): void {
  expect(effect && cause).toBeTruthy();
  const lag = (effect?.monoMs ?? 0) - (cause?.monoMs ?? 0);
  expect(lag).toBeGreaterThanOrEqual(0);
  expect(lag).toBeLessThan(5);
}

const barrierState = (state: string) => (m: any) =>
  m.type === "barrier" && m.lane === "1" && m.state === state;

/** Never both the open (or hold) and the close relay made at once: replay the history. */
function assertInterlock(): void {
  const on = new Set<string>();
  for (const t of history()) {
    if (t.kind !== "output") continue;
    if (t.active) on.add(t.name);
    else on.delete(t.name);
    expect(on.has("lane1.barrier") && on.has("lane1.close"), `both relays made at ${t.monoMs}`).toBe(false);
  }
}

beforeEach(async () => {
  tc = await startTestController({
    site: testSite({
      outputs: [
        { name: "lane1.barrier", pin: 17 },
        { name: "lane1.close", pin: 18 },
        { name: "lane2.barrier", pin: 19 },
      ],
      inputs: [
        { name: "lane1.presence", pin: 27, debounceMs: 0 },
        { name: "lane1.up", pin: 5, debounceMs: 0 },
        { name: "lane1.down", pin: 6, debounceMs: 0 },
        { name: "lane1.button", pin: 13, debounceMs: 0 },
      ],
      lanes: [
        {
          id: "1",
          name: "Lane 1",
          barrierOutput: "lane1.barrier",
          closeOutput: "lane1.close",
          presenceInput: "lane1.presence",
          openLimitInput: "lane1.up",
          closedLimitInput: "lane1.down",
          buttonInput: "lane1.button",
          autoClose: true,
          openPulseMs: 100,
          closePulseMs: 100,
          holdPulseMs: HOLD_PULSE,
          closeDelayMs: CLOSE_DELAY,
          openTimeoutMs: OPEN_TIMEOUT,
          vehicleWaitMs: 10_000,
        },
        { id: "2", name: "Lane 2", barrierOutput: "lane2.barrier" },
      ],
    }),
  });
  live = await connectLive(tc.url, tc.token);
  sim("lane1.down", true); // the barrier starts closed
  await live.waitFor(barrierState("closed"));
});

afterEach(async () => {
  assertInterlock();
  await live.close();
  await tc.stop();
  tc.cleanup();
});

/** The arm reaches the top: what the open limit switch reports. */
async function armUp(): Promise<void> {
  sim("lane1.down", false);
  sim("lane1.up", true);
  await live.waitFor(barrierState("open"));
}

describe("barrier safety rules", () => {
  it("an allowed plate opens; auto-close comes only after the vehicle passed, closeDelayMs after the loop cleared", async () => {
    const res = await pushMilesight(tc.url, { plate: "AB123CD" }, tc.cameraSecret);
    expect(res.body).toMatchObject({ decision: "allow" });
    expect(edges("lane1.barrier", true)).toHaveLength(1);
    await live.waitFor(barrierState("opening"));
    await armUp();
    sim("lane1.presence", true);
    await quietFor(6 * CLOSE_DELAY);
    expect(edges("lane1.close", true)).toHaveLength(0); // a vehicle on the loop: no close
    sim("lane1.presence", false);
    await waitUntil(() => edges("lane1.close", true).length === 1, "the close relay is pulsed");
    const cleared = edges("lane1.presence", false)[0]?.monoMs ?? Number.NaN;
    const close = edges("lane1.close", true)[0]?.monoMs ?? Number.NaN;
    expect(close - cleared).toBeGreaterThanOrEqual(CLOSE_DELAY - 1);
    await live.waitFor(barrierState("closing"));
    sim("lane1.up", false);
    sim("lane1.down", true);
    await waitUntil(() => live.messages.filter(barrierState("closed")).length === 2, "closed again");
    expect((await lane1()).barrier).toMatchObject({ state: "closed", fault: null, expected: 0 });
  });

  it("a vehicle arriving while closing re-opens at once (same instant on the HAL clock), then closes after it", async () => {
    await tc.api("/api/v1/lanes/1/open", { body: {} });
    await armUp();
    expect((await tc.api("/api/v1/lanes/1/close", { body: {} })).body).toMatchObject({ deferred: false });
    sim("lane1.up", false); // the arm is coming down
    sim("lane1.presence", true);
    // Re-opened within the same call: the relay is already made when simulateInput returns.
    expect(tc.hal.output("lane1.barrier").active).toBe(true);
    expectSameInstant(edges("lane1.barrier", true)[1], edges("lane1.presence", true)[0]);
    expect(tc.hal.output("lane1.close").active).toBe(false); // the close pulse was cut (interlock)
    await live.waitFor(barrierState("opening"));
    sim("lane1.up", true);
    sim("lane1.presence", false);
    await waitUntil(() => edges("lane1.close", true).length === 2, "it closes again after the vehicle");
    expect(
      (edges("lane1.close", true)[1]?.monoMs ?? 0) - (edges("lane1.presence", false)[0]?.monoMs ?? 0),
    ).toBeGreaterThanOrEqual(CLOSE_DELAY - 1);
  });

  it("POST /close while a vehicle is present is deferred, audited, and only issued after the loop clears", async () => {
    await tc.api("/api/v1/lanes/1/open", { body: {} });
    await armUp();
    sim("lane1.presence", true);
    const res = await tc.api("/api/v1/lanes/1/close", { body: { reason: "end of shift" } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      lane: "1",
      deferred: true,
      barrier: { state: "open", closePending: true },
    });
    // Try to force it: close again, and again after a while.
    await tc.api("/api/v1/lanes/1/close", { body: {} });
    await quietFor(6 * CLOSE_DELAY);
    expect(edges("lane1.close", true)).toHaveLength(0);
    sim("lane1.presence", false);
    await waitUntil(() => edges("lane1.close", true).length === 1, "the deferred close is issued");
    expect(
      (edges("lane1.close", true)[0]?.monoMs ?? 0) - (edges("lane1.presence", false)[0]?.monoMs ?? 0),
    ).toBeGreaterThanOrEqual(CLOSE_DELAY - 1);
    const trail = await audits();
    expect(trail.find((a) => a.action === "lane.close" && a.detail.reason === "end of shift")).toMatchObject({
      actor: "admin",
      detail: { deferred: true },
    });
  });

  it("keeps open for a following allowed vehicle instead of closing in front of it", async () => {
    await pushMilesight(tc.url, { plate: "AB123CD" }, tc.cameraSecret);
    await armUp();
    sim("lane1.presence", true); // first car on the loop
    const second = await pushMilesight(tc.url, { plate: "KA777" }, tc.cameraSecret);
    expect(second.body).toMatchObject({ decision: "allow" });
    sim("lane1.presence", false); // first car through; the second is still coming
    await quietFor(6 * CLOSE_DELAY);
    expect(edges("lane1.close", true)).toHaveLength(0);
    expect((await lane1()).barrier).toMatchObject({ state: "open", expected: 1 });
    sim("lane1.presence", true);
    sim("lane1.presence", false);
    await waitUntil(() => edges("lane1.close", true).length === 1, "it closes after the second car");
  });

  it("an allowed decision during closing re-opens instead of closing in front of the car", async () => {
    await tc.api("/api/v1/lanes/1/open", { body: {} });
    await armUp();
    await tc.api("/api/v1/lanes/1/close", { body: {} });
    sim("lane1.up", false);
    await live.waitFor(barrierState("closing"));
    await pushMilesight(tc.url, { plate: "AB123CD" }, tc.cameraSecret);
    const close = edges("lane1.close", true)[0]?.monoMs ?? 0;
    const reopen = edges("lane1.barrier", true).at(-1)?.monoMs ?? 0;
    expect(reopen).toBeGreaterThan(close);
    expect(tc.hal.output("lane1.close").active).toBe(false);
    expect(tc.hal.output("lane1.barrier").active).toBe(true);
    await live.waitFor(barrierState("opening"));
  });

  it("no open report within openTimeoutMs is a fault in the audit trail; manual open still works; cleared on open", async () => {
    await tc.api("/api/v1/lanes/1/open", { body: {} });
    const fault = await live.waitFor(barrierState("fault"), 5 * OPEN_TIMEOUT);
    expect(fault).toMatchObject({ fault: { code: "open-timeout" }, position: "opening" });
    const opened = edges("lane1.barrier", true)[0]?.monoMs ?? 0;
    const raised = await audits();
    expect(raised[0]).toMatchObject({
      actor: "barrier",
      action: "barrier.fault",
      detail: { code: "open-timeout" },
    });
    const manual = await tc.api("/api/v1/lanes/1/open", { body: { reason: "fault, guard opens" } });
    expect(manual.status).toBe(200);
    expect(manual.body.barrier.state).toBe("fault");
    expect(edges("lane1.barrier", true).length).toBeGreaterThanOrEqual(2);
    expect(edges("lane1.barrier", true)[1]?.monoMs ?? 0).toBeGreaterThan(opened + OPEN_TIMEOUT - 1);
    await armUp();
    const trail = await audits();
    expect(trail.map((a) => a.action).slice(0, 2)).toEqual(["barrier.fault-cleared", "lane.open"]);
    expect((await lane1()).barrier).toMatchObject({ state: "open", fault: null });
  });

  it("reporting closed while a vehicle is on the loop is a fault and re-opens; cleared when the loop clears", async () => {
    await tc.api("/api/v1/lanes/1/open", { body: {} });
    await armUp();
    sim("lane1.presence", true);
    await waitUntil(() => !tc.hal.output("lane1.barrier").active, "the open pulse has ended");
    sim("lane1.up", false); // the barrier comes down by itself on the car: re-opened at once
    await waitUntil(() => !tc.hal.output("lane1.barrier").active, "the re-open pulse has ended");
    sim("lane1.down", true);
    expect(tc.hal.output("lane1.barrier").active).toBe(true);
    expectSameInstant(edges("lane1.barrier", true).at(-1), edges("lane1.down", true).at(-1));
    await live.waitFor((m) => barrierState("fault")(m) && m.fault.code === "closed-on-vehicle");
    sim("lane1.presence", false);
    const trail = await audits();
    expect(trail.slice(0, 2).map((a) => `${a.action}:${a.detail.code}`)).toEqual([
      "barrier.fault-cleared:closed-on-vehicle",
      "barrier.fault:closed-on-vehicle",
    ]);
  });
});

describe("commands and inputs", () => {
  it("hold keeps the relay made past many pulse widths, release drops it; both audited", async () => {
    const held = await tc.api("/api/v1/lanes/1/hold", { body: { reason: "event traffic" } });
    expect(held.status).toBe(200);
    expect(held.body.barrier.state).toBe("held");
    sim("lane1.down", false);
    sim("lane1.up", true); // the arm reports open, so no open-timeout fault
    await quietFor(5 * HOLD_PULSE); // the relay would have dropped twice over without re-assertion
    expect(tc.hal.output("lane1.barrier").active).toBe(true);
    expect(history().filter((t) => t.name === "lane1.barrier")).toHaveLength(1);
    sim("lane1.presence", true);
    sim("lane1.presence", false);
    await quietFor(6 * CLOSE_DELAY);
    expect(edges("lane1.close", true)).toHaveLength(0); // held: no auto-close
    const released = await tc.api("/api/v1/lanes/1/release", { body: {} });
    expect(released.status).toBe(200);
    expect(tc.hal.output("lane1.barrier").active).toBe(false);
    await waitUntil(() => edges("lane1.close", true).length === 1, "auto-close after the release");
    const trail = await audits();
    expect(trail.map((a) => a.action).slice(0, 2)).toEqual(["lane.release", "lane.hold"]);
    expect(trail[1]).toMatchObject({ actor: "admin", detail: { reason: "event traffic" } });
  });

  it("the manual button opens and is audited as actor 'button'", async () => {
    sim("lane1.button", true);
    expect(edges("lane1.barrier", true)).toHaveLength(1);
    expectSameInstant(edges("lane1.barrier", true)[0], edges("lane1.button", true)[0]);
    sim("lane1.button", false);
    const trail = await audits();
    expect(trail[0]).toMatchObject({
      actor: "button",
      action: "lane.open",
      detail: { input: "lane1.button" },
    });
  });

  it("lanes list the barrier; hold/close without the hardware for it are 409; unknown lanes 404", async () => {
    const lanes = (await tc.api("/api/v1/lanes")).body.items;
    expect(lanes[1]).toMatchObject({
      id: "2",
      barrierOutput: "lane2.barrier",
      closeOutput: null,
      barrier: { state: "unknown", canClose: false, canHold: true },
    });
    const close = await tc.api("/api/v1/lanes/2/close", { body: {} });
    expect(close.status).toBe(409);
    expect(close.body.message).toMatch(/closes by itself/);
    expect((await tc.api("/api/v1/lanes/9/hold", { body: {} })).status).toBe(404);
    expect((await tc.api("/api/v1/lanes/1/close", { body: { bogus: 1 } })).status).toBe(400);
    expect((await tc.api("/api/v1/lanes/1/hold", { body: {}, token: null })).status).toBe(401);
    const doc = (await (await fetch(`${tc.url}/api/openapi.json`)).json()) as any;
    for (const path of ["/api/v1/lanes/{id}/hold", "/api/v1/lanes/{id}/release", "/api/v1/lanes/{id}/close"])
      expect(doc.paths, path).toHaveProperty([path]);
  });
});
