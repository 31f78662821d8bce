/** Actions bound to decisions and lists, and the read filters, through the real server. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { demoSite } from "../../firmware/config/site.js";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { pushMilesight } from "../sim/milesight-http.js";

let tc: TestController;

const activations = (name: string) => (tc.hal.history?.() ?? []).filter((t) => t.name === name && t.active);

beforeEach(async () => {
  const demo = demoSite();
  tc = await startTestController({
    site: testSite({
      outputs: [
        ...demo.outputs,
        { name: "lane1.light", pin: 22 },
        { name: "lane1.siren", pin: 23 },
        { name: "lane1.beacon", pin: 24 },
      ],
      filters: { repeatWindowMs: 10_000, minConfidence: 60 },
      actions: [
        { on: { result: "allow" }, do: { type: "barrier-open", pulseMs: 250 } },
        { on: { list: "not-in-list" }, do: { type: "output-pulse", output: "lane1.light", ms: 40 } },
        { on: { list: "Block" }, do: { type: "output-latch", output: "lane1.siren", active: true } },
        {
          on: { list: "Block" },
          do: { type: "output-blink", output: "lane1.beacon", onMs: 20, offMs: 30, count: 3 },
        },
        {
          on: { result: "allow" },
          enabled: false,
          do: { type: "output-latch", output: "lane1.siren", active: true },
        },
      ],
    }),
  });
});

afterEach(async () => {
  await tc.stop();
  tc.cleanup();
});

describe("actions", () => {
  it("barrier-open uses the action's pulse width", async () => {
    await pushMilesight(tc.url, { plate: "AB123CD" }, tc.cameraSecret);
    const [on] = activations("lane1.barrier");
    expect(on).toBeDefined();
    await new Promise((r) => setTimeout(r, 400));
    const off = (tc.hal.history?.() ?? []).find((t) => t.name === "lane1.barrier" && !t.active);
    const width = (off?.monoMs ?? 0) - (on?.monoMs ?? 0);
    expect(width).toBeGreaterThanOrEqual(249);
    expect(width).toBeLessThan(350);
    expect(activations("lane1.light")).toHaveLength(0);
    expect(activations("lane1.siren")).toHaveLength(0); // the disabled action did nothing
  });

  it("'not-in-list' pulses the light for an unknown plate and opens nothing", async () => {
    const res = await pushMilesight(tc.url, { plate: "UNKN0WN1" }, tc.cameraSecret);
    expect(res.body).toMatchObject({ decision: "deny" });
    expect(activations("lane1.light")).toHaveLength(1);
    expect(activations("lane1.barrier")).toHaveLength(0);
  });

  it("a blocked plate blinks the beacon: three pulses, then dark", async () => {
    await pushMilesight(tc.url, { plate: "XY999ZZ" }, tc.cameraSecret);
    const beacon = () => (tc.hal.history?.() ?? []).filter((t) => t.name === "lane1.beacon");
    await vi.waitFor(() => expect(beacon()).toHaveLength(6), { timeout: 3000, interval: 20 });
    const edges = beacon();
    expect(edges.map((t) => t.active)).toEqual([true, false, true, false, true, false]);
    for (const i of [0, 2, 4]) {
      const width = (edges[i + 1]?.monoMs ?? 0) - (edges[i]?.monoMs ?? 0);
      expect(width).toBeGreaterThanOrEqual(19.9);
    }
    expect(tc.hal.output("lane1.beacon").active).toBe(false);
  });

  it("a list-bound latch holds its output for a blocked plate", async () => {
    await pushMilesight(tc.url, { plate: "XY999ZZ" }, tc.cameraSecret);
    expect(tc.hal.output("lane1.siren").active).toBe(true);
    expect(activations("lane1.light")).toHaveLength(0);
  });
});

describe("read filters", () => {
  it("a read below the minimum confidence is ignored: no decision, no event, no relay", async () => {
    const res = await pushMilesight(tc.url, { plate: "AB123CD", confidence: 45 }, tc.cameraSecret);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ignored", reason: "confidence 45 is below the minimum 60" });
    expect(activations("lane1.barrier")).toHaveLength(0);
    expect((await tc.api("/api/v1/events")).body.items).toHaveLength(0);
    // The same car read well a moment later is decided: the weak read did not arm the repetition filter.
    const good = await pushMilesight(tc.url, { plate: "AB123CD", confidence: 90 }, tc.cameraSecret);
    expect(good.body).toMatchObject({ status: "decided", decision: "allow" });
  });
});
