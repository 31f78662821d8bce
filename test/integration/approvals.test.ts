/**
 * Operator approval end to end: a camera's read the site's approval rule catches waits for the operator
 * (live socket, API), and the answer — or the timeout — opens or not, is audited and shows in the event.
 * Real HTTP server on loopback, real SQLite file, sim HAL.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { IoTransition } from "../../hal/types.js";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { connectLive, type LiveClient } from "../helpers/live.js";
import { pushMilesight } from "../sim/milesight-http.js";

const BARRIER = "lane1.barrier";
const UNKNOWN = "ZZ111AA";

let tc: TestController;
let live: LiveClient;

async function start(approval: Record<string, unknown> = {}): Promise<void> {
  tc = await startTestController({
    site: testSite({
      approval: { when: ["not-in-list"], passList: "Allow", ...approval },
      filters: { repeatWindowMs: 0 },
    }),
  });
  live = await connectLive(tc.url, tc.token);
}

afterEach(async () => {
  await live.close();
  await tc.stop();
  tc.cleanup();
});

const activations = (): IoTransition[] =>
  (tc.hal.history?.() ?? []).filter((t) => t.name === BARRIER && t.active);

async function ask(plate = UNKNOWN): Promise<any> {
  const pushed = await pushMilesight(tc.url, { plate }, tc.cameraSecret);
  expect(pushed.status).toBe(200);
  return live.waitFor((m) => m.type === "approval" && m.plate === plate);
}

async function auditOf(action: string): Promise<any[]> {
  const items = (await tc.api("/api/v1/audit")).body.items as any[];
  return items.filter((a) => a.action === action);
}

describe("operator approval", () => {
  it("asks about an unknown plate on the live socket and the API, opening nothing", async () => {
    await start();
    const request = await ask();
    expect(request).toMatchObject({ lane: "1", plate: UNKNOWN, id: request.eventId });
    expect(request.reason).toContain("not on any list");
    expect(Date.parse(request.expiresAt) - Date.parse(request.askedAt)).toBe(60_000);
    expect(activations()).toHaveLength(0);

    const pending = (await tc.api("/api/v1/approvals")).body.items;
    expect(pending).toEqual([request].map(({ type: _t, ...rest }) => rest));
    const event = (await tc.api(`/api/v1/events/${request.eventId}`)).body;
    expect(event).toMatchObject({ decision: "deny", plate: UNKNOWN });
    expect(event.reason).toMatch(/^waiting for the operator: /);
    expect(event.explanation.approval).toMatchObject({ status: "pending", onTimeout: "deny" });

    // A panel connecting now gets the request in its hello.
    const late = await connectLive(tc.url, tc.token);
    const hello = await late.waitFor((m) => m.type === "hello");
    expect(hello.approvals).toHaveLength(1);
    await late.close();
  });

  it("approve opens the barrier as a manual open, rewrites the event and audits it", async () => {
    await start();
    const request = await ask();
    const res = await tc.api(`/api/v1/approvals/${request.id}`, {
      body: { outcome: "approve", reason: "delivery expected" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: "approve", by: "admin", pulseMs: 500, pass: null });
    expect(activations()).toHaveLength(1);
    await live.waitFor(
      (m) => m.type === "approval-resolved" && m.id === request.id && m.outcome === "approve",
    );

    const event = (await tc.api(`/api/v1/events/${request.eventId}`)).body;
    expect(event.decision).toBe("allow");
    expect(event.reason).toMatch(/^approved by the operator: /);
    expect(event.relayAt).not.toBeNull();
    expect(event.explanation.approval).toMatchObject({
      status: "resolved",
      outcome: "approve",
      by: "admin",
      reason: "delivery expected",
    });
    const redone = await live.waitFor((m) => m.type === "decision" && m.event.decision === "allow");
    expect(redone.event).toMatchObject({ id: request.eventId, plate: UNKNOWN });
    const listed = (await tc.api(`/api/v1/events?plate=${UNKNOWN}`)).body.items;
    expect(listed[0]).toMatchObject({ id: request.eventId, decision: "allow" });

    const [entry] = await auditOf("approval.approve");
    expect(entry).toMatchObject({ actor: "admin", target: "lane:1" });
    expect((await tc.api("/api/v1/approvals")).body.items).toEqual([]);

    const again = await tc.api(`/api/v1/approvals/${request.id}`, { body: { outcome: "deny" } });
    expect(again.status).toBe(409);
    expect(activations()).toHaveLength(1);
    expect((await tc.api("/api/v1/approvals/99999", { body: { outcome: "deny" } })).status).toBe(404);
  });

  it("approve-pass adds a pass for N hours, so the next read of the plate opens without asking", async () => {
    await start();
    const request = await ask();
    const res = await tc.api(`/api/v1/approvals/${request.id}`, {
      body: { outcome: "approve-pass", hours: 2 },
    });
    expect(res.status).toBe(200);
    expect(activations()).toHaveLength(1);
    const lists = (await tc.api("/api/v1/lists")).body.items as any[];
    const allow = lists.find((l) => l.name === "Allow");
    expect(res.body.pass.listId).toBe(allow.id);
    const entries = (await tc.api(`/api/v1/lists/${allow.id}/entries`)).body.items as any[];
    const pass = entries.find((e) => e.plate === UNKNOWN);
    expect(Date.parse(pass.validTo) - Date.parse(pass.validFrom)).toBe(2 * 3_600_000);
    expect(await auditOf("approval.approve-pass")).toHaveLength(1);

    // The approval's pulse ends first, so the next opening is a pulse of its own.
    await live.waitFor((m) => m.type === "io" && m.name === BARRIER && m.state === "inactive");
    const next = await pushMilesight(tc.url, { plate: UNKNOWN }, tc.cameraSecret);
    expect(next.body).toMatchObject({ status: "decided", decision: "allow" });
    expect(activations()).toHaveLength(2);
    expect(live.messages.filter((m) => m.type === "approval")).toHaveLength(1);
  });

  it("deny opens nothing and is audited", async () => {
    await start();
    const request = await ask();
    const res = await tc.api(`/api/v1/approvals/${request.id}`, { body: { outcome: "deny" } });
    expect(res.status).toBe(200);
    expect(res.body.pulseMs).toBeNull();
    await live.waitFor((m) => m.type === "approval-resolved" && m.outcome === "deny" && m.by === "admin");
    expect(activations()).toHaveLength(0);
    expect(await auditOf("approval.deny")).toHaveLength(1);
    const event = (await tc.api(`/api/v1/events/${request.eventId}`)).body;
    expect(event).toMatchObject({ decision: "deny" });
    expect(event.reason).toMatch(/^denied by the operator: /);
  });

  it("an unanswered request resolves with onTimeout (allow here) and is audited as the timeout", async () => {
    await start({ timeoutMs: 300, onTimeout: "allow" });
    const request = await ask();
    const resolved = await live.waitFor((m) => m.type === "approval-resolved" && m.id === request.id);
    expect(resolved).toMatchObject({ outcome: "approve", by: "timeout" });
    expect(activations()).toHaveLength(1);
    const [entry] = await auditOf("approval.approve");
    expect(entry).toMatchObject({ actor: "timeout" });
    const event = (await tc.api(`/api/v1/events/${request.eventId}`)).body;
    expect(event.decision).toBe("allow");
    expect(event.reason).toMatch(/^no operator answer within 0.3 s, allowed: /);
    expect((await tc.api(`/api/v1/approvals/${request.id}`, { body: { outcome: "deny" } })).status).toBe(409);
  });

  it("an unanswered request denies by default", async () => {
    await start({ timeoutMs: 200 });
    const request = await ask();
    await live.waitFor((m) => m.type === "approval-resolved" && m.id === request.id && m.by === "timeout");
    expect(activations()).toHaveLength(0);
    expect(await auditOf("approval.deny")).toMatchObject([{ actor: "timeout" }]);
  });

  it("known plates never ask: allowed opens, blocked denies", async () => {
    await start({ when: ["not-in-list", "fuzzy"] });
    expect((await pushMilesight(tc.url, { plate: "AB123CD" }, tc.cameraSecret)).body).toMatchObject({
      decision: "allow",
    });
    expect((await pushMilesight(tc.url, { plate: "XY999ZZ" }, tc.cameraSecret)).body).toMatchObject({
      decision: "deny",
    });
    expect(activations()).toHaveLength(1);
    expect(live.messages.filter((m) => m.type === "approval")).toHaveLength(0);
    expect((await tc.api("/api/v1/approvals")).body.items).toEqual([]);
  });

  it("asks about an allow decided by a fuzzy match when the rule says fuzzy; an exact match opens", async () => {
    await start({ when: ["fuzzy"] });
    const allow = ((await tc.api("/api/v1/lists")).body.items as any[]).find((l) => l.name === "Allow");
    expect(
      (await tc.api(`/api/v1/lists/${allow.id}`, { method: "PATCH", body: { maxDistance: 1 } })).status,
    ).toBe(200);
    const request = await ask("AB123C0");
    expect(request.reason).toContain("distance");
    expect(activations()).toHaveLength(0);
    await pushMilesight(tc.url, { plate: "ZZ222BB" }, tc.cameraSecret); // not in list: not asked
    expect((await tc.api("/api/v1/approvals")).body.items).toHaveLength(1);
  });

  it("never asks without a rule, and approve-pass without a pass list is refused", async () => {
    await start({ when: [] });
    await pushMilesight(tc.url, { plate: UNKNOWN }, tc.cameraSecret);
    expect((await tc.api("/api/v1/approvals")).body.items).toEqual([]);
    await tc.stop();
    tc.cleanup();
    await live.close();
    tc = await startTestController({ site: testSite({ approval: { when: ["not-in-list"] } }) });
    live = await connectLive(tc.url, tc.token);
    const request = await ask();
    const res = await tc.api(`/api/v1/approvals/${request.id}`, { body: { outcome: "approve-pass" } });
    expect(res.status).toBe(409);
    expect(activations()).toHaveLength(0);
    expect((await tc.api("/api/v1/approvals")).body.items).toHaveLength(1);
  });
});
