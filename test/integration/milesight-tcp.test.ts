/**
 * The Milesight TCP link adapter against the simulated camera over real loopback sockets: login and
 * register, reads with pictures, bad frames, link loss, a half-open link, a wrong password, close().
 */
import { AsyncLocalStorage, createHook } from "node:async_hooks";
import { type AddressInfo, createServer } from "node:net";
import { performance } from "node:perf_hooks";
import { Compile } from "typebox/compile";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CameraConfig, demoSite } from "../../firmware/config/site.js";
import { encodeFrame } from "../../firmware/ingest/milesight-tcp/frames.js";
import { adapter } from "../../firmware/ingest/milesight-tcp/index.js";
import { linkAdapter } from "../../firmware/ingest/registry.js";
import type { CameraLink, LinkState, PlateRead } from "../../firmware/ingest/types.js";
import { createLogger } from "../../firmware/util/log.js";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { connectLive, type LiveClient } from "../helpers/live.js";
import { type MilesightTcpCamera, picture, startMilesightTcpCamera } from "../sim/milesight-tcp.js";

const USER = "admin";
const PASSWORD = "s3cret-camera-pass";
/** Short timings so failures and recoveries happen within a test, with room for a loaded machine. */
const FAST = {
  connectTimeoutMs: 2000,
  idleTimeoutMs: 300,
  replyTimeoutMs: 300,
  backoffMinMs: 20,
  backoffMaxMs: 200,
};

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 8000,
): Promise<T> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Recorder {
  link: CameraLink;
  reads: Array<{ read: PlateRead; mono: number }>;
  events: Array<{ kind: string; data: Record<string, unknown> }>;
  statuses: Array<{ state: LinkState; detail: string | undefined }>;
  errors: string[];
  /** Statuses seen since index `from`. */
  states(from?: number): LinkState[];
}

const open: Recorder[] = [];
const cameras: MilesightTcpCamera[] = [];

async function camera(port?: number, password = PASSWORD): Promise<MilesightTcpCamera> {
  const sim = await startMilesightTcpCamera({ port, username: USER, password });
  cameras.push(sim);
  return sim;
}

function openLink(port: number, settings: Record<string, unknown> = {}): Recorder {
  const validator = Compile(adapter.settings);
  const connection = validator.Default({
    host: "127.0.0.1",
    port,
    username: USER,
    password: PASSWORD,
    ...FAST,
    ...settings,
  });
  expect(validator.Check(connection)).toBe(true);
  const config: CameraConfig = {
    id: "ms1",
    protocol: "milesight-tcp",
    lane: "1",
    role: "both",
    channel: 1,
    addresses: [],
    enabled: true,
    connection: connection as Record<string, unknown>,
  };
  const r = { reads: [], events: [], statuses: [], errors: [] } as unknown as Recorder;
  r.states = (from = 0) => r.statuses.slice(from).map((s) => s.state);
  r.link = adapter.open({
    camera: config,
    siteTimeZone: "UTC",
    log: createLogger("silent"),
    onRead: (read, mono) => r.reads.push({ read, mono }),
    onCameraEvent: (kind, data) => r.events.push({ kind, data }),
    onStatus: (state, detail) => r.statuses.push({ state, detail }),
    onError: (problem) => r.errors.push(problem),
  });
  open.push(r);
  return r;
}

/**
 * Sockets and timers created by code run through `run` and by everything it schedules (the async context
 * follows callbacks), that are still alive: the adapter's own resources, not the test runner's.
 */
function trackResources(): { run<T>(fn: () => T): T; alive(): string[]; stop(): void } {
  const context = new AsyncLocalStorage<true>();
  const alive = new Map<number, string>();
  const hook = createHook({
    init(id, type) {
      if (context.getStore() && ["TCPWRAP", "TCPCONNECTWRAP", "Timeout"].includes(type)) alive.set(id, type);
    },
    destroy(id) {
      alive.delete(id);
    },
  }).enable();
  return { run: (fn) => context.run(true, fn), alive: () => [...alive.values()], stop: () => hook.disable() };
}

