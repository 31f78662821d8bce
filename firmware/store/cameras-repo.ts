/** Cameras as managed through the API, and the camera events that are not plate reads. */
import { desc, eq } from "drizzle-orm";
import type { CameraConfig } from "../config/site.js";
import type { Store } from "./db.js";
import { cameraEvents, cameras } from "./schema.js";
import { readSetting, writeSetting } from "./settings.js";

export interface CameraEventRow {
  id: number;
  cameraId: string;
  at: number;
  kind: string;
  data: Record<string, unknown>;
}

const SEEDED_KEY = "cameras.seeded";

export class CamerasRepo {
  constructor(private readonly store: Store) {}

  all(): CameraConfig[] {
    return this.store.db
      .select()
      .from(cameras)
      .orderBy(cameras.id)
      .all()
      .map((row) => JSON.parse(row.config) as CameraConfig);
  }

  /** Whether the site file's cameras have been copied in (once, at first start). */
  seeded(): boolean {
    return readSetting(this.store, SEEDED_KEY) !== undefined;
  }

  seed(list: readonly CameraConfig[], nowMs: number): void {
    this.store.sqlite.transaction(() => {
      for (const camera of list) this.put(camera, nowMs);
      writeSetting(this.store, SEEDED_KEY, nowMs);
    })();
  }

  /** Insert or replace one camera. */
  put(camera: CameraConfig, nowMs: number): void {
    const config = JSON.stringify(camera);
    this.store.db
      .insert(cameras)
      .values({ id: camera.id, config, createdAt: nowMs, updatedAt: nowMs })
      .onConflictDoUpdate({ target: cameras.id, set: { config, updatedAt: nowMs } })
      .run();
  }

  remove(id: string): void {
    this.store.db.delete(cameras).where(eq(cameras.id, id)).run();
  }

  recordEvent(cameraId: string, at: number, kind: string, data: Record<string, unknown>): void {
    this.store.db
      .insert(cameraEvents)
      .values({ cameraId, at, kind, data: JSON.stringify(data) })
      .run();
  }

  events(cameraId: string, limit: number): CameraEventRow[] {
    return this.store.db
      .select()
      .from(cameraEvents)
      .where(eq(cameraEvents.cameraId, cameraId))
      .orderBy(desc(cameraEvents.id))
      .limit(limit)
      .all()
      .map((row) => ({ ...row, data: JSON.parse(row.data) as Record<string, unknown> }));
  }
}
