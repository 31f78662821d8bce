/** The ONVIF PullPoint link against the simulated camera, over real loopback sockets. */
import { Compile } from "typebox/compile";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type CameraConfig, demoSite } from "../../firmware/config/site.js";
import { adapter } from "../../firmware/ingest/onvif.js";
import type { CameraLink, LinkState, PlateRead } from "../../firmware/ingest/types.js";
import { createLogger } from "../../firmware/util/log.js";
import { startTestController, testSite } from "../helpers/controller.js";
import { type OnvifCamera, type OnvifCameraOptions, PLATE_TOPIC, startOnvifCamera } from "../sim/onvif.js";

const USER = "gate";
const PASSWORD = "Corr3ct-Horse";
const settings = Compile(adapter.settings);

interface Recording {
  reads: { read: PlateRead; receivedMono: number }[];
  errors: { at: number; problem: string }[];
  states: { state: LinkState; detail?: string }[];
  events: unknown[];
  /** Resolve when `check` holds, checked on every callback of the link; reject after `ms`. */
  until(what: string, check: () => boolean, ms?: number): Promise<void>;
}

function record(): Recording & { notify(): void } {
  const waiters = new Set<() => void>();
  const rec = {
    reads: [],
    errors: [],
    states: [],
    events: [],
    notify() {
      for (const w of waiters) w();
    },
    until(what: string, check: () => boolean, ms = 5000) {
      return new Promise<void>((resolve, reject) => {
        const waiter = (): void => {
          if (!check()) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`timed out waiting for ${what}; errors: ${JSON.stringify(rec.errors.slice(-3))}`));
        }, ms);
        waiters.add(waiter);
        waiter();
      });
    },
  } as Recording & { notify(): void };
  return rec;
}

const open: CameraLink[] = [];
const cameras: OnvifCamera[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
  await Promise.all(cameras.splice(0).map((c) => c.close()));
});

async function camera(opts: Partial<OnvifCameraOptions> = {}): Promise<OnvifCamera> {
  const cam = await startOnvifCamera({ username: USER, password: PASSWORD, ...opts });
  cameras.push(cam);
  return cam;
}

function connect(
  port: number,
  connection: Record<string, unknown> = {},
): { link: CameraLink; rec: Recording; camera: CameraConfig } {
  const rec = record();
  const cameraConfig = {
    id: "onvif1",
    protocol: "onvif",
    lane: "1",
    role: "both",
    channel: 1,
    addresses: [],
    enabled: true,
    connection: settings.Default({
      host: "127.0.0.1",
      port,
      username: USER,
      password: PASSWORD,
      pullTimeoutSeconds: 1,
      requestTimeoutSeconds: 2,
      backoffMinMs: 20,
      backoffMaxMs: 200,
      ...connection,
    }) as Record<string, unknown>,
  } as CameraConfig;
  expect(settings.Check(cameraConfig.connection)).toBe(true);
  const link = adapter.open({
    camera: cameraConfig,
    siteTimeZone: "UTC",
    log: createLogger("silent"),
    onRead(read, receivedMono) {
      rec.reads.push({ read, receivedMono });
      (rec as any).notify();
    },
    onCameraEvent(kind, data) {
      rec.events.push({ kind, data });
      (rec as any).notify();
    },
    onStatus(state, detail) {
      rec.states.push({ state, detail });
      (rec as any).notify();
    },
    onError(problem) {
      rec.errors.push({ at: performance.now(), problem });
      (rec as any).notify();
    },
  });
  open.push(link);
  return { link, rec, camera: cameraConfig };
}

const connected = (rec: Recording): number => rec.states.filter((s) => s.state === "connected").length;
const ops = (cam: OnvifCamera, op: string): number => cam.requests().filter((r) => r.operation === op).length;

