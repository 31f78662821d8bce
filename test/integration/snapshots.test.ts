/** Pictures of decided reads: named as specs/000 says, written in batches off the hot path, served by the API. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CameraSchema } from "../../firmware/config/site.js";
import { checker } from "../../firmware/config/validate.js";
import { openStore } from "../../firmware/store/db.js";
import { SNAPSHOT_BATCH, SnapshotWriter } from "../../firmware/store/snapshots.js";
import { createLogger } from "../../firmware/util/log.js";
import { startTestController, type TestController } from "../helpers/controller.js";
import { pushMilesight } from "../sim/milesight-http.js";

const JPEG = (n: number) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(32, n)]);
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
const camera = (fields: Record<string, unknown>) =>
  checker(CameraSchema).parse({ id: "c", protocol: "generic", lane: "1", ...fields }, "camera");

describe("snapshot paths (specs/000)", () => {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-snap-"));
  const store = openStore(dir);
  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const writer = new SnapshotWriter(
    join(dir, "snapshots"),
    store,
    "7",
    "Europe/Amsterdam",
    createLogger("silent"),
  );
  const full = { kind: "full" as const, ext: "jpg", data: JPEG(1) };
  const job = {
    eventId: 1,
    at: Date.UTC(2026, 0, 2, 23, 4, 5, 67),
    camera: camera({ channel: 2, role: "entry" }),
    plate: "MÜPC1234",
    direction: "in" as const,
    extras: { country: "de", detectionRegion: 3 },
    images: [],
  };

  it("names the full frame exactly as the spec's pattern, in the site's time zone", () => {
    // 23:04 UTC on 2 January is 00:04 on 3 January in Amsterdam: date folders follow the local day.
    expect(writer.pathsFor({ ...job, images: [{ kind: "full", ext: "jpg", data: JPEG(1) }] })).toEqual([
      join("2026.01", "03", "7", "01", "2026_01_03_00_04_05_067_1_2_7_MÜPC1234_DE_2.jpg"),
    ]);
  });

  it("gives the plate crop and evidence pictures of one event their own suffix", () => {
    const full = { kind: "full" as const, ext: "jpg", data: JPEG(1) };
    const evidence = { kind: "evidence" as const, ext: "jpg", data: JPEG(2) };
    const plate = { kind: "plate" as const, ext: "png", data: PNG };
    const paths = writer.pathsFor({ ...job, images: [full, plate, evidence, evidence, full] });
    expect(paths.map((p) => p.slice(p.indexOf("_DE_2")))).toEqual([
      "_DE_2.jpg",
      "_DE_2_plate.png",
      "_DE_2_evidence.jpg",
      "_DE_2_evidence2.jpg",
      "_DE_2_full2.jpg",
    ]);
  });

  it("codes movement from the direction, or from approach/away and where the camera looks", () => {
    const mv = (direction: any, role: string) =>
      (writer.pathsFor({ ...job, direction, camera: camera({ role }), images: [full] })[0] as string).slice(
        -5,
        -4,
      );
    expect([mv("in", "both"), mv("out", "both"), mv(null, "entry")]).toEqual(["2", "8", "0"]);
    expect([
      mv("approach", "entry"),
      mv("away", "entry"),
      mv("approach", "exit"),
      mv("approach", "both"),
    ]).toEqual(["2", "8", "8", "0"]);
  });

  it("keeps path characters of a plate and unknown countries out of the name", () => {
    const [path] = writer.pathsFor({ ...job, plate: "../AB/1", extras: { country: "DEU" }, images: [full] });
    expect(path).toMatch(/_0_7____AB_1_XX_2\.jpg$/);
    expect(path?.split("/")).toHaveLength(5);
  });
});

describe("snapshots of decided reads", () => {
  let tc: TestController;
  afterAll(async () => {
    await tc.stop();
    tc.cleanup();
  });

  it("are written before shutdown even when fewer than 5 wait, and served after a restart", async () => {
    tc = await startTestController();
    const plateImage = JPEG(7);
    const fullImage = JPEG(8);
    const res = await pushMilesight(tc.url, { plate: "AB123CD", plateImage, fullImage }, tc.cameraSecret);
    expect(res.body).toMatchObject({ status: "decided", decision: "allow" });
    const eventId = res.body.eventId;
    // Two pictures wait for the batch (5) or the 30 s idle flush: nothing on disk yet.
    expect((await tc.api(`/api/v1/events/${eventId}/images`)).body.items).toEqual([]);
    tc = await tc.restart();
    const { items } = (await tc.api(`/api/v1/events/${eventId}/images`)).body;
    expect(items.map((i: any) => i.kind).sort()).toEqual(["full", "plate"]);
    for (const item of items) {
      expect(item.path).toMatch(
        /^\d{4}\.\d{2}\/\d{2}\/1\/00\/\d{4}(_\d{2}){5}_\d{3}_0_0_1_AB123CD_XX_0(_plate)?\.jpg$/,
      );
      expect(existsSync(join(tc.dataDir, "snapshots", item.path))).toBe(true);
      const picture = await fetch(`${tc.url}${item.url}`, {
        headers: { authorization: `Bearer ${tc.token}` },
      });
      expect(picture.headers.get("content-type")).toBe("image/jpeg");
      expect(Buffer.from(await picture.arrayBuffer())).toEqual(
        item.kind === "plate" ? plateImage : fullImage,
      );
      expect(readFileSync(join(tc.dataDir, "snapshots", item.path))).toEqual(
        item.kind === "plate" ? plateImage : fullImage,
      );
    }
    expect((await fetch(`${tc.url}${items[0].url}`)).status).toBe(401);
    expect((await tc.api(`/api/v1/events/${eventId}/images/999999`)).status).toBe(404);
  });

  it("are written as soon as 5 are queued, without waiting for the idle flush", async () => {
    const ids: number[] = [];
    for (const [i, plate] of ["KA777", "XY999ZZ", "QQ1234"].entries()) {
      const res = await pushMilesight(
        tc.url,
        { plate, plateImage: JPEG(i), fullImage: JPEG(i + 10) },
        tc.cameraSecret,
      );
      expect(res.body.status).toBe("decided");
      ids.push(res.body.eventId);
    }
    expect(ids.length * 2).toBeGreaterThanOrEqual(SNAPSHOT_BATCH);
    const deadline = Date.now() + 5000;
    let counts: number[] = [];
    while (Date.now() < deadline) {
      counts = await Promise.all(
        ids.map(async (id) => (await tc.api(`/api/v1/events/${id}/images`)).body.items.length),
      );
      if (counts.every((c) => c === 2)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(counts).toEqual([2, 2, 2]);
  });
});
