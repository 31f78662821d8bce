/**
 * Operator approval end to end: a camera's read the approval rule catches waits for the operator (live
 * socket, API), and the answer — or the timeout — opens or not, is audited and shows in the event. The rule
 * is managed through the API, and pending requests survive a restart. Real HTTP server on loopback, real
 * SQLite file, sim HAL.
 */
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { SiteConfig } from "../../firmware/config/site.js";
import { systemClock } from "../../firmware/gate.js";
import type { IoTransition } from "../../hal/types.js";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { connectLive, type LiveClient } from "../helpers/live.js";
import { TINY_JPEG } from "../sim/hikvision-isapi.js";
import { pushMilesight } from "../sim/milesight-http.js";

const BARRIER = "lane1.barrier";
const UNKNOWN = "ZZ111AA";

let tc: TestController;
let live: LiveClient;
let site: SiteConfig;

async function start(approval: Record<string, unknown> = {}): Promise<void> {
  site = testSite({
    approval: { when: ["not-in-list"], passList: "Allow", ...approval },
    filters: { repeatWindowMs: 0 },
  });
  tc = await startTestController({ site });
  live = await connectLive(tc.url, tc.token);
}

/** Stop the controller and start a new one on the same data (and site), its clock `aheadMs` later. */
async function restart(aheadMs = 0, dataDir = tc.dataDir): Promise<void> {
  await live.close();
  await tc.stop();
  const clock = { ...systemClock, now: () => Date.now() + aheadMs };
  tc = await startTestController({ site, dataDir, clock });
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

  it("the read's picture is there for the operator at once (not held for the snapshot batch)", async () => {
    await start();
    const pushed = await pushMilesight(tc.url, { plate: UNKNOWN, fullImage: TINY_JPEG }, tc.cameraSecret);
    expect(pushed.body.status).toBe("decided");
    const request = await live.waitFor((m) => m.type === "approval" && m.plate === UNKNOWN);
    // The batch writes after 5 pictures or 30 s; the operator's card must not wait for either.
    const deadline = Date.now() + 3000;
    let images: any[] = [];
    while (images.length === 0 && Date.now() < deadline) {
      images = (await tc.api(`/api/v1/events/${request.eventId}/images`)).body.items;
      if (images.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(images).toEqual([expect.objectContaining({ kind: "full" })]);
    const bytes = await fetch(tc.url + images[0].url, { headers: { authorization: `Bearer ${tc.token}` } });
    expect(Buffer.from(await bytes.arrayBuffer())).toEqual(TINY_JPEG);
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

describe("approved passages and zones", () => {
  it("an approved opening is a passage: the zone counts it and marks the plate inside; a denial does not", async () => {
    site = testSite({
      approval: { when: ["not-in-list"] },
      filters: { repeatWindowMs: 0 },
      zones: [{ name: "Yard", antiPassback: "hard", lanes: [{ lane: "1", direction: "entry" }] }],
    });
    tc = await startTestController({ site });
    live = await connectLive(tc.url, tc.token);
    const yard = async () => (await tc.api("/api/v1/zones/Yard")).body;

    const denied = await ask("ZZ222BB");
    await tc.api(`/api/v1/approvals/${denied.id}`, { body: { outcome: "deny" } });
    expect(await yard()).toMatchObject({ count: 0, inside: 0 });

    const request = await ask();
    const pending = (await tc.api(`/api/v1/events/${request.eventId}`)).body.explanation.presence;
    expect(pending).toMatchObject({ movement: "entry", applied: false, effect: { countDelta: 1 } });
    expect(await yard()).toMatchObject({ count: 0, inside: 0 });
    await tc.api(`/api/v1/approvals/${request.id}`, { body: { outcome: "approve" } });
    expect(activations()).toHaveLength(1);
    expect(await yard()).toMatchObject({ count: 1, inside: 1 });
    const event = (await tc.api(`/api/v1/events/${request.eventId}`)).body;
    expect(event.explanation.presence).toMatchObject({ applied: true });
    // Inside now: hard anti-passback refuses the same plate before anyone is asked.
    const again = await pushMilesight(tc.url, { plate: UNKNOWN }, tc.cameraSecret);
    expect(again.body.reason).toMatch(/entered zone 'Yard' at .* \(anti-passback\)$/);
    // And the count was stored with the rewritten event: a restart keeps it.
    await restart();
    expect(await yard()).toMatchObject({ count: 1, inside: 1 });
  });
});

describe("approval settings through the API", () => {
  const settings = () => tc.api("/api/v1/approval/settings");
  const put = (body: unknown) => tc.api("/api/v1/approval/settings", { method: "PUT", body });

  it("starts from the site file, a PUT applies to the next read and is audited, the stored copy wins after a restart", async () => {
    await start();
    expect((await settings()).body).toEqual({
      when: ["not-in-list"],
      timeoutMs: 60_000,
      onTimeout: "deny",
      passList: "Allow",
      passHours: 8,
    });
    const first = await ask();

    // Never ask: the next unknown plate is decided; the pending request keeps its expiry.
    const off = await put({ when: [] });
    expect(off.status).toBe(200);
    expect(off.body).toEqual({ when: [], timeoutMs: 60_000, onTimeout: "deny", passHours: 8 });
    expect((await settings()).body).toEqual(off.body);
    const decided = await pushMilesight(tc.url, { plate: "ZZ222BB" }, tc.cameraSecret);
    expect(decided.body).toMatchObject({ status: "decided", decision: "deny" });
    expect((await tc.api("/api/v1/approvals")).body.items).toMatchObject([
      { id: first.id, expiresAt: first.expiresAt },
    ]);

    const rule = {
      when: ["not-in-list"],
      lanes: ["1"],
      timeoutMs: 30_000,
      onTimeout: "allow",
      passList: "Allow",
      passHours: 2,
    };
    expect((await put(rule)).body).toEqual(rule);
    const second = await ask("ZZ333CC");
    expect(Date.parse(second.expiresAt) - Date.parse(second.askedAt)).toBe(30_000);
    expect(second.passHours).toBe(2);
    const event = (await tc.api(`/api/v1/events/${second.eventId}`)).body;
    expect(event.explanation.approval).toMatchObject({ timeoutMs: 30_000, onTimeout: "allow" });

    const audits = await auditOf("approval.settings");
    expect(audits).toHaveLength(2);
    expect(audits[0]).toMatchObject({ actor: "admin", detail: { before: off.body, after: rule } });
    expect(audits[1].detail.before).toMatchObject({ when: ["not-in-list"], timeoutMs: 60_000 });

    // The site file still says 60 s, deny, every lane: the API's rule is kept.
    await restart();
    expect((await settings()).body).toEqual(rule);
  });

  it("refuses a bad rule with a 400 naming the field, changing nothing", async () => {
    await start();
    const before = (await settings()).body;
    const cases: [unknown, RegExp][] = [
      [{ when: ["fuzzy"], lanes: ["1", "9"] }, /\/lanes\/1 '9' is not among the site's lanes/],
      [{ when: ["fuzzy"], passList: "Nope" }, /\/passList 'Nope' is not a list/],
      [{ when: ["fuzzy"], passList: "Block" }, /\/passList 'Block' is a block list, not an allow list/],
      [{ when: ["fuzzy"], timeoutMs: 50 }, /timeoutMs/],
      [{ when: ["fuzzy"], timeoutMs: 3_600_001 }, /timeoutMs/],
      [{ when: ["sometimes"] }, /when/],
      [{ when: ["fuzzy"], bogus: 1 }, /bogus|additional/i],
    ];
    for (const [body, message] of cases) {
      const res = await put(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.message, JSON.stringify(body)).toMatch(message);
    }
    expect((await settings()).body).toEqual(before);
    expect(await auditOf("approval.settings")).toEqual([]);
    expect((await tc.api("/api/v1/approval/settings", { token: null })).status).toBe(401);
    expect((await tc.api("/api/v1/approval/settings", { method: "PUT", body: {}, token: null })).status).toBe(
      401,
    );

    // Checked against the lists as they are now.
    const created = await tc.api("/api/v1/lists", { body: { name: "Visitors", kind: "allow" } });
    expect(created.status).toBe(201);
    expect((await put({ ...before, passList: "Visitors" })).status).toBe(200);
  });
});

describe("pending requests across a restart", () => {
  it("survive a stop and start (same id and expiry, in the API and the hello) and can be approved after it", async () => {
    await start();
    const request = await ask();
    const old = tc;
    await restart();
    // A stopped controller takes no answer: it opens nothing.
    expect(() => old.controller.approvals.resolve(request.id, { outcome: "approve" }, "admin")).toThrow(
      /stopping/,
    );
    expect((old.hal.history?.() ?? []).filter((t) => t.name === BARRIER && t.active)).toHaveLength(0);

    const { type: _t, ...view } = request;
    expect((await tc.api("/api/v1/approvals")).body.items).toEqual([view]);
    expect((await live.waitFor((m) => m.type === "hello")).approvals).toEqual([view]);
    expect(activations()).toHaveLength(0);

    const res = await tc.api(`/api/v1/approvals/${request.id}`, { body: { outcome: "approve" } });
    expect(res.status).toBe(200);
    expect(activations()).toHaveLength(1);
    const event = (await tc.api(`/api/v1/events/${request.eventId}`)).body;
    expect(event.decision).toBe("allow");
    expect(event.reason).toMatch(/^approved by the operator: /);

    // Answered requests do not come back.
    await restart();
    expect((await tc.api("/api/v1/approvals")).body.items).toEqual([]);
    expect((await tc.api(`/api/v1/approvals/${request.id}`, { body: { outcome: "deny" } })).status).toBe(409);
    expect(activations()).toHaveLength(0);
  });

  it("one that expired while the controller was down is denied by 'restart', never opened (even with onTimeout allow)", async () => {
    await start({ onTimeout: "allow", timeoutMs: 1000 });
    const request = await ask();
    await restart(5000);
    expect((await tc.api("/api/v1/approvals")).body.items).toEqual([]);
    expect((await live.waitFor((m) => m.type === "hello")).approvals).toEqual([]);
    const event = (await tc.api(`/api/v1/events/${request.eventId}`)).body;
    expect(event.decision).toBe("deny");
    expect(event.reason).toMatch(/^the request expired while the controller was stopped, denied: /);
    expect(event.explanation.approval).toMatchObject({ status: "resolved", outcome: "deny", by: "restart" });
    expect(await auditOf("approval.deny")).toMatchObject([{ actor: "restart", target: "lane:1" }]);
    expect((await tc.api(`/api/v1/approvals/${request.id}`, { body: { outcome: "approve" } })).status).toBe(
      409,
    );
    await new Promise((r) => setTimeout(r, 50)); // no timer is left to open it
    expect(activations()).toHaveLength(0);
  });

  it("a request committed with its event comes back after a crash (the files as a kill -9 leaves them)", async () => {
    await start();
    const request = await ask(); // the push was answered after the event and its request committed
    const crashed = mkdtempSync(join(tmpdir(), "portcullis-test-"));
    cpSync(tc.dataDir, crashed, { recursive: true });
    const original = tc;
    await restart(0, crashed);
    original.cleanup();

    const pending = (await tc.api("/api/v1/approvals")).body.items;
    expect(pending).toMatchObject([{ id: request.id, expiresAt: request.expiresAt }]);
    const res = await tc.api(`/api/v1/approvals/${request.id}`, { body: { outcome: "approve" } });
    expect(res.status).toBe(200);
    expect(activations()).toHaveLength(1);
  });
});
