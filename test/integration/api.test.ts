/** The REST API and live socket contract, over real HTTP on loopback. */
import { statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestController, type TestController } from "../helpers/controller.js";
import { connectLive } from "../helpers/live.js";
import { pushMilesight } from "../sim/milesight-http.js";

let tc: TestController;

async function waitUntil(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  tc = await startTestController();
});
afterAll(async () => {
  await tc.stop();
  tc.cleanup();
});

describe("authentication", () => {
  it("every /api/v1 route except health and ingest needs the admin token", async () => {
    for (const path of ["/api/v1/lists", "/api/v1/events", "/api/v1/io", "/api/v1/lanes", "/api/v1/audit"]) {
      const res = await tc.api(path, { token: null });
      expect(res.status, path).toBe(401);
      expect(res.body.message).toMatch(/bearer token/);
      expect((await tc.api(path, { token: "wrong-token-wrong-token" })).status, path).toBe(401);
      expect((await tc.api(path)).status, path).toBe(200);
    }
    expect((await tc.api("/api/v1/lanes/1/open", { body: {}, token: null })).status).toBe(401);
    const health = await tc.api("/api/v1/health", { token: null });
    expect(health.status).toBe(200);
    // The site's name and time zone are no secret: a panel on the sign-in screen may show them.
    expect(health.body.site).toEqual({ name: "Demo site", timeZone: "UTC" });
  });

  it("no spelling of a protected path gets through without the token", async () => {
    for (const path of [
      "/api/v1/lists?x=1",
      "/api/v1//lists",
      "/api/v1/ingest/../lists",
      "/api/v1/%6Cists",
      "/api/v1/lists/",
      "/API/V1/LISTS",
    ]) {
      const res = await fetch(`${tc.url}${path}`);
      expect([401, 404], path).toContain(res.status);
    }
  });

  it("the live socket refuses a wrong token (header: 401 on upgrade; first message: close 4401)", async () => {
    const url = `${tc.url.replace("http", "ws")}/api/v1/live`;
    const byHeader = new WebSocket(url, { headers: { authorization: "Bearer wrong-token-wrong-token" } });
    const status = await new Promise((resolve) =>
      byHeader.once("unexpected-response", (_req, res) => resolve(res.statusCode)),
    );
    expect(status).toBe(401);

    const byMessage = new WebSocket(url);
    await new Promise((resolve) => byMessage.once("open", resolve));
    byMessage.send(JSON.stringify({ type: "auth", token: "wrong-token-wrong-token" }));
    const code = await new Promise((resolve) => byMessage.once("close", (c) => resolve(c)));
    expect(code).toBe(4401);
  });

  it("a camera may present its secret as a header, as HTTP basic auth (password), or as ?secret=", async () => {
    const post = (path: string, headers: Record<string, string>, plate: string) =>
      fetch(`${tc.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ plate, camera: "not-a-real-camera" }),
      });
    const basic = `Basic ${Buffer.from(`cam1:${tc.cameraSecret}`).toString("base64")}`;
    const viaBasic = await post("/api/v1/ingest/milesight", { authorization: basic }, "SEC0001");
    expect((await viaBasic.json()) as any).toMatchObject({ status: "decided" });
    const viaQuery = await post(`/api/v1/ingest/milesight?secret=${tc.cameraSecret}`, {}, "SEC0002");
    expect((await viaQuery.json()) as any).toMatchObject({ status: "decided" });
    const wrong = await post("/api/v1/ingest/milesight?secret=wrong-secret-wrong-secret", {}, "SEC0003");
    expect(wrong.status).toBe(401);
    const events = (await tc.api("/api/v1/events?plate=SEC")).body.items;
    expect(events.map((e: { plate: string; cameraId: string }) => `${e.plate}@${e.cameraId}`).sort()).toEqual(
      ["SEC0001@cam1", "SEC0002@cam1"],
    );
  });

  it("a browser-style client authenticates with its first message and gets hello with lanes and io", async () => {
    const live = await connectLive(tc.url, tc.token, "message");
    const hello = live.messages[0];
    // The original lane fields keep their values (the panel reads them); the barrier's state is added.
    expect(hello.lanes).toHaveLength(1);
    expect(hello.lanes[0]).toMatchObject({
      id: "1",
      name: "Lane 1",
      barrierOutput: "lane1.barrier",
      presenceInput: "lane1.presence",
      openPulseMs: 500,
      barrier: { state: "unknown", fault: null, canClose: false, canHold: true },
    });
    expect(hello.io.map((i: { name: string }) => i.name).sort()).toEqual(["lane1.barrier", "lane1.presence"]);
    // The zone the reasons' times are written in: the panel shows its times in it.
    expect(hello.site).toEqual({ name: "Demo site", timeZone: "UTC" });
    await live.close();
  });
});

describe("lists and entries", () => {
  it("creates lists and entries, rejects bad ones with the reason, deletes entries", async () => {
    const list = await tc.api("/api/v1/lists", {
      body: { name: "Contractors", kind: "custom", description: "weekday crews" },
    });
    expect(list.status).toBe(201);
    expect(list.body).toMatchObject({ name: "Contractors", kind: "custom", maxDistance: 0, entryCount: 0 });

    const dup = await tc.api("/api/v1/lists", { body: { name: "Contractors", kind: "allow" } });
    expect(dup.status).toBe(409);
    const badKind = await tc.api("/api/v1/lists", { body: { name: "X", kind: "vip" } });
    expect(badKind.status).toBe(400);
    expect(badKind.body.message).toMatch(/kind/);
    const extra = await tc.api("/api/v1/lists", { body: { name: "Y", kind: "allow", colour: "red" } });
    expect(extra.status).toBe(400);

    const entry = await tc.api(`/api/v1/lists/${list.body.id}/entries`, {
      body: {
        plate: "c-0n 77",
        description: "van",
        validFrom: "2026-01-01T00:00:00Z",
        validTo: "2027-01-01T00:00:00Z",
      },
    });
    expect(entry.status).toBe(201);
    expect(entry.body).toMatchObject({
      plate: "C0N77",
      plateRaw: "c-0n 77",
      validFrom: "2026-01-01T00:00:00.000Z",
    });

    const badPlate = await tc.api(`/api/v1/lists/${list.body.id}/entries`, { body: { plate: "AB#12" } });
    expect(badPlate.status).toBe(400);
    expect(badPlate.body.message).toMatch(/letters, digits/);
    const backwards = await tc.api(`/api/v1/lists/${list.body.id}/entries`, {
      body: { plate: "ZZ1", validFrom: "2027-01-01T00:00:00Z", validTo: "2026-01-01T00:00:00Z" },
    });
    expect(backwards.status).toBe(400);
    expect(backwards.body.message).toMatch(/validTo must be after validFrom/);
    const twice = await tc.api(`/api/v1/lists/${list.body.id}/entries`, { body: { plate: "C0N 77" } });
    expect(twice.status).toBe(409);
    expect((await tc.api("/api/v1/lists/999/entries", { body: { plate: "AB1" } })).status).toBe(404);

    const listed = await tc.api(`/api/v1/lists/${list.body.id}/entries`);
    expect(listed.body.items).toHaveLength(1);
    const del = await tc.api(`/api/v1/lists/${list.body.id}/entries/${entry.body.id}`, { method: "DELETE" });
    expect(del.status).toBe(204);
    expect((await tc.api(`/api/v1/lists/${list.body.id}/entries`)).body.items).toHaveLength(0);
    expect(
      (await tc.api(`/api/v1/lists/${list.body.id}/entries/${entry.body.id}`, { method: "DELETE" })).status,
    ).toBe(404);
  });

  it("a fuzzy list matches an OCR confusion and the reason names the edit", async () => {
    const list = await tc.api("/api/v1/lists", { body: { name: "Fleet", kind: "allow", maxDistance: 1 } });
    await tc.api(`/api/v1/lists/${list.body.id}/entries`, { body: { plate: "FL55T01" } });
    const read = await pushMilesight(tc.url, { plate: "FL5ST01" }, tc.cameraSecret);
    expect(read.body).toMatchObject({ decision: "allow" });
    expect(read.body.reason).toBe(
      "FL5ST01 matches FL55T01 on allow list 'Fleet' at distance 0.5 (S→5 at 4 (OCR confusion))",
    );
    const far = await pushMilesight(tc.url, { plate: "FX5XT01" }, tc.cameraSecret);
    expect(far.body).toMatchObject({ decision: "deny" });
  });
});

describe("events, lanes, io, audit, docs", () => {
  it("searches events by partial plate, time range and limit, newest first", async () => {
    for (const plate of ["SR100AA", "SR200BB", "ZZ300CC"])
      await fetch(`${tc.url}/api/v1/ingest/generic`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-camera-secret": tc.cameraSecret },
        body: JSON.stringify({ plate, confidence: 90, direction: "in", time: "2026-05-01T10:00:00+02:00" }),
      });
    const partial = (await tc.api("/api/v1/events?plate=sr-")).body.items;
    expect(partial.map((e: { plate: string }) => e.plate)).toEqual(["SR200BB", "SR100AA"]);
    expect(partial[0]).toMatchObject({
      protocol: "generic",
      direction: "in",
      cameraTime: "2026-05-01T08:00:00.000Z",
    });
    expect((await tc.api("/api/v1/events?limit=1")).body.items).toHaveLength(1);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await tc.api(`/api/v1/events?from=${encodeURIComponent(future)}`)).body.items).toHaveLength(0);
    expect(
      (await tc.api(`/api/v1/events?to=${encodeURIComponent(future)}&plate=ZZ3`)).body.items,
    ).toHaveLength(1);
    const bad = await tc.api("/api/v1/events?from=yesterday");
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/from/);
  });

  it("manual open pulses the barrier and is audited with the reason", async () => {
    // An earlier test's pulse may still run; a retriggered pulse makes no new transition.
    await waitUntil(() => !tc.hal.output("lane1.barrier").active);
    const before = (tc.hal.history?.() ?? []).filter((t) => t.name === "lane1.barrier" && t.active).length;
    const res = await tc.api("/api/v1/lanes/1/open", { body: { reason: "delivery without plate" } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ lane: "1", pulseMs: 500 });
    const after = (tc.hal.history?.() ?? []).filter((t) => t.name === "lane1.barrier" && t.active).length;
    expect(after).toBe(before + 1);
    const audit = (await tc.api("/api/v1/audit")).body.items;
    expect(audit[0]).toMatchObject({
      id: res.body.auditId,
      action: "lane.open",
      target: "lane:1",
      detail: { reason: "delivery without plate" },
    });
    expect((await tc.api("/api/v1/lanes/9/open", { body: {} })).status).toBe(404);
  });

  it("io lists every input and output and sim inputs can be driven through the API", async () => {
    const live = await connectLive(tc.url, tc.token);
    const res = await tc.api("/api/v1/io/inputs/lane1.presence", { body: { active: true } });
    expect(res.status).toBe(200);
    await live.waitFor((m) => m.type === "io" && m.name === "lane1.presence" && m.state === "active", 2000);
    const io = (await tc.api("/api/v1/io")).body.items;
    expect(io.find((i: { name: string }) => i.name === "lane1.presence")).toMatchObject({
      kind: "input",
      state: "active",
    });
    expect((await tc.api("/api/v1/io/inputs/nope", { body: { active: true } })).status).toBe(404);
    await tc.api("/api/v1/io/inputs/lane1.presence", { body: { active: false } });
    await live.close();
  });

  it("serves an OpenAPI document describing the routes", async () => {
    const res = await fetch(`${tc.url}/api/openapi.json`);
    const doc = (await res.json()) as any;
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      "/api/v1/health",
      "/api/v1/lists",
      "/api/v1/lists/{id}/entries",
      "/api/v1/events",
      "/api/v1/lanes/{id}/open",
      "/api/v1/io",
      "/api/v1/ingest/milesight",
      "/api/v1/ingest/generic",
    ])
      expect(doc.paths, path).toHaveProperty([path]);
  });

  it("keeps the generated admin token private when no environment token is set", async () => {
    const { loadAdminToken } = await import("../../firmware/api/auth.js");
    const generated = loadAdminToken(tc.dataDir, undefined);
    expect(generated.source).toBe("generated");
    expect(generated.token.length).toBeGreaterThanOrEqual(32);
    expect(statSync(join(tc.dataDir, "admin-token")).mode & 0o777).toBe(0o600);
    const again = loadAdminToken(tc.dataDir, undefined);
    expect(again).toMatchObject({ source: "file", token: generated.token });
    expect(() => loadAdminToken(tc.dataDir, "short")).toThrow(/at least 16/);
  });
});
