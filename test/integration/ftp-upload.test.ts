/**
 * The ftp-upload action against a real FTP server (ftp-srv) on loopback, through a real controller: the
 * files a decision becomes (names, folders, bytes, documents), plain FTP, explicit and implicit FTPS, the
 * server going down and coming back (everything stored once, in order), and a wrong password (target down,
 * no password in the error).
 */

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";
import { cleanupsAfterEach, outboxTarget, until } from "../helpers/outbox.js";
import { FtpPeer, type FtpPeerOptions } from "../sim/ftp-peer.js";
import { fakeJpeg } from "../sim/hikvision-alertstream.js";
import { TINY_JPEG } from "../sim/hikvision-isapi.js";
import { pushMilesight } from "../sim/milesight-http.js";
import { sha256 } from "../sim/peers.js";

const FAST = { backoffMinMs: 20, backoffMaxMs: 150, timeoutMs: 3000 };
const PLATES = ["AB123CD", "QW100AA", "QW200BB", "XY999ZZ", "QW300CC"];
const FULL_JPEG = fakeJpeg(40_000);
const USER = { user: "gate", password: "ftp-Passw0rd-42" };

const cleanups = cleanupsAfterEach();

async function ftpPeer(opts: Partial<FtpPeerOptions> = {}): Promise<FtpPeer> {
  const peer = await new FtpPeer({ ...USER, ...opts }).up();
  cleanups.push(
    () => peer.cleanup(),
    () => peer.down(),
  );
  return peer;
}

async function controllerWith(
  peer: FtpPeer,
  settings: Record<string, unknown> = {},
): Promise<TestController> {
  const tc = await startTestController({
    site: testSite({
      filters: { repeatWindowMs: 0 },
      actions: [
        {
          id: "ftp",
          on: {},
          do: {
            type: "ftp-upload",
            host: "127.0.0.1",
            port: peer.port,
            username: USER.user,
            password: USER.password,
            ...FAST,
            ...settings,
          },
        },
      ],
    }),
  });
  cleanups.push(
    () => tc.cleanup(),
    () => tc.stop(),
  );
  return tc;
}

const target = (tc: TestController, id = "ftp"): Promise<any> => outboxTarget(tc, id);

async function push(tc: TestController, plate: string, images = false): Promise<any> {
  const res = await pushMilesight(
    tc.url,
    { plate, ...(images ? { plateImage: TINY_JPEG, fullImage: FULL_JPEG } : {}) },
    tc.cameraSecret,
  );
  expect(res.body).toMatchObject({ status: "decided" });
  return (await tc.api(`/api/v1/events/${res.body.eventId}`)).body;
}

/** Every file under a directory, relative paths, sorted. */
function tree(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? tree(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
    )
    .sort();
}

