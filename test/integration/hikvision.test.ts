/** A simulated Hikvision camera in listening mode, through the real server. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoSite } from "../../firmware/config/site.js";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { pushHikvision } from "../sim/hikvision-isapi.js";

const HIK_SECRET = "hikvision-camera-secret-0123";
let tc: TestController;

const barrierOpens = () =>
  (tc.hal.history?.() ?? []).filter((t) => t.name === "lane1.barrier" && t.active).length;

beforeAll(async () => {
  tc = await startTestController({
    site: testSite({
      cameras: [{ id: "hik1", protocol: "hikvision-isapi", lane: "1", secret: HIK_SECRET }],
      filters: { repeatWindowMs: 0, minConfidence: 0 },
      seedLists: demoSite().seedLists,
    }),
  });
});
afterAll(async () => {
  await tc.stop();
  tc.cleanup();
});

describe("Hikvision ISAPI listening mode", () => {
  it("a plain XML alert for an allowed plate opens the barrier and is stored with the vendor fields", async () => {
    const before = barrierOpens();
    const res = await pushHikvision(tc.url, { plate: "AB123CD", confidence: 93 }, { secret: HIK_SECRET });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "decided", decision: "allow" });
    expect(barrierOpens()).toBe(before + 1);
    const [event] = (await tc.api("/api/v1/events?plate=AB123CD")).body.items;
    expect(event).toMatchObject({
      protocol: "hikvision-isapi",
      cameraId: "hik1",
      confidence: 93,
      direction: "approach",
    });
    expect(event.extras).toMatchObject({
      country: "7",
      vehicleType: "SUVMPV",
      uuid: "5b0a1c9e-0000-4000-8000-000000000001",
    });
  });

  it("a multipart alert with pictures is decided; a blocked plate opens nothing", async () => {
    const before = barrierOpens();
    const res = await pushHikvision(tc.url, { plate: "XY999ZZ" }, { multipart: true, secret: HIK_SECRET });
    expect(res.body).toMatchObject({ status: "decided", decision: "deny" });
    expect(barrierOpens()).toBe(before);
    const [event] = (await tc.api("/api/v1/events?plate=XY999ZZ")).body.items;
    expect(event).toMatchObject({ decision: "deny", listName: "Block" });
  });

  it("a heartbeat is acknowledged and ignored; a malformed alert gets 400 and stores nothing", async () => {
    const count = async () => (await tc.api("/api/v1/events?limit=1000")).body.items.length;
    const before = await count();
    const heartbeat = await pushHikvision(
      tc.url,
      { plate: "AB1", eventType: "videoloss" },
      { secret: HIK_SECRET },
    );
    expect(heartbeat.status).toBe(202);
    const bad = await fetch(`${tc.url}/api/v1/ingest/hikvision`, {
      method: "POST",
      headers: { "content-type": "application/xml", "x-camera-secret": HIK_SECRET },
      body: "<EventNotificationAlert><eventType>ANPR</eventType><ANPR>",
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).message).toMatch(/malformed XML/);
    const badMultipart = await fetch(`${tc.url}/api/v1/ingest/hikvision`, {
      method: "POST",
      headers: { "content-type": "multipart/form-data; boundary=xyz", "x-camera-secret": HIK_SECRET },
      body: '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nnot xml\r\n--xyz--\r\n',
    });
    expect(badMultipart.status).toBe(400);
    expect(((await badMultipart.json()) as any).message).toMatch(/no XML part/);
    expect(await count()).toBe(before);
  });

  it("the XML route is only for cameras configured for it", async () => {
    const res = await fetch(`${tc.url}/api/v1/ingest/milesight`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-camera-secret": HIK_SECRET },
      body: JSON.stringify({ plate: "AB123CD" }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).message).toMatch(/configured for hikvision-isapi/);
  });
});
