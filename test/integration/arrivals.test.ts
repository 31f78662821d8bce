/** One arrival, one decision, through the real server: best-of windows, LOST re-arming, two cameras on a lane. */
import { afterEach, describe, expect, it } from "vitest";
import { demoSite } from "../../firmware/config/site.js";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";

let tc: TestController;
const SECOND_SECRET = "second-camera-secret-0123456";

afterEach(async () => {
  await tc.stop();
  tc.cleanup();
});

async function start(filters: Record<string, unknown>): Promise<void> {
  const demo = testSite();
  tc = await startTestController({
    site: testSite({
      cameras: [...demo.cameras, { id: "cam2", protocol: "generic", lane: "1", secret: SECOND_SECRET }],
      filters,
      seedLists: demoSite().seedLists,
    }),
  });
}

function post(body: Record<string, unknown>, secret = tc.cameraSecret) {
  return fetch(`${tc.url}/api/v1/ingest/generic`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-camera-secret": secret },
    body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
}

const opens = () => (tc.hal.history?.() ?? []).filter((t) => t.name === "lane1.barrier" && t.active).length;

describe("arrivals", () => {
  it("two cameras on one lane reading one car give one decision", async () => {
    await start({ repeatWindowMs: 5000 });
    const a = await post({ plate: "AB123CD", confidence: 90 });
    const b = await post({ plate: "AB123C0", confidence: 85 }, SECOND_SECRET);
    expect(a.body.status).toBe("decided");
    expect(b.body.status).toBe("duplicate");
    expect(opens()).toBe(1);
    expect((await tc.api("/api/v1/events")).body.items).toHaveLength(1);
  });

  it("best-of: the reply is 202 pending, and the window's most confident read is decided and stored", async () => {
    await start({ decideOn: "best-of", bestOfWindowMs: 300, bestOfCount: 10 });
    const weak = await post({ plate: "AB123C0", confidence: 55 });
    const strong = await post({ plate: "AB123CD", confidence: 97 }, SECOND_SECRET);
    expect(weak.status).toBe(202);
    expect(weak.body.status).toBe("pending");
    expect(strong.body.status).toBe("pending");
    expect(opens()).toBe(0);
    const deadline = Date.now() + 3000;
    let events: any[] = [];
    while (events.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      events = (await tc.api("/api/v1/events")).body.items;
    }
    expect(events).toMatchObject([{ plate: "AB123CD", cameraId: "cam2", confidence: 97, decision: "allow" }]);
    expect(opens()).toBe(1);
  });

  it("a LOST phase re-arms at once: the same car can open twice in a row", async () => {
    await start({ repeatWindowMs: 60_000 });
    expect((await post({ plate: "AB123CD", phase: "new" })).body.status).toBe("decided");
    expect((await post({ plate: "AB123CD", phase: "lost" })).body.status).toBe("duplicate");
    expect((await post({ plate: "AB123CD", phase: "new" })).body.status).toBe("decided");
    expect((await tc.api("/api/v1/events")).body.items).toHaveLength(2);
  });

  it("stopping the controller decides and stores arrivals still inside their window", async () => {
    await start({ decideOn: "best-of", bestOfWindowMs: 10_000, bestOfCount: 10 });
    expect((await post({ plate: "XY999ZZ" })).body.status).toBe("pending");
    const dataDir = tc.dataDir;
    await tc.stop();
    tc = await startTestController({ dataDir });
    expect((await tc.api("/api/v1/events")).body.items).toMatchObject([
      { plate: "XY999ZZ", decision: "deny" },
    ]);
  });
});