const connected = (r: Recorder, from = 0) => waitFor("connected", () => r.states(from).includes("connected"));

afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.link.close()));
  await Promise.all(cameras.splice(0).map((c) => c.kill()));
});

describe("Milesight TCP link adapter", () => {
  it("is registered as a link protocol; its settings need credentials and have no default password", () => {
    expect(linkAdapter("milesight-tcp")).toBe(adapter);
    const validator = Compile(adapter.settings);
    const defaulted = validator.Default({ host: "cam", port: 9000, username: "admin" }) as Record<
      string,
      unknown
    >;
    expect(defaulted.password).toBeUndefined();
    expect(validator.Check(defaulted)).toBe(false);
    expect(validator.Check({ ...defaulted, password: "x", extra: 1 })).toBe(false);
    expect(validator.Check({ ...defaulted, password: "x" })).toBe(true);
  });

  it("logs in, registers every feature, and delivers reads with pictures and camera events", async () => {
    const sim = await camera();
    const r = openLink(sim.port);
    await connected(r);
    await waitFor("register", () => sim.registrations().length === 1);
    expect(sim.logins()).toMatchObject([{ id: USER, ok: true }]);
    expect(sim.registrations()).toEqual([{ registerAll: 1 }]);
    expect(r.states()).toEqual(["connecting", "connected"]);

    const before = performance.now();
    await sim.sendPlate({ plate: "AB-123-CD", confidence: 92, direction: "in", evidence: 1, brand: 6 });
    const { read, mono } = await waitFor("a read", () => r.reads[0]);
    expect(mono).toBeGreaterThanOrEqual(before);
    expect(mono).toBeLessThanOrEqual(performance.now());
    expect(read).toMatchObject({
      plate: { raw: "AB-123-CD", normalised: "AB123CD" },
      confidence: 92,
      direction: "in",
      cameraTime: 1525867890000,
      extras: { vehicleBrand: "BMW", vehicleType: "car", plateColor: "Black", region: "WOB/ZK" },
    });
    expect(read.images.map((i) => i.kind)).toEqual(["plate", "full", "evidence"]);
    expect(read.images[1]?.data).toEqual(picture(1));

    await sim.sendCameraEvent("counting");
    await sim.sendCameraEvent("parking");
    await waitFor("two camera events", () => r.events.length === 2);
    expect(r.events.map((e) => e.kind)).toEqual(["counting", "parking"]);
    expect(r.events[1]?.data).toMatchObject({ event: "Parking Detection", "License Plate": "BD925RA" });
    expect(r.errors).toEqual([]);
  });

  it("a bad message is reported and the link goes on; a broken frame drops and re-establishes it", async () => {
    const sim = await camera();
    const r = openLink(sim.port);
    await connected(r);
    await sim.sendRaw(encodeFrame(0x8801, Buffer.from([0x11, 0xff, 0, 0, 200, 0, 0, 0])));
    await sim.sendRaw(encodeFrame(0x8803, "{not json"));
    await sim.sendPlate({ plate: "KA777" });
    await waitFor("the read after the bad ones", () => r.reads.length === 1);
    expect(r.errors).toEqual([
      expect.stringMatching(/^0x8801 chunk\[0\]: chunk size 200 runs past/),
      expect.stringMatching(/^0x8803 counting: not valid JSON/),
    ]);
    expect(r.states()).toEqual(["connecting", "connected"]);

    const mark = r.statuses.length;
    await sim.sendRaw(Buffer.from("GET / HTTP/1.1\r\n\r\n"));
    await waitFor("reconnected", () => r.states(mark).join() === "disconnected,connecting,connected");
    expect(r.errors[2]).toMatch(/expected the start signature CC FF.*reconnecting/);
    await waitFor("one live connection", () => sim.loggedIn() === 1 && sim.connections() === 1);
    await sim.sendPlate({ plate: "XY999ZZ" });
    await waitFor("a read on the new connection", () => r.reads.length === 2);
  });

  it("link loss: the camera dies, comes back on the same port, and reads flow again", async () => {
    let sim = await camera();
    const port = sim.port;
    const r = openLink(port);
    await connected(r);
    await sim.kill();
    await waitFor("disconnected", () => r.states().includes("disconnected"));
    // While it is down, attempts fail and are reported, spaced by the backoff.
    await waitFor("failed attempts", () => r.errors.filter((e) => /ECONNREFUSED/.test(e)).length >= 2);
    const mark = r.statuses.length;
    sim = await camera(port);
    await connected(r, mark);
    await sim.sendPlate({ plate: "AB123CD" });
    await waitFor("a read after the restart", () => r.reads.length === 1);
    expect(sim.logins()).toHaveLength(1);
  });

  it("a quiet link is probed and kept; a half-open one is detected and re-established", async () => {
    const sim = await camera();
    const r = openLink(sim.port);
    await connected(r);
    // Several idle periods: each probe (a register request) is answered, so the link stays.
    await waitFor("three probes answered", () => sim.registrations().length >= 4);
    expect(r.states()).toEqual(["connecting", "connected"]);
    expect(r.errors).toEqual([]);

    const mark = r.statuses.length;
    sim.dropSilently();
    await waitFor("half-open detected", () => r.errors.some((e) => /no reply to a probe.*half-open/.test(e)));
    await connected(r, mark);
    expect(r.states(mark)).toEqual(["disconnected", "connecting", "connected"]);
    await waitFor("the silent socket is gone", () => sim.connections() === 1);
    await sim.sendPlate({ plate: "AB123CD" });
    await waitFor("a read after recovery", () => r.reads.length === 1);
  });

  it("a wrong password is reported, retried after the longest backoff, and recovers when fixed", async () => {
    const sim = await camera(undefined, "the-real-password");
    const r = openLink(sim.port);
    await waitFor("three refused logins", () => sim.logins().length >= 3);
    expect(sim.logins().every((l) => !l.ok)).toBe(true);
    expect(r.errors[0]).toMatch(/login refused by the camera \(result 401: wrong username or password/);
    expect(r.states().slice(0, 4)).toEqual(["connecting", "disconnected", "connecting", "disconnected"]);
    expect(r.statuses[1]?.detail).toMatch(/login refused/);
    const [a, b, c] = sim.logins().map((l) => l.at) as [number, number, number];
    // Jitter keeps at least half of backoffMaxMs (200 ms) between attempts.
    expect(b - a).toBeGreaterThanOrEqual(95);
    expect(c - b).toBeGreaterThanOrEqual(95);
    expect(r.states()).not.toContain("connected");

    sim.setCredentials(USER, PASSWORD);
    await connected(r);
    expect(sim.logins().at(-1)?.ok).toBe(true);
  });

  it("a port that accepts but never answers the login times out and is retried", async () => {
    // Reads and discards (so it sees the peer close) but never answers.
    const mute = createServer((socket) => socket.on("error", () => {}).resume());
    await new Promise<void>((resolve) => mute.listen(0, "127.0.0.1", resolve));
    try {
      const r = openLink((mute.address() as AddressInfo).port, { connectTimeoutMs: 150 });
      await waitFor("two timed-out attempts", () => r.errors.length >= 2);
      expect(r.errors[0]).toMatch(/no login reply within 150 ms/);
      expect(r.states().slice(0, 3)).toEqual(["connecting", "disconnected", "connecting"]);
      await r.link.close();
    } finally {
      await new Promise((resolve) => mute.close(resolve));
    }
  });

  it("close() leaves no socket or timer behind, whether connected or waiting to retry", async () => {
    const sim = await camera();
    const tracked = trackResources();
    try {
      const r = tracked.run(() => openLink(sim.port));
      await connected(r);
      expect(tracked.alive()).toEqual(expect.arrayContaining(["TCPWRAP", "Timeout"]));
      await r.link.close();
      expect(r.states().at(-1)).toBe("disconnected");
      await waitFor("the adapter's socket and timers gone", () => tracked.alive().length === 0, 2000);
      await waitFor("the camera sees the connection go", () => sim.connections() === 0);
      expect(await r.link.close()).toBeUndefined(); // idempotent

      await sim.kill();
      const down = tracked.run(() => openLink(sim.port, { backoffMinMs: 10_000, backoffMaxMs: 10_000 }));
      await waitFor("a refused attempt", () => down.errors.length === 1);
      expect(tracked.alive()).toContain("Timeout"); // the retry
      await down.link.close();
      await waitFor("the retry timer gone", () => tracked.alive().length === 0, 2000);
      expect(down.states()).toEqual(["connecting", "disconnected"]);
    } finally {
      tracked.stop();
    }
  });
});

describe("Milesight TCP end to end, through the controller", () => {
  let tc: TestController;
  let live: LiveClient;
  let sim: MilesightTcpCamera;

  const barrierOpens = () =>
    (tc.hal.history?.() ?? []).filter((t) => t.name === "lane1.barrier" && t.active).length;

  beforeAll(async () => {
    sim = await startMilesightTcpCamera({ username: USER, password: PASSWORD });
    tc = await startTestController({
      site: testSite({
        cameras: [
          {
            id: "ms1",
            protocol: "milesight-tcp",
            lane: "1",
            // Default timings: nothing here waits on a timeout.
            connection: { host: "127.0.0.1", port: sim.port, username: USER, password: PASSWORD },
          },
        ],
        filters: { repeatWindowMs: 0, minConfidence: 0 },
        seedLists: demoSite().seedLists,
      }),
    });
    live = await connectLive(tc.url, tc.token);
    // The camera manager opened the link at start; wait until it is logged in (live connected first: no race).
    const up = (c: any) => c?.id === "ms1" && c.state === "connected";
    if (!up((await tc.api("/api/v1/cameras/ms1")).body.status))
      await live.waitFor((m) => m.type === "camera" && up(m.camera));
  });
  afterAll(async () => {
    await live?.close();
    await tc?.stop();
    tc?.cleanup();
    await sim?.kill();
  });

  it("a read of an allowed plate opens the barrier and is stored with the vendor fields", async () => {
    const before = barrierOpens();
    await sim.sendPlate({ plate: "AB-123-CD", confidence: 93, direction: "in", vehicleType: 6, brand: 12 });
    const decision = await live.waitFor((m) => m.type === "decision" && m.event.plateRaw === "AB-123-CD");
    expect(decision.event).toMatchObject({ decision: "allow", cameraId: "ms1", protocol: "milesight-tcp" });
    expect(barrierOpens()).toBe(before + 1);
    const [event] = (await tc.api("/api/v1/events?plate=AB123CD")).body.items;
    expect(event).toMatchObject({
      decision: "allow",
      cameraId: "ms1",
      protocol: "milesight-tcp",
      confidence: 93,
      direction: "in",
      extras: {
        vehicleType: "suv",
        vehicleBrand: "Volkswagen",
        plateColor: "Black",
        region: "WOB/ZK",
        deviceId: "04f912bbce94654089afe83cd88f70be",
      },
    });
  });

  it("a blocked plate opens nothing; a counting post is kept as a camera event", async () => {
    await live.waitFor(
      () => (tc.hal.history?.() ?? []).filter((t) => t.name === "lane1.barrier").at(-1)?.active !== true,
    );
    const before = barrierOpens();
    await sim.sendPlate({ plate: "XY999ZZ" });
    await live.waitFor((m) => m.type === "decision" && m.event.plate === "XY999ZZ");
    expect(barrierOpens()).toBe(before);
    const [event] = (await tc.api("/api/v1/events?plate=XY999ZZ")).body.items;
    expect(event).toMatchObject({ decision: "deny", listName: "Block", cameraId: "ms1" });

    await sim.sendCameraEvent("counting");
    const events = await waitFor("a stored counting event", async () => {
      const items = (await tc.api("/api/v1/cameras/ms1/events")).body.items as any[];
      return items.length > 0 && items;
    });
    expect(events[0]).toMatchObject({ kind: "counting", data: { event: "Vehicle Counting", Car: 1 } });
  });
});
