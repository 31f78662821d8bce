/**
 * `vms-bookmark` through a real controller and its outbox against the Nx server emulator (test/sim/peers.ts):
 * REST bookmarks over HTTPS with a session token, down then up, wrong credentials, the legacy API with
 * Digest, and a camera without a VMS camera id.
 */
import { describe, expect, it } from "vitest";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { cleanupsAfterEach, controllerWithActions, outboxTarget, pushAll, until } from "../helpers/outbox.js";
import { NxServerPeer } from "../sim/peers.js";
import { testCert } from "../sim/tls-cert.js";

const FAST = { backoffMinMs: 20, backoffMaxMs: 150, timeoutMs: 2000 };
const PLATES = ["AB123CD", "QW100AA", "QW200BB", "XY999ZZ", "QW300CC"];
const CAM = "3a4ad4ea-0000-4000-8000-000000000001";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const cleanups = cleanupsAfterEach();

async function nx(options: ConstructorParameters<typeof NxServerPeer>[3] = {}): Promise<NxServerPeer> {
  const peer = await new NxServerPeer("gate", "vms-Passw0rd", "VMS", options).up();
  cleanups.push(() => peer.down());
  return peer;
}

/** A vms-bookmark action on `peer` (HTTPS when the peer has a certificate). */
function bookmarkAction(peer: NxServerPeer, id: string, over: Record<string, unknown> = {}, https = true) {
  return {
    id,
    on: {},
    do: {
      type: "vms-bookmark",
      host: "127.0.0.1",
      port: peer.port,
      https,
      verifyTls: false,
      username: "gate",
      password: "vms-Passw0rd",
      cameraRefs: { cam1: CAM },
      ...FAST,
      ...over,
    },
  };
}

const controllerWith = (actions: unknown[], filters?: unknown): Promise<TestController> =>
  controllerWithActions(cleanups, actions, filters);

const target = outboxTarget;

async function event(tc: TestController, id: number): Promise<any> {
  return (await tc.api(`/api/v1/events/${id}`)).body;
}

describe("vms-bookmark, REST API", () => {
  it("an allowed plate makes one bookmark on the mapped camera (session over HTTPS); a denied one none", async () => {
    const vms = await nx({ tls: testCert(), devices: [CAM] });
    const action = bookmarkAction(vms, "nx-bm");
    const tc = await controllerWith([{ ...action, on: { result: "allow" } }]);

    const [allowed, denied] = await pushAll(tc, ["AB123CD", "XY999ZZ"]);
    await until("the VMS stored the bookmark", () => vms.bookmarks.length === 1);
    const ev = await event(tc, allowed as number);
    expect(ev.decision).toBe("allow");
    expect(vms.bookmarks[0]).toEqual({
      api: "rest",
      deviceId: CAM,
      name: "AB123CD",
      description: expect.stringMatching(/^AB123CD allow on lane 1 \(Allow\): /),
      tags: ["ANPR", "allow", "Allow"],
      startTimeMs: Date.parse(ev.receivedAt) - 5000,
      durationMs: 15_000,
    });
    expect(vms.logins).toBe(1);
    expect(vms.unauthorized).toBe(1); // the first request had no token yet: 401, log in, send again
    const [message] = (await tc.api(`/api/v1/events/${allowed}/outbox`)).body.items;
    expect(message).toMatchObject({ target: "nx-bm", status: "sent", attempts: 1 });
    expect((await tc.api(`/api/v1/events/${denied}/outbox`)).body.items).toHaveLength(0);
    expect((await target(tc, "nx-bm")).state).toBe("up");
  });

  it("server down then up (a restart that forgot the session): every bookmark once, in order", async () => {
    const vms = await nx({ tls: testCert() });
    const tc = await controllerWith([bookmarkAction(vms, "nx-bm")]);
    await pushAll(tc, PLATES.slice(0, 1));
    await until("the first bookmark", () => vms.bookmarks.length === 1);

    await vms.down();
    await pushAll(tc, PLATES.slice(1));
    await until("the target is down", async () => (await target(tc, "nx-bm"))?.state === "down");
    const down = await target(tc, "nx-bm");
    expect(down.pending).toBe(4);
    expect(down.lastError).toMatch(/ECONNREFUSED/);

    await vms.up();
    await until("all delivered", async () => (await target(tc, "nx-bm")).pending === 0, 10_000);
    expect(vms.bookmarks.map((b) => b.name)).toEqual(PLATES);
    const decisions = (await tc.api("/api/v1/events?limit=10")).body.items
      .reverse()
      .map((e: any) => e.decision);
    expect(vms.bookmarks.map((b) => b.tags[1])).toEqual(decisions);
    const starts = vms.bookmarks.map((b) => b.startTimeMs);
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    expect(vms.logins).toBe(2); // the old token was refused after the restart: logged in again, once
    expect((await target(tc, "nx-bm")).state).toBe("up");
    expect((await tc.api("/api/v1/outbox?status=sent&target=nx-bm&limit=10")).body.items).toHaveLength(5);
  });

  it("wrong password: the target is down with a clear error naming no secret; messages wait", async () => {
    const secure = await nx({ tls: testCert() });
    const plain = await nx();
    const tc = await controllerWith([
      bookmarkAction(secure, "nx-session", { password: "Wr0ng-secret-pw" }),
      bookmarkAction(plain, "nx-digest", { password: "Wr0ng-secret-pw" }, false),
    ]);
    await pushAll(tc, ["AB123CD"]);
    await until("both targets are down", async () => {
      const [a, b] = [await target(tc, "nx-session"), await target(tc, "nx-digest")];
      return a?.state === "down" && b?.state === "down";
    });
    const session = await target(tc, "nx-session");
    expect(session.lastError).toBe(`login on 127.0.0.1:${secure.port}: HTTP 401`);
    const digest = await target(tc, "nx-digest");
    expect(digest.lastError).toBe(`bookmark on 127.0.0.1:${plain.port}: HTTP 401`);
    for (const t of [session, digest]) {
      expect(t.pending).toBe(1);
      expect(JSON.stringify(t)).not.toMatch(/Wr0ng|secret|Passw0rd/);
    }
    const messages = (await tc.api("/api/v1/outbox?limit=10")).body.items;
    expect(JSON.stringify(messages)).not.toMatch(/Wr0ng|Passw0rd/);
    expect(secure.bookmarks).toHaveLength(0);
    expect(plain.bookmarks).toHaveLength(0);
  });
});

