/** The dry run (POST /decide) and one event with its explanation (GET /events/{id}). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestController, type TestController } from "../helpers/controller.js";
import { pushMilesight } from "../sim/milesight-http.js";

let tc: TestController;
beforeAll(async () => {
  tc = await startTestController();
});
afterAll(async () => {
  await tc.stop();
  tc.cleanup();
});

const barrierHistory = () => (tc.hal.history?.() ?? []).filter((t) => t.name === "lane1.barrier");

describe("dry run", () => {
  it("answers what would happen and why, acting on nothing and storing nothing", async () => {
    const before = barrierHistory().length;
    const allowed = await tc.api("/api/v1/decide", { body: { plate: "ab-123 cd", lane: "1" } });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({
      plate: "AB123CD",
      lane: "1",
      decision: "allow",
      reason: "AB123CD is on allow list 'Allow'",
      explanation: { match: { kind: "exact" }, matches: [{ listName: "Allow", kind: "allow" }] },
      actions: [{ index: 0, type: "barrier-open" }],
    });
    const blocked = await tc.api("/api/v1/decide", { body: { plate: "XY999ZZ" } });
    expect(blocked.body).toMatchObject({ decision: "deny", lane: "1", actions: [] });
    expect(barrierHistory().length).toBe(before);
    expect((await tc.api("/api/v1/events?plate=AB123CD")).body.items).toEqual([]);
    // A dry run is no arrival: a real read right after it is still decided.
    const pushed = await pushMilesight(tc.url, { plate: "AB123CD" }, tc.cameraSecret);
    expect(pushed.body).toMatchObject({ status: "decided", decision: "allow" });
  });

  it("takes a time: an entry not yet valid then is not matched", async () => {
    const list = (await tc.api("/api/v1/lists")).body.items.find((l: any) => l.name === "Allow");
    await tc.api(`/api/v1/lists/${list.id}/entries`, {
      body: { plate: "FUTURE1", validFrom: "2030-01-01T00:00:00Z" },
    });
    const now = await tc.api("/api/v1/decide", { body: { plate: "FUTURE1" } });
    expect(now.body.decision).toBe("deny");
    const later = await tc.api("/api/v1/decide", { body: { plate: "FUTURE1", at: "2030-06-01T12:00:00Z" } });
    expect(later.body).toMatchObject({ decision: "allow", at: "2030-06-01T12:00:00.000Z" });
  });

  it("refuses what it cannot answer, saying why", async () => {
    const lane = await tc.api("/api/v1/decide", { body: { plate: "AB123CD", lane: "9" } });
    expect(lane.status).toBe(404);
    expect(lane.body.message).toContain("lane '9' does not exist");
    const plate = await tc.api("/api/v1/decide", { body: { plate: "###" } });
    expect(plate.status).toBe(400);
    expect(plate.body.message).toContain("plate");
    const extra = await tc.api("/api/v1/decide", { body: { plate: "AB1", camera: "x" } });
    expect(extra.status).toBe(400);
    expect((await tc.api("/api/v1/decide", { body: { plate: "AB1" }, token: null })).status).toBe(401);
  });
});

describe("one event", () => {
  it("is served with its explanation; an unknown id is 404", async () => {
    const pushed = await pushMilesight(tc.url, { plate: "KA777" }, tc.cameraSecret);
    const event = await tc.api(`/api/v1/events/${pushed.body.eventId}`);
    expect(event.body).toMatchObject({
      id: pushed.body.eventId,
      plate: "KA777",
      decision: "allow",
      explanation: { match: { kind: "exact" } },
    });
    expect((await tc.api("/api/v1/events/999999")).status).toBe(404);
    // The list shows the same explanation as the single event (not a stand-in).
    const [listed] = (await tc.api("/api/v1/events?plate=KA777")).body.items;
    expect(listed.explanation).toEqual(event.body.explanation);
  });
});
