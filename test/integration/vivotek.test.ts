/** The VIVOTEK Socket Client link over real sockets: the adapter listens, the simulated camera connects. */

import { type AddressInfo, connect, createServer } from "node:net";
import { Compile } from "typebox/compile";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CameraConfig, demoSite } from "../../firmware/config/site.js";
import type { CameraLink, LinkState, PlateRead } from "../../firmware/ingest/types.js";
import { socketAdapter } from "../../firmware/ingest/vivotek.js";
import { createLogger } from "../../firmware/util/log.js";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { connectLive, type LiveClient } from "../helpers/live.js";
import { freePort } from "../sim/free-port.js";
import {
  connectVivotekSocketCamera,
  sendVivotekHttpAction,
  VIVOTEK_JPEG,
  type VivotekFormat,
  vivotekMessage,
} from "../sim/vivotek.js";

type Recorded =
  | { type: "read"; read: PlateRead; receivedMono: number }
  | { type: "status"; state: LinkState; detail?: string }
  | { type: "error"; problem: string }
  | { type: "event"; kind: string };

/** Opens the adapter with a context that records every callback and lets a test wait for one. */
function openLink(connection: Record<string, unknown>, addresses: string[] = ["127.0.0.1"]) {
  const events: Recorded[] = [];
  const waiters = new Set<() => void>();
  const record = (e: Recorded) => {
    events.push(e);
    for (const wake of waiters) wake();
  };
  const camera = {
    id: "viv1",
    protocol: "vivotek-socket",
    lane: "1",
    role: "both",
    channel: 1,
    addresses,
    enabled: true,
    connection: Compile(socketAdapter.settings).Default({ host: "127.0.0.1", ...connection }),
  } as CameraConfig;
  const link = socketAdapter.open({
    camera,
    siteTimeZone: "UTC",
    log: createLogger("silent"),
    onRead: (read, receivedMono) => record({ type: "read", read, receivedMono }),
    onCameraEvent: (kind) => record({ type: "event", kind }),
    onStatus: (state, detail) => record({ type: "status", state, detail }),
    onError: (problem) => record({ type: "error", problem }),
  });
  links.push(link);
  const of = <T extends Recorded["type"]>(type: T) =>
    events.filter((e): e is Extract<Recorded, { type: T }> => e.type === type);
  /** Resolve when `done()` holds, re-checked on every callback; fail with what was seen after `ms`. */
  const until = (done: () => boolean, what: string, ms = 5000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `timed out waiting for ${what}; saw ${JSON.stringify(events.map((e) => (e.type === "read" ? e.read.plate.raw : e)))}`,
          ),
        );
      }, ms);
      waiters.add(check);
      check();
    });
  const listening = () =>
    until(() => of("status").some((s) => s.detail?.startsWith("listening")), "the listener");
  return { link, events, of, until, listening };
}

const links: CameraLink[] = [];
afterEach(async () => {
  await Promise.all(links.splice(0).map((l) => l.close()));
});