describe("vms-bookmark, legacy API", () => {
  it("GET /ec2/bookmarks/add with Digest: a guid, both time field names, repeated tags, custom templates", async () => {
    const vms = await nx();
    const tc = await controllerWith([
      bookmarkAction(
        vms,
        "nx-legacy",
        {
          api: "legacy",
          name: "Gate {lane}: {plate}",
          description: "{decision} ({reason})",
          tags: ["ANPR", "lane {lane}", "{list}", "{direction}", "ANPR"],
          preRollMs: 2000,
          durationMs: 10_000,
        },
        false,
      ),
    ]);
    const [id, denied] = await pushAll(tc, ["AB123CD", "QW100AA"]);
    await until("two bookmarks", () => vms.bookmarks.length === 2);
    const ev = await event(tc, id as number);
    const [first, second] = vms.bookmarks;
    const p = first?.params as URLSearchParams;
    expect(p.get("guid")).toMatch(UUID);
    expect(p.get("cameraId")).toBe(CAM);
    expect(p.get("name")).toBe("Gate 1: AB123CD");
    expect(p.get("description")).toBe(`allow (${ev.reason})`);
    const start = String(Date.parse(ev.receivedAt) - 2000);
    expect([p.get("startTime"), p.get("startTimeMs")]).toEqual([start, start]);
    expect([p.get("duration"), p.get("durationMs")]).toEqual(["10000", "10000"]);
    expect(p.getAll("tag")).toEqual(["ANPR", "lane 1", "Allow", "approach"]); // no repeats
    expect(second?.name).toBe("Gate 1: QW100AA");
    expect(second?.guid).not.toBe(first?.guid);
    expect(second?.tags).toEqual(["ANPR", "lane 1", "approach"]); // on no list: the empty {list} is left out
    const [message] = (await tc.api(`/api/v1/events/${denied}/outbox`)).body.items;
    expect(message).toMatchObject({ target: "nx-legacy", status: "sent" });
    expect(message.payload.guid).toBe(second?.guid); // the guid is fixed at decision time, kept on retries
    expect(vms.unauthorized).toBe(1);
  });
});

describe("vms-bookmark, camera references", () => {
  it("a camera without a cameraRefs entry fails that message for good, with the reason; a retry after adding it delivers", async () => {
    const vms = await nx({ tls: testCert(), devices: [CAM] });
    const unmapped = bookmarkAction(vms, "nx-unmapped", { cameraRefs: { "rear-cam": CAM } });
    const unknown = bookmarkAction(vms, "nx-unknown", { cameraRefs: { cam1: "not-a-vms-camera" } });
    const site = testSite({ actions: [unmapped, unknown], filters: { repeatWindowMs: 0 } });
    const tc = await startTestController({ site });
    cleanups.push(() => tc.cleanup());
    await pushAll(tc, ["AB123CD"]);
    await until(
      "both failed",
      async () => (await tc.api("/api/v1/outbox?status=failed")).body.items.length === 2,
    );
    const failed = (await tc.api("/api/v1/outbox?status=failed")).body.items;
    const byTarget = Object.fromEntries(failed.map((m: any) => [m.target, m]));
    expect(byTarget["nx-unmapped"].lastError).toBe(
      "camera 'cam1' has no entry in cameraRefs: add its VMS camera id, then retry this message",
    );
    expect(byTarget["nx-unmapped"].attempts).toBe(1);
    expect(byTarget["nx-unknown"].lastError).toBe(`bookmark on 127.0.0.1:${vms.port}: HTTP 404`);
    expect((await target(tc, "nx-unknown")).state).toBe("up"); // the VMS answered: up, it refused this one
    expect(vms.bookmarks).toHaveLength(0);

    // The installer adds the camera and retries: the message keeps its text and times, the ref is read now.
    await tc.stop();
    const fixed = testSite({
      actions: [bookmarkAction(vms, "nx-unmapped", { cameraRefs: { "rear-cam": CAM, cam1: CAM } })],
      filters: { repeatWindowMs: 0 },
    });
    const again = await startTestController({ site: fixed, dataDir: tc.dataDir });
    cleanups.push(() => again.stop());
    const retry = await again.api(`/api/v1/outbox/${byTarget["nx-unmapped"].id}/retry`, { method: "POST" });
    expect(retry.status).toBe(200);
    await until("the bookmark arrived", () => vms.bookmarks.length === 1);
    expect(vms.bookmarks[0]).toMatchObject({ deviceId: CAM, name: "AB123CD" });
  });
});
