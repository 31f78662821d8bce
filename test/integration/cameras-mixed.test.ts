/**
 * One site, every kind of camera side by side: each protocol's pictures are stored with its event, and two
 * cameras of different protocols watching one lane give one decision per vehicle.
 */

import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { demoSite } from "../../firmware/config/site.js";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { freePort } from "../sim/free-port.js";
import { startHikvisionCamera } from "../sim/hikvision-alertstream.js";
import { pushHikvision, TINY_JPEG } from "../sim/hikvision-isapi.js";
import { pushMilesight } from "../sim/milesight-http.js";
import { type MilesightTcpCamera, startMilesightTcpCamera } from "../sim/milesight-tcp.js";
import { pushEdge } from "../sim/numberok-edge.js";
import { connectVivotekSocketCamera, sendVivotekHttpAction } from "../sim/vivotek.js";

const credentials = { username: "portcullis", password: "mixed-site-camera-pass" };
const secret = (id: string) => `mixed-secret-${id}-0123456789`;
let tc: TestController;
let milesightTcp: MilesightTcpCamera;
let hikArming: Awaited<ReturnType<typeof startHikvisionCamera>>;
let vivotekPort: number;

/** Lanes 1–3 of the demo site's shape, so cameras can share a lane or have their own. */
function site() {
  const demo = demoSite();
  const lanes = ["1", "2", "3"];
  return testSite({
    outputs: lanes.map((id, i) => ({ name: `lane${id}.barrier`, pin: 20 + i })),
    inputs: [],
    lanes: lanes.map((id) => ({ id, name: `Lane ${id}`, barrierOutput: `lane${id}.barrier` })),
    cameras: [
      // Lane 1: two cameras of different protocols watch the same vehicles.
      {
        id: "ms-tcp",
        protocol: "milesight-tcp",
        lane: "1",
        connection: { host: "127.0.0.1", port: milesightTcp.port, ...credentials },
      },
      { id: "hik-push", protocol: "hikvision-isapi", lane: "1", secret: secret("hik-push") },
      // Lane 2 and 3: one camera each.
      { id: "edge", protocol: "numberok-edge", lane: "2", secret: secret("edge") },
      { id: "ms-http", protocol: "milesight-http", lane: "2", secret: secret("ms-http") },
      {
        id: "hik-arm",
        protocol: "hikvision-alertstream",
        lane: "3",
        connection: { host: "127.0.0.1", port: hikArming.port, ...credentials },
      },
      {
        id: "viv-socket",
        protocol: "vivotek-socket",
        lane: "3",
        addresses: ["127.0.0.1"],
        connection: { listenPort: vivotekPort, host: "127.0.0.1" },
      },
      { id: "viv-http", protocol: "vivotek-http", lane: "3", secret: secret("viv-http") },
    ],
    filters: { repeatWindowMs: 5000, minConfidence: 0 },
    seedLists: demo.seedLists,
  });
}

async function eventOf(cameraId: string, plate: string): Promise<any> {
  let found: any;
  await vi.waitFor(
    async () => {
      const { items } = (await tc.api(`/api/v1/events?plate=${plate}`)).body;
      found = items.find((e: any) => e.cameraId === cameraId);
      expect(found).toBeDefined();
    },
    { timeout: 10_000, interval: 50 },
  );
  return found;
}

beforeAll(async () => {
  milesightTcp = await startMilesightTcpCamera({ host: "127.0.0.1", ...credentials });
  hikArming = await startHikvisionCamera({ ...credentials, heartbeatMs: 1000 });
  vivotekPort = await freePort();
  tc = await startTestController({ site: site() });
  await vi.waitFor(
    async () => {
      const { items } = (await tc.api("/api/v1/cameras")).body;
      const states = Object.fromEntries(items.map((c: any) => [c.id, c.status.state]));
      expect(states).toMatchObject({ "ms-tcp": "connected", "hik-arm": "connected" });
    },
    { timeout: 10_000, interval: 50 },
  );
});
afterAll(async () => {
  await tc.stop();
  tc.cleanup();
  await milesightTcp.close();
  await hikArming.close();
});

describe("a site with every kind of camera", () => {
  it("two cameras of different protocols on one lane: one decision per vehicle, the second read a duplicate", async () => {
    const opensBefore = (tc.hal.history?.() ?? []).filter(
      (t) => t.name === "lane1.barrier" && t.active,
    ).length;
    await milesightTcp.sendPlate({ plate: "AB123CD", images: true });
    const first = await eventOf("ms-tcp", "AB123CD");
    expect(first.decision).toBe("allow");
    const second = await pushHikvision(tc.url, { plate: "AB-123-CD" }, { secret: secret("hik-push") });
    expect(second.body).toMatchObject({ status: "duplicate" });
    const opens = (tc.hal.history?.() ?? []).filter((t) => t.name === "lane1.barrier" && t.active).length;
    expect(opens).toBe(opensBefore + 1);
    expect((await tc.api("/api/v1/events?plate=AB123CD")).body.items).toHaveLength(1);
  });

  it("every protocol's pictures are stored with its event and served", async () => {
    const vivotek = await connectVivotekSocketCamera({
      host: "127.0.0.1",
      port: vivotekPort,
      format: "xml-image",
    });
    await pushEdge(tc.url, { plate: "KA777" }, secret("edge"));
    await pushMilesight(
      tc.url,
      { plate: "XY999ZZ", plateImage: TINY_JPEG, fullImage: TINY_JPEG },
      secret("ms-http"),
    );
    await pushHikvision(tc.url, { plate: "KA777" }, { multipart: true, secret: secret("hik-push") });
    await hikArming.sendPlate({ plate: "QQ1111", images: true });
    await vivotek.sendPlate({ plate: "QQ2222" });
    await sendVivotekHttpAction(
      tc.url,
      { plate: "QQ3333" },
      { secret: secret("viv-http"), post: "json-image" },
    );
    const expected: [string, string, string[]][] = [
      ["ms-tcp", "AB123CD", ["full", "plate"]],
      ["edge", "KA777", ["plate"]],
      ["ms-http", "XY999ZZ", ["full", "plate"]],
      ["hik-push", "KA777", ["full", "plate"]],
      ["hik-arm", "QQ1111", ["full", "plate"]],
      ["viv-socket", "QQ2222", ["full"]],
      ["viv-http", "QQ3333", ["full"]],
    ];
    const events = await Promise.all(expected.map(([camera, plate]) => eventOf(camera, plate)));
    await vivotek.close();
    // Pictures are written in batches; a restart writes whatever is still queued.
    tc = await tc.restart();
    for (const [i, [camera, , kinds]] of expected.entries()) {
      const { items } = (await tc.api(`/api/v1/events/${events[i].id}/images`)).body;
      expect([camera, items.map((p: any) => p.kind).sort()]).toEqual([camera, kinds]);
      const bytes = await fetch(`${tc.url}${items[0].url}`, {
        headers: { authorization: `Bearer ${tc.token}` },
      });
      expect(bytes.status).toBe(200);
      expect((await bytes.arrayBuffer()).byteLength).toBe(items[0].bytes);
    }
  });
});