describe("VIVOTEK Socket Client link", () => {
  it.each<VivotekFormat>(["xml", "xml-image", "json", "json-image"])(
    "a camera sending %s gives a read with the vendor fields",
    async (format) => {
      const port = await freePort();
      const rec = openLink({ listenPort: port });
      await rec.listening();
      const camera = await connectVivotekSocketCamera({ host: "127.0.0.1", port, format });
      await rec.until(() => rec.of("status").some((s) => s.state === "connected"), "connected");
      const sentAt = performance.now();
      await camera.sendPlate({ plate: "AB-123-CD", confidence: 88, list: "whitelist", direction: "in" });
      await rec.until(() => rec.of("read").length === 1, "one read");
      const [{ read, receivedMono }] = rec.of("read") as [Extract<Recorded, { type: "read" }>];
      expect(read).toMatchObject({
        plate: { raw: "AB-123-CD", normalised: "AB123CD" },
        confidence: 88,
        direction: "in",
        cameraTime: Date.parse("2025-03-01T08:15:02.250Z"),
        extras: { country: "DEU", cameraListType: "whitelist", cameraName: "IB9387-LPR" },
      });
      expect(read.images).toEqual(
        format.endsWith("-image") ? [{ kind: "full", ext: "jpg", data: VIVOTEK_JPEG }] : [],
      );
      expect(receivedMono).toBeGreaterThanOrEqual(sentAt);
      expect(receivedMono).toBeLessThanOrEqual(performance.now());
      expect(rec.of("error")).toEqual([]);
      await camera.close();
      await rec.until(() => rec.of("status").at(-1)?.state === "disconnected", "disconnected");
    },
  );

  it("a garbage message between two good ones costs neither good read; the connection stays", async () => {
    const port = await freePort();
    const rec = openLink({ listenPort: port });
    await rec.listening();
    const camera = await connectVivotekSocketCamera({
      host: "127.0.0.1",
      port,
      format: "json",
      terminator: "",
    });
    await camera.sendPlate({ plate: "AB123CD" });
    await camera.sendRaw('NOT A MESSAGE\r\n{"numberplate": 5}<lpr><numberplate></numberplate></lpr>');
    // The second good read arrives split across writes.
    const second = vivotekMessage({ plate: "KA777" }, "xml-image");
    await camera.sendRaw(second.slice(0, 50));
    await camera.sendRaw(second.slice(50));
    await rec.until(() => rec.of("read").length === 2, "two reads");
    expect(rec.of("read").map((r) => r.read.plate.normalised)).toEqual(["AB123CD", "KA777"]);
    expect(rec.of("error").map((e) => e.problem)).toEqual([
      "connection from 127.0.0.1: skipped 11 bytes that are not part of an XML or JSON message",
      "JSON message from 127.0.0.1 rejected: message.numberplate: expected a string, got number",
      "XML message from 127.0.0.1 rejected: lpr.numberplate: missing: no plate field (looked for numberplate, plate, licenseplate, platenumber, plateutf8, platetext, lpr)",
    ]);
    await camera.sendPlate({ plate: "XY999ZZ" });
    await rec.until(() => rec.of("read").length === 3, "a third read on the same connection");
    expect(rec.of("status").filter((s) => s.state === "connected")).toHaveLength(1);
    await camera.close();
  });

  it("a camera that drops and reconnects is heard again", async () => {
    const port = await freePort();
    const rec = openLink({ listenPort: port });
    await rec.listening();
    const first = await connectVivotekSocketCamera({ host: "127.0.0.1", port, format: "xml" });
    await first.sendPlate({ plate: "AB123CD" });
    await rec.until(() => rec.of("read").length === 1, "the first read");
    // Half a message, then the camera drops: the half is reported, not read.
    await first.sendRaw("<lpr><numberplate>XY9");
    await first.close();
    await rec.until(() => rec.of("status").at(-1)?.state === "disconnected", "disconnected");
    const second = await connectVivotekSocketCamera({ host: "127.0.0.1", port, format: "json" });
    await second.sendPlate({ plate: "KA777" });
    await rec.until(() => rec.of("read").length === 2, "the read after reconnecting");
    expect(rec.of("read").map((r) => r.read.plate.normalised)).toEqual(["AB123CD", "KA777"]);
    expect(rec.of("status").map((s) => s.state)).toEqual([
      "disconnected",
      "connected",
      "disconnected",
      "connected",
    ]);
    expect(rec.of("error").map((e) => e.problem)).toEqual([
      "connection from 127.0.0.1 closed in the middle of a message (21 bytes lost)",
    ]);
    await second.close();
  });

  it("refuses a connection from an address that is not the camera's", async () => {
    const port = await freePort();
    const rec = openLink({ listenPort: port, allowedAddresses: ["192.0.2.10"] }, []);
    await rec.listening();
    const stranger = await connectVivotekSocketCamera({ host: "127.0.0.1", port, format: "xml" });
    await stranger.closed;
    await rec.until(() => rec.of("error").length === 1, "the refusal");
    expect(rec.of("error")[0]?.problem).toBe(
      "refused a connection from 127.0.0.1: not an address of this camera",
    );
    expect(rec.of("status").some((s) => s.state === "connected")).toBe(false);
    expect(rec.of("read")).toEqual([]);
  });

  it("closes the connection on a message larger than maxMessageBytes, and on silence past idleTimeoutMs", async () => {
    const port = await freePort();
    const rec = openLink({ listenPort: port, maxMessageBytes: 4096, idleTimeoutMs: 300 });
    await rec.listening();
    const big = await connectVivotekSocketCamera({ host: "127.0.0.1", port, format: "xml" });
    big.sendRaw(`<lpr><image>${"A".repeat(8000)}</image></lpr>`).catch(() => {});
    await big.closed;
    await rec.until(() => rec.of("error").length > 0, "the size error");
    expect(rec.of("error")[0]?.problem).toBe(
      "message from 127.0.0.1 larger than 4096 bytes: connection closed",
    );
    const quiet = await connectVivotekSocketCamera({ host: "127.0.0.1", port, format: "xml" });
    await quiet.closed;
    await rec.until(() => rec.of("error").some((e) => /idle for 300 ms/.test(e.problem)), "the idle close");
    expect(rec.of("read")).toEqual([]);
  });

  it("keeps trying to listen while the port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as AddressInfo;
    const rec = openLink({ listenPort: port });
    await rec.until(() => rec.of("error").length > 0, "the listen error");
    expect(rec.of("error")[0]?.problem).toBe(`cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
    await new Promise((resolve) => blocker.close(resolve));
    await rec.listening();
    const camera = await connectVivotekSocketCamera({ host: "127.0.0.1", port, format: "json" });
    await camera.sendPlate({ plate: "AB123CD" });
    await rec.until(() => rec.of("read").length === 1, "a read once listening");
    await camera.close();
  });

  it("close() closes the listener and every connection, and resolves when nothing is open", async () => {
    const port = await freePort();
    const rec = openLink({ listenPort: port });
    await rec.listening();
    const camera = await connectVivotekSocketCamera({ host: "127.0.0.1", port, format: "xml" });
    await rec.until(() => rec.of("status").some((s) => s.state === "connected"), "connected");
    await rec.link.close();
    await camera.closed;
    await rec.link.close(); // idempotent
    const refused = await new Promise<string>((resolve) => {
      const probe = connect({ host: "127.0.0.1", port });
      probe.once("connect", () => {
        probe.destroy();
        resolve("connected");
      });
      probe.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(refused).toBe("ECONNREFUSED");
  });
});

describe("VIVOTEK cameras end to end, through the controller", () => {
  const HTTP_SECRET = "vivotek-http-secret-0123";
  let tc: TestController;
  let live: LiveClient;
  let listenPort: number;

  const barrierOpens = () =>
    (tc.hal.history?.() ?? []).filter((t) => t.name === "lane1.barrier" && t.active).length;
  /** A pulse while the barrier is still active makes no new transition: start each test with it at rest. */
  const barrierAtRest = () =>
    live.waitFor(
      () => (tc.hal.history?.() ?? []).filter((t) => t.name === "lane1.barrier").at(-1)?.active !== true,
    );
  const storedEvent = async (plate: string) => (await tc.api(`/api/v1/events?plate=${plate}`)).body.items[0];

  beforeAll(async () => {
    listenPort = await freePort();
    tc = await startTestController({
      site: testSite({
        cameras: [
          { id: "viv1", protocol: "vivotek-socket", lane: "1", connection: { listenPort } },
          { id: "viv2", protocol: "vivotek-http", lane: "1", secret: HTTP_SECRET },
        ],
        filters: { repeatWindowMs: 0, minConfidence: 0 },
        seedLists: demoSite().seedLists,
      }),
    });
    live = await connectLive(tc.url, tc.token);
    // The camera manager opened the link at start; wait until it listens (live connected first: no race).
    const listening = (c: any) => c?.id === "viv1" && /^listening/.test(c.detail ?? "");
    if (!listening((await tc.api("/api/v1/cameras/viv1")).body.status))
      await live.waitFor((m) => m.type === "camera" && listening(m.camera));
  });
  afterAll(async () => {
    await live.close();
    await tc.stop();
    tc.cleanup();
  });

  it("a socket read of an allowed plate opens the barrier and is stored with the vendor fields", async () => {
    await barrierAtRest();
    const before = barrierOpens();
    const camera = await connectVivotekSocketCamera({
      host: "127.0.0.1",
      port: listenPort,
      format: "xml-image",
    });
    await camera.sendPlate({ plate: "AB-123-CD", confidence: 91, list: "whitelist" });
    const decision = await live.waitFor((m) => m.type === "decision" && m.event.plateRaw === "AB-123-CD");
    expect(decision.event).toMatchObject({ decision: "allow", cameraId: "viv1", protocol: "vivotek-socket" });
    expect(barrierOpens()).toBe(before + 1);
    expect(await storedEvent("AB123CD")).toMatchObject({
      decision: "allow",
      cameraId: "viv1",
      confidence: 91,
      extras: { country: "DEU", cameraListType: "whitelist", cameraName: "IB9387-LPR", mode: "MOTION" },
    });
    // A blocked plate on the same connection is denied and opens nothing.
    await camera.sendPlate({ plate: "XY999ZZ", list: "blacklist" });
    await live.waitFor((m) => m.type === "decision" && m.event.plate === "XY999ZZ");
    expect(barrierOpens()).toBe(before + 1);
    expect(await storedEvent("XY999ZZ")).toMatchObject({
      decision: "deny",
      listName: "Block",
      cameraId: "viv1",
    });
    await camera.close();
  });

  it("the HTTP action's GET opens the barrier; a POST body is read too; a wrong secret is refused", async () => {
    await barrierAtRest();
    const before = barrierOpens();
    const res = await sendVivotekHttpAction(
      tc.url,
      { plate: "KA 777", confidence: 80 },
      { secret: HTTP_SECRET },
    );
    expect(res).toMatchObject({ status: 200, body: { status: "decided", decision: "allow" } });
    expect(barrierOpens()).toBe(before + 1);
    expect(await storedEvent("KA777")).toMatchObject({
      cameraId: "viv2",
      protocol: "vivotek-http",
      confidence: 80,
      extras: { country: "DEU", cameraListId: "-1", cameraListType: "not in list" },
    });
    const posted = await sendVivotekHttpAction(
      tc.url,
      { plate: "XY999ZZ" },
      { secret: HTTP_SECRET, post: "json-image" },
    );
    expect(posted).toMatchObject({ status: 200, body: { decision: "deny" } });
    const bad = await sendVivotekHttpAction(tc.url, { plate: "AB 12#" }, { secret: HTTP_SECRET });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe(
      "query.numberplate: plate may contain only letters, digits, spaces and dashes",
    );
    const stranger = await sendVivotekHttpAction(
      tc.url,
      { plate: "AB123CD" },
      { secret: "not-the-secret-0000000" },
    );
    expect(stranger.status).toBe(401);
    expect(barrierOpens()).toBe(before + 1);
  });

  it("a malformed socket message is counted against the camera and the next read still opens", async () => {
    await barrierAtRest();
    const before = barrierOpens();
    const errorsBefore = (await tc.api("/api/v1/cameras/viv1")).body.status.errors;
    const camera = await connectVivotekSocketCamera({ host: "127.0.0.1", port: listenPort, format: "json" });
    await camera.sendRaw('{"numberplate": 42}');
    await camera.sendPlate({ plate: "KA-777" });
    const decision = await live.waitFor((m) => m.type === "decision" && m.event.plateRaw === "KA-777");
    expect(decision.event.decision).toBe("allow");
    const status = (await tc.api("/api/v1/cameras/viv1")).body.status;
    expect(status.errors).toBe(errorsBefore + 1);
    expect(status.lastError.message).toMatch(/message\.numberplate: expected a string, got number/);
    await camera.close();
    expect(barrierOpens()).toBe(before + 1);
  });
});
