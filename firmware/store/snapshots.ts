/**
 * Pictures of decided events, written to disk off the decision path. As NumberOk does (specs/000 "Event
 * Snapshots"), pictures wait in a queue and are written when 5 or more are queued or 30 s after the latest
 * read, and always before shutdown. Paths follow specs/000 "Path to Snapshots":
 *   YYYY.MM/DD/SID/CH0/YYYY_MM_DD_HH_MM_SS_MS_CH_ZN_SID_PLATENUM_A2_MV.EXT
 * The full frame takes that name exactly; a plate crop or evidence picture of the same event adds
 * `_plate` / `_evidence` (`_evidence2` for a second) before the extension, so one event's pictures sort
 * together. Country is the read's two-letter code, else XX.
 */

import { writeFile } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { eq } from "drizzle-orm";
import type { CameraConfig } from "../config/site.js";
import type { Direction, ImageKind, ReadImage } from "../ingest/types.js";
import type { Logger } from "../util/log.js";
import { zoneFormatter } from "../util/time.js";
import type { Store } from "./db.js";
import { eventImages } from "./schema.js";

export const SNAPSHOT_BATCH = 5;
export const SNAPSHOT_IDLE_MS = 30_000;
/** Pictures waiting beyond this many bytes (a disk far slower than the cameras) are dropped and logged. */
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;

export interface SnapshotJob {
  eventId: number;
  /** Wall ms the read was received: the time in the file name. */
  at: number;
  camera: CameraConfig;
  plate: string;
  direction: Direction | null;
  extras: Record<string, string | number | boolean>;
  images: readonly ReadImage[];
  /** Pictures still arriving (see PlateRead.laterImages): the job is queued once they are in. */
  laterImages?: Promise<ReadImage[]> | undefined;
  /** Someone is waiting to see it (an operator asked to approve): written at once, not batched. */
  urgent?: boolean;
}

export interface StoredImage {
  id: number;
  eventId: number;
  kind: ImageKind;
  path: string;
  bytes: number;
}

/** specs/000 movement codes. */
const MOVEMENT = { undetermined: 0x00, in: 0x02, out: 0x08 } as const;

function movement(direction: Direction | null, role: CameraConfig["role"]): number {
  if (direction === "in") return MOVEMENT.in;
  if (direction === "out") return MOVEMENT.out;
  // Towards or away from the camera: which way that is through the gate depends on where the camera looks.
  if (direction === "approach" && role !== "both") return role === "entry" ? MOVEMENT.in : MOVEMENT.out;
  if (direction === "away" && role !== "both") return role === "entry" ? MOVEMENT.out : MOVEMENT.in;
  return MOVEMENT.undetermined;
}

function country(extras: SnapshotJob["extras"]): string {
  const value = extras.country ?? extras.region;
  return typeof value === "string" && /^[A-Za-z]{2}$/.test(value) ? value.toUpperCase() : "XX";
}

function zone(extras: SnapshotJob["extras"]): number {
  const value = Number(extras.recognitionZone ?? extras.detectionRegion ?? 1);
  return Number.isInteger(value) && value >= 1 && value <= 99 ? value - 1 : 0;
}

/** Plate text as a file name part: no separators, dots or control characters survive. */
function safePlate(plate: string): string {
  return plate.replace(/[^\p{L}\p{N}]/gu, "_").slice(0, 32) || "_";
}

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/**
 * The callback form: fs/promises' writeFile builds a FileHandle per file, which cost the event loop more
 * than the write itself at hundreds of pictures a second.
 */
function writePicture(file: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    writeFile(file, data, { mode: 0o640 }, (err) => (err ? reject(err) : resolve())),
  );
}

export class SnapshotWriter {
  private queue: SnapshotJob[] = [];
  private queuedBytes = 0;
  private queuedImages = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private lastSecond: { second: number; parts: Record<string, string> } | null = null;
  private readonly insertRows: (rows: Omit<StoredImage, "id">[]) => void;
  /** Jobs whose pictures are still arriving. */
  private readonly waiting = new Set<Promise<void>>();
  /** Folders known to exist: one mkdir per folder, not per picture. */
  private readonly folders = new Set<string>();
  private readonly clockParts: Intl.DateTimeFormat;

  constructor(
    private readonly dir: string,
    private readonly store: Store,
    private readonly systemId: string,
    timeZone: string,
    private readonly log: Logger,
  ) {
    const insert = store.sqlite.prepare(
      "insert into event_images (event_id, kind, path, bytes) values (@eventId, @kind, @path, @bytes)",
    );
    this.insertRows = store.sqlite.transaction((rows: Omit<StoredImage, "id">[]) => {
      for (const row of rows) insert.run(row);
    });
    this.clockParts = zoneFormatter(timeZone);
  }