describe("ONVIF PullPoint link", () => {
  it("finds the event service, subscribes to the plate topic and turns a notification into a read", async () => {
    // A NATed camera: the addresses it hands out name a host we cannot reach; only their paths are used.
    const cam = await camera({ advertisedHost: "192.0.2.10:8999", eventPath: "/onvif/Events" });
    const { rec } = connect(cam.port);
    await rec.until("connected", () => connected(rec) === 1);
    expect(cam.filters()).toEqual([PLATE_TOPIC]);
    expect(cam.subscriptions()).toBe(1);
    const sent = performance.now();
    await cam.sendPlate({ plate: "AB-123-CD", confidence: 91, country: "DE", direction: "in", phase: "new" });
    await rec.until("a read", () => rec.reads.length === 1);
    const [{ read, receivedMono }] = rec.reads as [{ read: PlateRead; receivedMono: number }];
    expect(read).toMatchObject({
      plate: { normalised: "AB123CD" },
      confidence: 91,
      direction: "in",
      phase: "new",
      extras: { country: "DE", topic: "RuleEngine/LicensePlateDetector/LicensePlate" },
    });
    expect(Math.abs((read.cameraTime ?? 0) - Date.now())).toBeLessThan(5000);
    expect(receivedMono).toBeGreaterThanOrEqual(sent);
    expect(receivedMono).toBeLessThanOrEqual(performance.now());
    const [services, create, pull] = cam.requests();
    expect(services).toMatchObject({ operation: "GetServices", path: "/onvif/device_service" });
    expect(create).toMatchObject({ operation: "CreatePullPointSubscription", path: "/onvif/Events" });
    expect(pull).toMatchObject({
      operation: "PullMessages",
      path: "/onvif/subscription/1",
      to: "http://192.0.2.10:8999/onvif/subscription/1",
    });
    expect(rec.errors).toEqual([]);
  });

  it("ignores events on other topics and renews the subscription before it ends", async () => {
    const cam = await camera();
    const { rec } = connect(cam.port, { subscriptionTermSeconds: 2 });
    await rec.until("connected", () => connected(rec) === 1);
    await cam.sendEvent("tns1:RuleEngine/CellMotionDetector/Motion", { IsMotion: "true" });
    await cam.sendPlate({ plate: "XY999ZZ", plateItem: "LicensePlateResult" });
    await rec.until("the plate", () => rec.reads.length === 1);
    expect(rec.reads[0]?.read.plate.normalised).toBe("XY999ZZ");
    // A 2 s term with 1 s pulls is renewed about every second; the camera drops it if a renewal is late.
    await vi.waitFor(() => expect(ops(cam, "Renew")).toBeGreaterThanOrEqual(3), {
      timeout: 8000,
      interval: 20,
    });
    expect(ops(cam, "CreatePullPointSubscription")).toBe(1);
    await cam.sendPlate({ plate: "KA 777" });
    await rec.until("a read after renewals", () => rec.reads.length === 2);
    expect(rec.errors).toEqual([]);
    expect(rec.events).toEqual([]);
  }, 15_000);

  it("resubscribes when the camera forgets the subscription, without replaying the last plate", async () => {
    const cam = await camera();
    const { rec } = connect(cam.port);
    await rec.until("connected", () => connected(rec) === 1);
    await cam.sendPlate({ plate: "AB123CD" });
    await rec.until("first read", () => rec.reads.length === 1);
    cam.expireSubscription();
    await rec.until("reconnected", () => connected(rec) === 2);
    expect(rec.errors[0]?.problem).toMatch(/^pull \/onvif\/subscription\/1: SOAP fault .*InvalidArgVal/);
    expect(rec.states.map((s) => s.state)).toContain("disconnected");
    await cam.sendPlate({ plate: "KA777" });
    await rec.until("second read", () => rec.reads.length === 2);
    // The new subscription first got AB123CD again as Initialized state: not a second arrival.
    expect(rec.reads.map((r) => r.read.plate.normalised)).toEqual(["AB123CD", "KA777"]);
    expect(cam.subscriptions()).toBe(1);
  });

  it("resubscribes when a pull loses its connection, and drops the old subscription", async () => {
    const cam = await camera();
    const { rec } = connect(cam.port);
    await rec.until("connected", () => connected(rec) === 1);
    await vi.waitFor(() => expect(ops(cam, "PullMessages")).toBeGreaterThanOrEqual(1), { interval: 10 });
    cam.failNextPull();
    await rec.until("reconnected", () => connected(rec) === 2);
    expect(rec.errors[0]?.problem).toMatch(/^pull \/onvif\/subscription\/1: (ECONNRESET|socket hang up)/);
    expect(ops(cam, "Unsubscribe")).toBe(1);
    await cam.sendPlate({ plate: "AB123CD" });
    await rec.until("a read", () => rec.reads.length === 1);
    expect(cam.subscriptions()).toBe(1);
  });

  it("recovers when the camera goes away and comes back on the same port", async () => {
    const first = await camera();
    const port = first.port;
    const { rec } = connect(port);
    await rec.until("connected", () => connected(rec) === 1);
    await first.close();
    await rec.until("refused", () => rec.errors.some((e) => /ECONNREFUSED/.test(e.problem)));
    expect(rec.states.at(-1)?.state).not.toBe("connected");
    const second = await camera({ port });
    await rec.until("reconnected", () => connected(rec) === 2);
    await second.sendPlate({ plate: "AB123CD" });
    await rec.until("a read", () => rec.reads.length === 1);
  });

  it("reports a wrong password clearly and backs off between attempts", async () => {
    const cam = await camera({ authFailureStatus: 401 });
    const { rec } = connect(cam.port, { password: "wrong-password", backoffMinMs: 100, backoffMaxMs: 400 });
    await rec.until("four failures", () => rec.errors.length >= 4);
    expect(rec.errors[0]?.problem).toMatch(
      /^getServices \/onvif\/device_service: SOAP fault s:Sender\/ter:NotAuthorized: .* \(HTTP 401\) — the camera refused user 'gate'/,
    );
    expect(rec.errors.every((e) => !e.problem.includes("wrong-password"))).toBe(true);
    // Waits of at least half the ceiling: 50, 100, 200 ms…
    const gaps = rec.errors.slice(1).map((e, i) => e.at - (rec.errors[i]?.at ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(45);
    expect(gaps[2]).toBeGreaterThanOrEqual(190);
    expect(connected(rec)).toBe(0);
    expect(cam.requests()).toEqual([]);
  });

  it("signs with the camera's clock when the camera's clock is off", async () => {
    const cam = await camera({ clockOffsetMs: 3_600_000 });
    const { rec } = connect(cam.port);
    await rec.until("connected", () => connected(rec) === 1);
    await cam.sendPlate({ plate: "AB123CD" });
    await rec.until("a read", () => rec.reads.length === 1);
    expect(rec.errors).toEqual([]);
  });

  it("echoes Axis-style reference parameters and reads gSOAP-style prefixes", async () => {
    const cam = await camera({
      referenceParameters: true,
      prefixes: "numbered",
      eventPath: "/onvif/services",
    });
    const { rec } = connect(cam.port, { eventPath: "/onvif/services" });
    await rec.until("connected", () => connected(rec) === 1);
    await cam.sendPlate({ plate: "MÜ-PC 1234", confidence: 0.87 });
    await rec.until("a read", () => rec.reads.length === 1);
    expect(rec.reads[0]?.read).toMatchObject({ plate: { normalised: "MÜPC1234" }, confidence: 87 });
    expect(cam.requests().find((r) => r.operation === "PullMessages")?.subscriptionId).toBe("1");
    expect(ops(cam, "GetServices")).toBe(0);
  });

  it("close() unsubscribes, ends the pending pull at once and leaves nothing open", async () => {
    const cam = await camera();
    const { link, rec } = connect(cam.port, { pullTimeoutSeconds: 30 });
    await rec.until("connected", () => connected(rec) === 1);
    await vi.waitFor(() => expect(ops(cam, "PullMessages")).toBeGreaterThanOrEqual(1), { interval: 10 });
    const started = performance.now();
    await link.close();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(cam.requests().at(-1)?.operation).toBe("Unsubscribe");
    expect(cam.subscriptions()).toBe(0);
    const callbacks = rec.states.length + rec.errors.length;
    await link.close(); // idempotent
    await cam.sendPlate({ plate: "AB123CD" });
    await vi.waitFor(() => expect(cam.connections()).toBe(0), { interval: 10 });
    // Absence can only be checked over a while: nothing may report after close.
    await new Promise((r) => setTimeout(r, 100));
    expect(rec.states.length + rec.errors.length).toBe(callbacks);
    expect(rec.reads).toEqual([]);
  });
});

describe("ONVIF camera in a running controller", () => {
  it("a plate from the PullPoint opens the barrier and is stored; stopping unsubscribes", async () => {
    const cam = await camera();
    const tc = await startTestController({
      site: testSite({
        cameras: [
          {
            id: "onvif1",
            protocol: "onvif",
            lane: "1",
            connection: {
              host: "127.0.0.1",
              port: cam.port,
              username: USER,
              password: PASSWORD,
              pullTimeoutSeconds: 2,
            },
          },
        ],
        filters: { repeatWindowMs: 0, minConfidence: 0 },
        seedLists: demoSite().seedLists,
      }),
    });
    try {
      const barrierOpens = (): number =>
        (tc.hal.history?.() ?? []).filter((t) => t.name === "lane1.barrier" && t.active).length;
      const eventsOf = async (plate: string): Promise<any[]> =>
        (await tc.api(`/api/v1/events?plate=${plate}`)).body.items;
      await vi.waitFor(() => expect(cam.subscriptions()).toBe(1), { timeout: 10_000, interval: 20 });
      const before = barrierOpens();
      await cam.sendPlate({ plate: "AB-123-CD", confidence: 88, country: "DE", direction: "in" });
      await vi.waitFor(async () => expect(await eventsOf("AB123CD")).toHaveLength(1), {
        timeout: 10_000,
        interval: 50,
      });
      expect(barrierOpens()).toBe(before + 1);
      const [event] = await eventsOf("AB123CD");
      expect(event).toMatchObject({
        protocol: "onvif",
        cameraId: "onvif1",
        decision: "allow",
        confidence: 88,
        direction: "in",
      });
      expect(event.extras).toMatchObject({ country: "DE" });

      await cam.sendPlate({ plate: "XY999ZZ" });
      await vi.waitFor(
        async () =>
          expect(await eventsOf("XY999ZZ")).toEqual([
            expect.objectContaining({ decision: "deny", listName: "Block" }),
          ]),
        { timeout: 10_000, interval: 50 },
      );
      expect(barrierOpens()).toBe(before + 1);
    } finally {
      await tc.stop();
      tc.cleanup();
    }
    expect(cam.requests().at(-1)?.operation).toBe("Unsubscribe");
    expect(cam.subscriptions()).toBe(0);
  });
});
