/**
 * Hikvision arming mode end to end over real loopback sockets: the adapter against the simulated camera
 * (Digest challenge, endless multipart stream, heartbeats), and a whole controller opening the link.
 */
import { createHook } from "node:async_hooks";
import { createServer } from "node:net";
import { performance } from "node:perf_hooks";
import { Compile } from "typebox/compile";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { CameraConfig } from "../../firmware/config/site.js";
import { demoSite } from "../../firmware/config/site.js";
import { adapter } from "../../firmware/ingest/hikvision-alertstream.js";
import type { CameraLink, LinkContext, LinkState, PlateRead } from "../../firmware/ingest/types.js";
import { createLogger } from "../../firmware/util/log.js";
import { startTestController, testSite } from "../helpers/controller.js";
import { type HikvisionCamera, SCENE_JPEG, startHikvisionCamera } from "../sim/hikvision-alertstream.js";
import { TINY_JPEG } from "../sim/hikvision-isapi.js";

const USER = "portcullis";
const PASSWORD = "arming-password-1";

type Entry =
  | { at: number; type: "status"; state: LinkState; detail?: string }
  | { at: number; type: "read"; read: PlateRead; mono: number }
  | { at: number; type: "error"; problem: string };

/** A LinkContext that records every callback, and waits for the one a test expects. */
function recorder(connection: Record<string, unknown>) {
  const entries: Entry[] = [];
  const waiters = new Set<() => void>();
  const add = (entry: Entry): void => {
    entries.push(entry);
    for (const wake of waiters) wake();
  };
  const validator = Compile(adapter.settings);
  const camera: CameraConfig = {
    id: "hik2",
    protocol: "hikvision-alertstream",
    lane: "1",
    role: "both",
    channel: 1,
    addresses: [],
    enabled: true,
    connection: validator.Default(structuredClone(connection)) as Record<string, unknown>,
  };
  expect(validator.Check(camera.connection)).toBe(true);
  const context: LinkContext = {
    camera,
    siteTimeZone: "UTC",
    log: createLogger("silent"),
    onRead: (read, mono) => add({ at: performance.now(), type: "read", read, mono }),
    onCameraEvent: () => {},
    onStatus: (state, detail) => add({ at: performance.now(), type: "status", state, detail }),
    onError: (problem) => add({ at: performance.now(), type: "error", problem }),
  };
  /** Resolve with the `count`-th entry (counting from `from`) that matches, or fail after `ms`. */
  const next = <T extends Entry>(match: (e: Entry) => e is T, count = 1, from = 0, ms = 10_000): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = entries.slice(from).filter(match);
        if (found.length < count) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found[count - 1] as T);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out; recorded: ${JSON.stringify(entries.map(({ at, ...e }) => e))}`));
      }, ms);
      waiters.add(check);
      check();
    });
  return { context, entries, next };
}

const isStatus =
  (state: LinkState) =>
  (e: Entry): e is Extract<Entry, { type: "status" }> =>
    e.type === "status" && e.state === state;
const isRead = (e: Entry): e is Extract<Entry, { type: "read" }> => e.type === "read";
const isError =
  (pattern: RegExp) =>
  (e: Entry): e is Extract<Entry, { type: "error" }> =>
    e.type === "error" && pattern.test(e.problem);

let camera: HikvisionCamera | null = null;
let link: CameraLink | null = null;
afterEach(async () => {
  await link?.close();
  await camera?.close();
  link = null;
  camera = null;
});

async function armed(cameraOpts: { heartbeatMs?: number } = {}, settings: Record<string, unknown> = {}) {
  camera = await startHikvisionCamera({
    username: USER,
    password: PASSWORD,
    heartbeatMs: cameraOpts.heartbeatMs,
  });
  const rec = recorder({
    host: "127.0.0.1",
    port: camera.port,
    username: USER,
    password: PASSWORD,
    backoffMinMs: 20,
    backoffMaxMs: 200,
    ...settings,
  });
  link = adapter.open(rec.context);
  return rec;
}

describe("Hikvision arming mode (alertStream) against the simulated camera", () => {
  it("authenticates with Digest and turns an alert and its pictures into one read with the vendor fields", async () => {
    const rec = await armed();
    await rec.next(isStatus("connected"));
    expect(camera?.stats()).toMatchObject({ streams: 1, challenges: 1, refused: 0 });
    const sentAt = performance.now();
    await camera?.sendPlate({ plate: "AB-123-CD", confidence: 91, direction: "reverse", images: true });
    const { read, mono } = await rec.next(isRead);
    expect(mono).toBeGreaterThanOrEqual(sentAt);
    expect(read).toMatchObject({
      plate: { raw: "AB-123-CD", normalised: "AB123CD" },
      confidence: 91,
      direction: "away",
      cameraTimeRaw: "2025-03-01T08:15:02+01:00",
      extras: { country: "7", vehicleType: "SUVMPV", vehicleColor: "white", channelId: "1" },
    });
    expect(read.extras.uuid).toMatch(/^[0-9a-f]{32}$/);
    // The read comes as soon as its XML is in; the pictures follow it.
    const pictures = (await read.laterImages) ?? [];
    expect(pictures.map((i) => [i.kind, i.ext, i.data.length])).toEqual([
      ["plate", "jpg", TINY_JPEG.length],
      ["full", "jpg", SCENE_JPEG.length],
    ]);
    expect(pictures[1]?.data.equals(SCENE_JPEG)).toBe(true);

    // Without pictures the read comes alone; nothing else was reported on the way.
    await camera?.sendPlate({ plate: "XY999ZZ" });
    const second = await rec.next(isRead, 2);
    expect([second.read.plate.normalised, second.read.images, second.read.laterImages]).toEqual([
      "XY999ZZ",
      [],
      undefined,
    ]);
    expect(rec.entries.filter((e) => e.type === "error")).toEqual([]);
  });

  it("stays on one connection while heartbeats flow, well past the dead-link timeout", async () => {
    const rec = await armed({ heartbeatMs: 30 }, { heartbeatTimeoutMs: 600 });
    await rec.next(isStatus("connected"));
    const before = camera?.stats().heartbeats ?? 0;
    await vi.waitFor(() => expect(camera?.stats().heartbeats).toBeGreaterThanOrEqual(before + 60), {
      timeout: 15_000,
      interval: 50,
    });
    expect(rec.entries.filter((e) => e.type !== "status" || e.state !== "connected")).toEqual([
      expect.objectContaining({ state: "connecting" }),
    ]);
    expect(camera?.stats().streams).toBe(1);
  });

  it("takes a frozen stream for a dead link, reconnects reusing the nonce, and reads again", async () => {
    const rec = await armed({ heartbeatMs: 50 }, { heartbeatTimeoutMs: 400 });
    await rec.next(isStatus("connected"));
    const frozenAt = performance.now();
    camera?.freeze();
    const dead = await rec.next(
      isError(
        /no data for 400 ms, not even a heartbeat \(\d+ heartbeats or other alerts before\): the link is dead/,
      ),
    );
    expect(dead.at - frozenAt).toBeGreaterThanOrEqual(400 - 60); // no earlier than the timeout (one beat's slack)
    await rec.next(isStatus("connected"), 2);
    // The second request reused the first nonce (nc=2): the camera did not have to challenge again.
    expect(camera?.stats()).toMatchObject({ streams: 2, challenges: 1 });
    await camera?.sendPlate({ plate: "KA777" });
    expect((await rec.next(isRead)).read.plate.normalised).toBe("KA777");
  });

  it("reconnects when the camera goes away and comes back on the same port", async () => {
    const rec = await armed({ heartbeatMs: 100 }, { heartbeatTimeoutMs: 5000 });
    await rec.next(isStatus("connected"));
    const port = camera?.port ?? 0;
    await camera?.close();
    await rec.next(isStatus("disconnected"));
    await rec.next(isError(/ECONNREFUSED/));
    camera = await startHikvisionCamera({ port, username: USER, password: PASSWORD, heartbeatMs: 100 });
    await rec.next(isStatus("connected"), 2);
    // The new camera does not know the old nonce: it says stale, the client takes the new challenge.
    expect(camera.stats()).toMatchObject({ streams: 1, refused: 0 });
    await camera.sendPlate({ plate: "AB123CD" });
    expect((await rec.next(isRead)).read.plate.normalised).toBe("AB123CD");
    expect(rec.entries.some((e) => e.type === "error" && /refused/.test(e.problem))).toBe(false);
  });

  it("reports a wrong password clearly and waits the longest backoff between attempts", async () => {
    const rec = await armed({}, { password: "wrong-password", backoffMaxMs: 300 });
    const first = await rec.next(isError(/digest authentication refused/));
    const second = await rec.next(isError(/digest authentication refused/), 2);
    expect(first.problem).toBe(
      `http://127.0.0.1:${camera?.port}: digest authentication refused (HTTP 401): check the username and password`,
    );
    // Jitter keeps at least half the delay; a refusal waits the maximum, not the minimum (20 ms).
    expect(second.at - first.at).toBeGreaterThanOrEqual(150);
    expect(rec.entries.some((e) => e.type === "status" && e.state === "connected")).toBe(false);
    // One wrong login per attempt (each starts unauthenticated), so the account is not locked twice as fast.
    const refusals = rec.entries.filter((e) => e.type === "error").length;
    expect(camera?.stats().refused).toBeGreaterThanOrEqual(2);
    expect(camera?.stats().refused).toBeLessThanOrEqual(refusals + 1);
  });

  it("close() while connected, or while waiting to retry, leaves no socket and no timer behind", async () => {
    // Every timer and socket created from here on, until it is destroyed.
    const alive = new Map<number, string>();
    const hook = createHook({
      init: (id, type) => {
        if (type === "Timeout" || type === "TCPWRAP") alive.set(id, type);
      },
      destroy: (id) => {
        alive.delete(id);
      },
    });
    /** Wait (without a timer of its own, which would count) until nothing created since enable() is alive. */
    const drained = async (): Promise<string[]> => {
      const deadline = performance.now() + 5000;
      while ((alive.size > 0 || camera?.connections()) && performance.now() < deadline)
        await new Promise((resolve) => setImmediate(resolve));
      return [...alive.values()];
    };
    camera = await startHikvisionCamera({ username: USER, password: PASSWORD, heartbeatMs: 50 });
    hook.enable();
    try {
      const rec = recorder({ host: "127.0.0.1", port: camera.port, username: USER, password: PASSWORD });
      const open = adapter.open(rec.context);
      await rec.next(isStatus("connected"));
      await camera.sendPlate({ plate: "AB123CD", images: true });
      await rec.next(isRead);
      await open.close();
      expect(rec.entries.at(-1)).toMatchObject({ type: "status", state: "disconnected", detail: "closed" });
      // The camera's end of the socket closes too; destroy hooks run after the current tick.
      expect(await drained()).toEqual([]);
      expect(camera.connections()).toBe(0);

      // Nothing listens on this port: the link fails, waits to retry, and is closed while waiting.
      const free = createServer();
      await new Promise<void>((resolve) => free.listen(0, "127.0.0.1", () => resolve()));
      const port = (free.address() as { port: number }).port;
      await new Promise<void>((resolve) => free.close(() => resolve()));
      const idle = recorder({
        host: "127.0.0.1",
        port,
        username: USER,
        password: PASSWORD,
        backoffMinMs: 60_000,
      });
      const failing = adapter.open(idle.context);
      await idle.next(isStatus("disconnected"));
      await failing.close();
      expect(await drained()).toEqual([]);
      expect(
        idle.entries.filter((e) => e.type === "status").map((e) => (e as { state: string }).state),
      ).toEqual(["connecting", "disconnected"]);
    } finally {
      hook.disable();
    }
  });
});

