/**
 * The durable outbox against real peers on loopback: a webhook receiver, an NVR text channel and an Nx
 * Witness createEvent server. Each goes down and comes back; everything is delivered once, in order, and the
 * barrier never waits for any of it.
 */

import { describe, expect, it } from "vitest";
import { portOf } from "../../firmware/actions/nvr-text.js";
import { demoSite } from "../../firmware/config/site.js";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { connectLive } from "../helpers/live.js";
import { cleanupsAfterEach, controllerWithActions, outboxTarget, pushAll, until } from "../helpers/outbox.js";
import { TINY_JPEG } from "../sim/hikvision-isapi.js";
import { pushMilesight } from "../sim/milesight-http.js";
import { NvrTextPeer, NxServerPeer, sha256, WebhookPeer } from "../sim/peers.js";

const FAST = { backoffMinMs: 20, backoffMaxMs: 150, timeoutMs: 2000 };
const PLATES = ["AB123CD", "QW100AA", "QW200BB", "XY999ZZ", "QW300CC"];

const cleanups = cleanupsAfterEach();

const controllerWith = (actions: unknown[], filters?: unknown): Promise<TestController> =>
  controllerWithActions(cleanups, actions, filters);

describe("http-webhook", () => {
  it("posts the event; down then up: every message once, in order, and the barrier never waited", async () => {
    const peer = await new WebhookPeer().up();
    cleanups.push(() => peer.down());
    const tc = await controllerWith([
      { on: { result: "allow" }, do: { type: "barrier-open" } },
      {
        id: "crm",
        on: {},
        do: {
          type: "http-webhook",
          url: peer.url,
          auth: { type: "bearer", token: "s3cret-bearer-token" },
          ...FAST,
        },
      },
    ]);
    const live = await connectLive(tc.url, tc.token);
    cleanups.push(() => live.close());

    await pushAll(tc, ["AB123CD"]);
    await until("the first message arrived", () => peer.received.length === 1);
    const first = peer.received[0];
    expect(first?.headers.authorization).toBe("Bearer s3cret-bearer-token");
    expect(first?.headers["content-type"]).toBe("application/json");
    const event = JSON.parse(first?.body.toString() ?? "");
    expect(event).toMatchObject({ plate: "AB123CD", decision: "allow", laneId: "1", cameraId: "cam1" });
    const [message] = (await tc.api(`/api/v1/events/${event.id}/outbox`)).body.items;
    expect(message).toMatchObject({ target: "crm", status: "sent", attempts: 1, eventId: event.id });
    expect(first?.headers["idempotency-key"]).toBe(`portcullis-${message.id}`);

    await peer.down();
    await pushAll(tc, PLATES.slice(1));
    // An allowed plate still opens at once while the peer is down: the relay never waits for the outbox.
    const [kaId] = await pushAll(tc, ["KA777"]);
    const ka = (await tc.api(`/api/v1/events?plate=KA777`)).body.items[0];
    expect(ka).toMatchObject({ id: kaId, decision: "allow" });
    expect(ka.relayAt).not.toBeNull();

    await until("the target is down", async () => (await outboxTarget(tc, "crm"))?.state === "down");
    await live.waitFor((m) => m.type === "outbox" && m.target.target === "crm" && m.target.state === "down");
    const down = await outboxTarget(tc, "crm");
    expect(down.pending).toBe(5);
    expect(down.lastError).toMatch(/ECONNREFUSED/);
    expect(down.lastError).not.toContain("s3cret");
    expect(down.oldestPendingAgeMs).toBeGreaterThanOrEqual(0);
    const retrying = (await tc.api("/api/v1/outbox?status=failed-retrying&target=crm")).body.items;
    expect(retrying).toHaveLength(1); // only the head is tried while the peer is down: order holds
    expect(retrying[0].nextAttemptAt).not.toBeNull();

    await peer.up();
    await until("all six arrived", () => peer.received.length === 6, 10_000);
    const plates = peer.received.map((r) => JSON.parse(r.body.toString()).plate);
    expect(plates).toEqual(["AB123CD", ...PLATES.slice(1), "KA777"]);
    await until("the target is up with nothing pending", async () => {
      const t = await outboxTarget(tc, "crm");
      return t.state === "up" && t.pending === 0;
    });
    await live.waitFor((m) => m.type === "outbox" && m.target.target === "crm" && m.target.state === "up");
    // Per-target state changes only: down once, up once (after the first delivery went unknown → up).
    const changes = live.messages.filter((m) => m.type === "outbox").map((m) => m.target.state);
    expect(changes).toEqual(["up", "down", "up"]);
    expect((await tc.api("/api/v1/outbox?status=sent&target=crm&limit=10")).body.items).toHaveLength(6);
  });

  it("a refused message (HTTP 400) is marked failed and the queue goes on; a retry is audited and delivers it", async () => {
    const peer = await new WebhookPeer().up();
    cleanups.push(() => peer.down());
    let refuse = true;
    peer.respond = (r) => (refuse && JSON.parse(r.body.toString()).plate === "QW100AA" ? 400 : 200);
    const tc = await controllerWith([
      { id: "hook", on: {}, do: { type: "http-webhook", url: peer.url, ...FAST } },
    ]);
    await pushAll(tc, ["AB123CD", "QW100AA", "QW200BB"]);
    await until("two accepted", () => peer.received.length === 2);
    const failed = (await tc.api("/api/v1/outbox?status=failed")).body.items;
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      target: "hook",
      attempts: 1,
      lastError: expect.stringContaining("HTTP 400"),
    });
    expect((await outboxTarget(tc, "hook")).state).toBe("up");

    expect(
      (await tc.api(`/api/v1/outbox/${peer.received.length + 100}/retry`, { method: "POST" })).status,
    ).toBe(404);
    const sentId = (await tc.api("/api/v1/outbox?status=sent")).body.items[0].id;
    expect((await tc.api(`/api/v1/outbox/${sentId}/retry`, { method: "POST" })).status).toBe(409);
    refuse = false;
    const retry = await tc.api(`/api/v1/outbox/${failed[0].id}/retry`, { method: "POST" });
    expect(retry.status).toBe(200);
    await until("the retried message arrived", () => peer.received.length === 3);
    expect(JSON.parse(peer.received[2]?.body.toString() ?? "").plate).toBe("QW100AA");
    const audit = (await tc.api("/api/v1/audit")).body.items;
    expect(audit[0]).toMatchObject({
      action: "outbox.retry",
      target: `outbox:${failed[0].id}`,
      id: retry.body.auditId,
    });
    expect(peer.received.map((r) => r.headers["idempotency-key"])).toHaveLength(3);
  });

  it("expires undelivered messages only by the target's expireAfterMs", async () => {
    const peer = await new WebhookPeer().up();
    await peer.down();
    const tc = await controllerWith([
      { id: "short", on: {}, do: { type: "http-webhook", url: peer.url, ...FAST, expireAfterMs: 1000 } },
      { id: "forever", on: {}, do: { type: "http-webhook", url: `${peer.url}?b`, ...FAST } },
    ]);
    await pushAll(tc, ["QW100AA", "QW200BB"]);
    await until(
      "both expired",
      async () => (await tc.api("/api/v1/outbox?status=expired")).body.items.length === 2,
    );
    const expired = (await tc.api("/api/v1/outbox?status=expired")).body.items;
    expect(expired.every((m: any) => m.target === "short" && /expireAfterMs/.test(m.lastError))).toBe(true);
    expect((await outboxTarget(tc, "forever")).pending).toBe(2);
    await peer.up();
    cleanups.push(() => peer.down());
    await until("the forever target delivered", () => peer.received.length === 2);
    expect(peer.received.every((r) => r.url === "/hook?b")).toBe(true);
  });

  it("numberok format: multipart JSON + picture that another controller's NumberOk ingest reads", async () => {
    const receiver = await startTestController({
      site: testSite({
        cameras: [{ id: "edge", protocol: "numberok-edge", lane: "1", secret: "numberok-peer-secret-0123" }],
      }),
    });
    cleanups.push(
      () => receiver.cleanup(),
      () => receiver.stop(),
    );
    const tc = await controllerWith([
      {
        id: "edge-out",
        on: {},
        do: {
          type: "http-webhook",
          url: `${receiver.url}/api/v1/ingest/numberok`,
          headers: { "X-Camera-Secret": "numberok-peer-secret-0123" },
          format: "numberok",
          numberok: { sensorProviderID: "GATE_1" },
          ...FAST,
        },
      },
    ]);
    await pushMilesight(tc.url, { plate: "MÜ-PC 1234", plateImage: TINY_JPEG }, tc.cameraSecret);
    await until(
      "the receiver decided it",
      async () => (await receiver.api("/api/v1/events")).body.items.length === 1,
    );
    const [event] = (await receiver.api("/api/v1/events")).body.items;
    expect(event).toMatchObject({ plate: "MÜPC1234", decision: "allow", cameraId: "edge" });
    await receiver.controller.snapshots.flush();
    const [image] = (await receiver.api(`/api/v1/events/${event.id}/images`)).body.items;
    expect(image.kind).toBe("plate");
    const bytes = Buffer.from(
      await (
        await fetch(receiver.url + image.url, { headers: { authorization: `Bearer ${receiver.token}` } })
      ).arrayBuffer(),
    );
    expect(sha256(bytes)).toBe(sha256(TINY_JPEG));
    const [sent] = (await tc.api("/api/v1/outbox?target=edge-out")).body.items;
    expect(sent.status).toBe("sent");
    expect(sent.attachmentBytes).toBeNull(); // the picture is dropped once delivered
    const doc = JSON.parse(sent.payload.json);
    expect(doc).toMatchObject({
      plateASCII: "MUPC1234",
      plateUnicode: "MÜPC1234",
      sensorProviderID: "GATE_1",
      imageType: "plate",
    });
    expect(sent.payload.json).toContain('"plateUnicode":"\\u004d\\u00dc');
  });
});

