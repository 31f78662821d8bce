/** A simulated NumberOk EDGE camera application posting multipart JSON + image, through the real server. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoSite } from "../../firmware/config/site.js";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { pushEdge } from "../sim/numberok-edge.js";

const EDGE_SECRET = "numberok-edge-secret-0123456";
let tc: TestController;

beforeAll(async () => {
  tc = await startTestController({
    site: testSite({
      cameras: [{ id: "edge1", protocol: "numberok-edge", lane: "1", secret: EDGE_SECRET }],
      seedLists: demoSite().seedLists,
    }),
  });
});
afterAll(async () => {
  await tc.stop();
  tc.cleanup();
});

describe("NumberOk EDGE JSON over HTTP", () => {
  it("an allowed German plate with an umlaut opens the barrier; raw Unicode and ASCII are stored", async () => {
    const res = await pushEdge(
      tc.url,
      { plate: "MÜ-PC 1234", ascii: "MUEPC1234", confidence: 0.93 },
      EDGE_SECRET,
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "decided", decision: "allow" });
    expect((tc.hal.history?.() ?? []).filter((t) => t.name === "lane1.barrier" && t.active)).toHaveLength(1);
    const [event] = (await tc.api("/api/v1/events")).body.items;
    expect(event).toMatchObject({
      plate: "MÜPC1234",
      plateRaw: "MÜ-PC 1234",
      protocol: "numberok-edge",
      cameraId: "edge1",
      confidence: 93,
      direction: "in",
      extras: { plateAscii: "MUEPC1234", country: "DEU" },
    });
  });

  it("a malformed document gets 400 with the field and stores nothing", async () => {
    const form = new FormData();
    form.append("json", new Blob(['{"plateCountry":"NLD"}'], { type: "application/json" }), "event.json");
    const res = await fetch(`${tc.url}/api/v1/ingest/numberok`, {
      method: "POST",
      headers: { "x-camera-secret": EDGE_SECRET },
      body: form,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).message).toBe("body.plateUnicode: missing: the read carries no plate");
    expect((await tc.api("/api/v1/events")).body.items).toHaveLength(1);
  });
});