  enqueue(job: SnapshotJob): void {
    const { laterImages } = job;
    if (laterImages) {
      const waiting = laterImages.then((later) => {
        this.waiting.delete(waiting);
        this.enqueue({ ...job, images: [...job.images, ...later], laterImages: undefined });
      });
      this.waiting.add(waiting);
      return;
    }
    if (job.images.length === 0) return;
    const bytes = job.images.reduce((sum, image) => sum + image.data.length, 0);
    if (this.queuedBytes + bytes > MAX_QUEUED_BYTES) {
      this.log.warn(
        { eventId: job.eventId, queuedBytes: this.queuedBytes },
        "snapshot queue full: pictures dropped",
      );
      return;
    }
    this.queue.push(job);
    this.queuedBytes += bytes;
    this.queuedImages += job.images.length;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (job.urgent || this.queuedImages >= SNAPSHOT_BATCH) void this.flushQueued();
    else {
      this.idleTimer = setTimeout(() => void this.flushQueued(), SNAPSHOT_IDLE_MS);
      this.idleTimer.unref();
    }
  }

  /** Write everything queued (and pictures still arriving, once in); resolves when on disk. Never rejects. */
  async flush(): Promise<void> {
    await Promise.all(this.waiting);
    return this.flushQueued();
  }

  private flushQueued(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const batch = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    this.queuedImages = 0;
    if (batch.length) this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }

  imagesOf(eventId: number): StoredImage[] {
    return this.store.db
      .select()
      .from(eventImages)
      .where(eq(eventImages.eventId, eventId))
      .orderBy(eventImages.id)
      .all();
  }

  /** A stored picture's bytes; the stored path is checked to stay inside the snapshot folder. */
  async read(image: StoredImage): Promise<Buffer> {
    const file = resolve(this.dir, image.path);
    if (!file.startsWith(resolve(this.dir) + sep))
      throw new Error(`snapshot path escapes its folder: ${image.path}`);
    return readFile(file);
  }

  /** Date and time parts in the site's zone; reads arrive many a second, so the last second is kept. */
  private localTime(second: number): Record<string, string> {
    if (this.lastSecond?.second !== second)
      this.lastSecond = {
        second,
        parts: Object.fromEntries(this.clockParts.formatToParts(second * 1000).map((p) => [p.type, p.value])),
      };
    return this.lastSecond.parts;
  }

  private async write(batch: SnapshotJob[]): Promise<void> {
    const rows: Omit<StoredImage, "id">[] = [];
    for (const job of batch) {
      const paths = this.pathsFor(job);
      for (const [i, image] of job.images.entries()) {
        const file = join(this.dir, paths[i] as string);
        try {
          const folder = dirname(file);
          if (!this.folders.has(folder)) {
            await mkdir(folder, { recursive: true });
            this.folders.add(folder);
          }
          await writePicture(file, image.data);
          rows.push({
            eventId: job.eventId,
            kind: image.kind,
            path: relative(this.dir, file),
            bytes: image.data.length,
          });
        } catch (err) {
          // A folder removed behind our back (a purge) is created again next time.
          this.folders.clear();
          this.log.error({ err, eventId: job.eventId }, "snapshot could not be written");
        }
      }
    }
    try {
      if (rows.length) this.insertRows(rows);
    } catch (err) {
      this.log.error({ err }, "snapshot records could not be stored");
    }
  }

  /** The specs/000 path of each of the job's pictures, in order. */
  pathsFor(job: SnapshotJob): string[] {
    const parts = this.localTime(Math.floor(job.at / 1000));
    const { year, month, day, hour, minute, second } = parts as Record<string, string>;
    const ms = pad(job.at % 1000, 3);
    const channel = job.camera.channel - 1;
    const sid = this.systemId;
    const stem = [
      year,
      month,
      day,
      hour,
      minute,
      second,
      ms,
      channel,
      zone(job.extras),
      sid,
      safePlate(job.plate),
      country(job.extras),
      movement(job.direction, job.camera.role),
    ].join("_");
    const folder = join(`${year}.${month}`, `${day}`, sid, pad(channel));
    const seen = new Map<ImageKind, number>();
    return job.images.map((image) => {
      const nth = (seen.get(image.kind) ?? 0) + 1;
      seen.set(image.kind, nth);
      const number = nth > 1 ? String(nth) : "";
      const suffix = image.kind === "full" ? (number ? `_full${number}` : "") : `_${image.kind}${number}`;
      return join(folder, `${stem}${suffix}.${image.ext}`);
    });
  }
}