describe("nvr-text", () => {
  it("sends <LPR>plate</LPR> in US-ASCII (port 7000 + channel by default); down then up: once, in order", async () => {
    const nvr = await new NvrTextPeer().up();
    cleanups.push(() => nvr.down());
    const tc = await controllerWith([
      { id: "nvr", on: {}, do: { type: "nvr-text", host: "127.0.0.1", channel: 3, port: nvr.port, ...FAST } },
    ]);
    expect(portOf({ type: "nvr-text", host: "nvr", channel: 3, text: "{plate}", ...FAST })).toBe(7003);
    await pushAll(tc, ["MÜ-PC 1234"]);
    await until("the NVR got it", () => nvr.received.length === 1);
    expect(nvr.received[0]).toBe("<LPR>MUPC1234</LPR>");
    await nvr.down();
    await pushAll(tc, PLATES);
    await until("the NVR target is down", async () => (await outboxTarget(tc, "nvr"))?.state === "down");
    expect((await outboxTarget(tc, "nvr")).pending).toBe(5);
    await nvr.up();
    await until("all arrived", () => nvr.received.length === 6);
    expect(nvr.received.slice(1)).toEqual(PLATES.map((p) => `<LPR>${p}</LPR>`));
  });
});

describe("vms-generic-event", () => {
  it("createEvent with Digest; cameraRefs; down then up: once, in order; a VMS error code fails the one event", async () => {
    const vms = await new NxServerPeer("gate", "vms-Passw0rd").up();
    cleanups.push(() => vms.down());
    vms.errorFor = (p) => (p.get("caption") === "QW200BB" ? "2" : null);
    const tc = await controllerWith([
      {
        id: "nx",
        on: {},
        do: {
          type: "vms-generic-event",
          host: "127.0.0.1",
          port: vms.port,
          username: "gate",
          password: "vms-Passw0rd",
          cameraRefs: { cam1: "3a4ad4ea-0000-4000-8000-000000000001" },
          ...FAST,
        },
      },
    ]);
    const [first] = await pushAll(tc, ["AB123CD"]);
    await until("the VMS got it", () => vms.events.length === 1);
    const e = vms.events[0];
    expect(e?.method).toBe("GET");
    expect(e?.params.get("source")).toBe("Portcullis");
    expect(e?.params.get("caption")).toBe("AB123CD");
    expect(e?.params.get("description")).toMatch(/^AB123CD allow on lane 1 \(Allow\): /);
    expect(JSON.parse(e?.params.get("metadata") ?? "")).toEqual({
      cameraRefs: ["3a4ad4ea-0000-4000-8000-000000000001"],
    });
    expect(Number(e?.params.get("timestamp"))).toBeGreaterThan(Date.now() - 60_000);
    expect(vms.unauthorized).toBe(1); // the first request learns the Digest challenge; later ones reuse it
    expect(first).toBeDefined();

    await vms.down();
    await pushAll(tc, PLATES.slice(1));
    await until("the VMS target is down", async () => (await outboxTarget(tc, "nx"))?.state === "down");
    await vms.up(); // a new server start: a new nonce, so the controller answers a fresh challenge
    await until("all delivered or refused", async () => (await outboxTarget(tc, "nx")).pending === 0, 10_000);
    expect(vms.events.map((x) => x.params.get("caption"))).toEqual([
      "AB123CD",
      "QW100AA",
      "XY999ZZ",
      "QW300CC",
    ]);
    const failed = (await tc.api("/api/v1/outbox?status=failed&target=nx")).body.items;
    expect(failed).toHaveLength(1);
    expect(failed[0].lastError).toContain("error 2");
  });

  it("wrong credentials keep the messages waiting (down: HTTP 401) and never log the password", async () => {
    const vms = await new NxServerPeer("gate", "right-password").up();
    cleanups.push(() => vms.down());
    const tc = await controllerWith([
      {
        id: "nx",
        on: {},
        do: {
          type: "vms-generic-event",
          host: "127.0.0.1",
          port: vms.port,
          username: "gate",
          password: "wrong-password",
          ...FAST,
        },
      },
    ]);
    await pushAll(tc, ["AB123CD"]);
    await until("the target is down", async () => (await outboxTarget(tc, "nx"))?.state === "down");
    const t = await outboxTarget(tc, "nx");
    expect(t.lastError).toContain("HTTP 401");
    expect(JSON.stringify(t)).not.toContain("password");
    expect(t.pending).toBe(1);
    expect(vms.events).toHaveLength(0);
  });
});