/** The default folder and base name of an event's files: {yyyy}/{mm}/{dd}/{time}_{lane}_{plate}, UTC. */
function expectedBase(event: { receivedAt: string; laneId: string }, plate: string): string {
  const t = event.receivedAt;
  const time = t.replace(/[-:T.Z]/g, "");
  return `${t.slice(0, 4)}/${t.slice(5, 7)}/${t.slice(8, 10)}/${time}_${event.laneId}_${plate}`;
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@", parseTagValue: false });

describe("ftp-upload", () => {
  it("stores picture, JSON and XML in {yyyy}/{mm}/{dd} atomically; down then up: every set once, in order", async () => {
    const peer = await ftpPeer();
    const tc = await controllerWith(peer, { files: ["xml", "json", "jpg"] });

    const event = await push(tc, "MÜ-PC 1234", true);
    await until("the first set is stored", () => peer.stored.length === 3);
    const base = expectedBase(event, "MUPC1234"); // the file name folds the plate to ASCII
    expect(tree(peer.root)).toEqual([`${base}.jpg`, `${base}.json`, `${base}.xml`]);
    // The picture first, the documents last: a reader watching for .xml finds the picture there already.
    expect(peer.stored.map((p) => p.slice(p.lastIndexOf(".")))).toEqual([".jpg", ".json", ".xml"]);
    expect(sha256(readFileSync(join(peer.root, `${base}.jpg`)))).toBe(sha256(FULL_JPEG));
    const picture = `${base.slice(base.lastIndexOf("/") + 1)}.jpg`;

    const json = JSON.parse(readFileSync(join(peer.root, `${base}.json`), "utf8"));
    expect(json).toMatchObject({
      format: "portcullis-event",
      version: 1,
      id: event.id,
      plate: "MÜPC1234",
      decision: "allow",
      lane: "1",
      camera: "cam1",
      time: event.receivedAt,
      localTime: `${event.receivedAt.slice(0, 23)}+00:00`,
      picture,
    });
    expect(json.explanation).toEqual(event.explanation);

    const doc = xml.parse(readFileSync(join(peer.root, `${base}.xml`), "utf8"));
    expect(doc.event).toMatchObject({
      "@format": "portcullis-event",
      "@version": "1",
      id: String(event.id),
      plate: "MÜPC1234",
      decision: "allow",
      reason: event.reason,
      lane: "1",
      camera: "cam1",
      time: event.receivedAt,
      picture,
    });
    const [sent] = (await tc.api(`/api/v1/events/${event.id}/outbox`)).body.items;
    expect(sent).toMatchObject({ target: "ftp", status: "sent", attempts: 1 });

    await peer.down();
    const events = [];
    for (const plate of PLATES.slice(1)) events.push(await push(tc, plate));
    await until("the target is down", async () => (await target(tc))?.state === "down");
    const down = await target(tc);
    expect(down.pending).toBe(4);
    expect(down.lastError).toMatch(/^FTP 127\.0\.0\.1:\d+ connect: .*ECONNREFUSED/);

    await peer.up();
    // These reads have no picture: two files each, the jpg skipped.
    await until("all stored", () => peer.stored.length === 3 + 4 * 2);
    await until("nothing pending", async () => (await target(tc)).pending === 0);
    // Once each, in the order of the decisions; no .part file left behind.
    const later = peer.stored.slice(3).filter((p) => p.endsWith(".xml"));
    expect(later.map((p) => p.slice(p.lastIndexOf("_") + 1))).toEqual(PLATES.slice(1).map((p) => `${p}.xml`));
    const files = tree(peer.root);
    expect(files).toHaveLength(11);
    expect(files.some((f) => f.endsWith(".part"))).toBe(false);
    for (const e of events) expect(files).toContain(`${expectedBase(e, e.plate)}.json`);
    // The documents of a read without a picture say so.
    expect(files.filter((f) => f.endsWith(".jpg"))).toHaveLength(1);
    expect(
      JSON.parse(readFileSync(join(peer.root, `${expectedBase(events[0], events[0].plate)}.json`), "utf8"))
        .picture,
    ).toBeNull();
  });

  it("templates: own folder and file name, plate crop only, non-atomic", async () => {
    const peer = await ftpPeer();
    const tc = await controllerWith(peer, {
      directory: "/lpr/cam-{camera}/{yyyy}{mm}",
      fileName: "{plate}-{decision}-{event}",
      files: ["jpg"],
      picture: "plate",
      atomic: false,
    });
    const event = await push(tc, "AB123CD", true);
    await until("stored", () => peer.stored.length === 1);
    const month = event.receivedAt.slice(0, 4) + event.receivedAt.slice(5, 7);
    expect(tree(peer.root)).toEqual([`lpr/cam-cam1/${month}/AB123CD-allow-${event.id}.jpg`]);
    expect(sha256(readFileSync(join(peer.root, tree(peer.root)[0] ?? "")))).toBe(sha256(TINY_JPEG));
  });

  it("explicit FTPS (AUTH TLS) and implicit FTPS; a self-signed certificate is refused unless verifyTls is off", async () => {
    const explicit = await ftpPeer({ secure: true });
    const tc = await controllerWith(explicit, { secure: true, verifyTls: false, files: ["json"] });
    await push(tc, "AB123CD");
    await until("stored over explicit FTPS", () => explicit.stored.length === 1);
    expect(explicit.secureLogins).toEqual([true]);

    const implicit = await ftpPeer({ secure: "implicit" });
    const tc2 = await controllerWith(implicit, { secure: "implicit", verifyTls: false, files: ["xml"] });
    await push(tc2, "QW100AA");
    await until("stored over implicit FTPS", () => implicit.stored.length === 1);
    expect(implicit.stored[0]).toMatch(/_QW100AA\.xml$/);

    const checked = await ftpPeer({ secure: true });
    const tc3 = await controllerWith(checked, { secure: true, files: ["json"] });
    await push(tc3, "XY999ZZ");
    await until("the target is down", async () => (await target(tc3))?.state === "down");
    expect((await target(tc3)).lastError).toMatch(/connect: .*(self[- ]signed|certificate)/i);
    expect(checked.stored).toEqual([]);
    expect(existsSync(join(checked.root, "2000"))).toBe(false);
  });

  it("a wrong password: target down with the server's 530, the password never in the error; the message waits", async () => {
    const peer = await ftpPeer();
    const tc = await controllerWith(peer, { password: "wrong-Passw0rd-99" });
    await push(tc, "AB123CD");
    await until("the target is down", async () => (await target(tc))?.state === "down");
    const t = await target(tc);
    expect(t.lastError).toMatch(/connect: 530/);
    expect(JSON.stringify(t)).not.toContain("Passw0rd");
    expect(t.pending).toBe(1);
    expect(peer.loginFailures).toBeGreaterThanOrEqual(1);
    expect(tree(peer.root)).toEqual([]);
  });
});