describe("Hikvision arming mode in a running controller", () => {
  it("a read from the camera's stream opens the barrier and is stored with the vendor fields", async () => {
    camera = await startHikvisionCamera({ username: USER, password: PASSWORD, heartbeatMs: 200 });
    const tc = await startTestController({
      site: testSite({
        cameras: [
          {
            id: "hik2",
            protocol: "hikvision-alertstream",
            lane: "1",
            connection: { host: "127.0.0.1", port: camera.port, username: USER, password: PASSWORD },
          },
        ],
        filters: { repeatWindowMs: 0, minConfidence: 0 },
        seedLists: demoSite().seedLists,
      }),
    });
    try {
      const barrierOpens = (): number =>
        (tc.hal.history?.() ?? []).filter((t) => t.name === "lane1.barrier" && t.active).length;
      await vi.waitFor(() => expect(camera?.connections()).toBe(1), { timeout: 10_000, interval: 20 });
      const before = barrierOpens();
      await camera.sendPlate({ plate: "AB123CD", confidence: 88, images: true });
      await vi.waitFor(
        async () => {
          const { body } = await tc.api("/api/v1/events?plate=AB123CD");
          expect(body.items).toHaveLength(1);
        },
        { timeout: 10_000, interval: 50 },
      );
      expect(barrierOpens()).toBe(before + 1);
      const [event] = (await tc.api("/api/v1/events?plate=AB123CD")).body.items;
      expect(event).toMatchObject({
        protocol: "hikvision-alertstream",
        cameraId: "hik2",
        decision: "allow",
        confidence: 88,
        direction: "approach",
      });
      expect(event.extras).toMatchObject({ country: "7", vehicleType: "SUVMPV" });

      await camera.sendPlate({ plate: "XY999ZZ" });
      await vi.waitFor(
        async () => {
          const { body } = await tc.api("/api/v1/events?plate=XY999ZZ");
          expect(body.items).toEqual([expect.objectContaining({ decision: "deny", listName: "Block" })]);
        },
        { timeout: 10_000, interval: 50 },
      );
      expect(barrierOpens()).toBe(before + 1);
      // The pictures that followed the alert are stored with its event (written at stop at the latest).
      const restarted = await tc.restart();
      const { items } = (await restarted.api(`/api/v1/events/${event.id}/images`)).body;
      expect(items.map((i: any) => [i.kind, i.bytes])).toEqual([
        ["plate", TINY_JPEG.length],
        ["full", SCENE_JPEG.length],
      ]);
      await restarted.stop();
    } finally {
      await tc.stop();
      tc.cleanup();
    }
    // The controller closed its link on stop.
    await vi.waitFor(() => expect(camera?.connections()).toBe(0), { timeout: 5000, interval: 20 });
  });
});