describe("durability", () => {
  it("messages pending at a restart are delivered after it, once, in order", async () => {
    const peer = await new WebhookPeer().up();
    await peer.down();
    let tc = await startTestController({
      site: testSite({
        filters: { repeatWindowMs: 0 },
        actions: [{ id: "hook", on: {}, do: { type: "http-webhook", url: peer.url, ...FAST } }],
      }),
    });
    cleanups.push(() => tc.cleanup());
    await pushAll(tc, PLATES);
    await until("the target is down", async () => (await outboxTarget(tc, "hook"))?.state === "down");
    tc = await tc.restart();
    cleanups.push(
      () => tc.stop(),
      () => peer.down(),
    );
    expect((await outboxTarget(tc, "hook")).pending).toBe(5);
    await peer.up();
    await until("all arrived", () => peer.received.length === 5);
    expect(peer.received.map((r) => JSON.parse(r.body.toString()).plate)).toEqual(PLATES);
    expect(new Set(peer.received.map((r) => r.headers["idempotency-key"])).size).toBe(5);
  });

  it("a network action needs an id, unique among actions", () => {
    const demo = demoSite();
    expect(() =>
      testSite({ actions: [...demo.actions, { on: {}, do: { type: "nvr-text", host: "10.0.0.9" } }] }),
    ).toThrow(/\/actions\/1\/id is required on a nvr-text action/);
    expect(() =>
      testSite({
        actions: [
          { id: "a", on: {}, do: { type: "nvr-text", host: "10.0.0.9" } },
          { id: "a", on: {}, do: { type: "nvr-text", host: "10.0.0.8" } },
        ],
      }),
    ).toThrow(/\/actions\/1\/id 'a' is used twice/);
  });
});
