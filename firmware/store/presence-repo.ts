/**
 * Zones at run time: who is inside and the occupancy count, kept in memory (the gate reads a snapshot and
 * applies a passage's effect in the same tick, so two reads in one turn see each other) and persisted so a
 * restart keeps them. A passage's rows are written inside its event's transaction (EventsRepo.append's
 * `also`): the event and the presence change are stored together or not at all. Manual changes (reset,
 * correction) are rare and written synchronously, after committing any queued events so the order on disk
 * is the order in memory.
 */
import type { ZoneConfig } from "../config/site.js";
import {
  assessPassage,
  type CameraRole,
  insideSince,
  movementOf,
  type PresenceCheck,
  type PresenceEffect,
  type ReadDirection,
  type ZonePolicy,
  type ZoneSnapshot,
} from "../domain/presence.js";
import { localTimeFormatter } from "../util/time.js";
import type { Store } from "./db.js";
import { NotFoundError } from "./lists-repo.js";

interface ZoneRuntime {
  policy: ZonePolicy;
  count: number;
  inside: Map<string, number>;
  lanes: Map<string, string | null>;
}

export interface ZoneView {
  name: string;
  count: number;
  capacity: number | null;
  full: boolean;
  /** Plates inside and not yet forgotten at the time of the view. */
  inside: number;
  antiPassback: ZonePolicy["antiPassback"];
  resetAfterMs: number;
  fullDenies: ZonePolicy["fullDenies"];
  countVisitorsOnly: boolean;
}

export interface PresenceRow {
  plate: string;
  enteredAt: number;
  laneId: string | null;
}

export class PresenceRepo {
  private readonly zones = new Map<string, ZoneRuntime>();
  private readonly upsert;
  private readonly remove;
  private readonly removeAll;
  private readonly putCount;

  /**
   * `beforeManualWrite` commits queued events first (EventsRepo.flush); `onCount` is told every count change
   * (the live socket).
   */
  /** "08:15" in the site's time zone, for anti-passback reasons. */
  private readonly formatTime: (ms: number) => string;

  constructor(
    store: Store,
    zones: readonly ZoneConfig[],
    timeZone: string,
    private readonly beforeManualWrite: () => void,
    private readonly onCount: (zone: string, count: number, capacity: number | null) => void = () => {},
  ) {
    this.formatTime = localTimeFormatter(timeZone);
    const db = store.sqlite;
    this.upsert = db.prepare<[string, string, number, string | null, number | null]>(
      "insert into zone_presence (zone, plate, entered_at, lane_id, event_id) values (?, ?, ?, ?, ?) on conflict (zone, plate) do update set entered_at = excluded.entered_at, lane_id = excluded.lane_id, event_id = excluded.event_id",
    );
    this.remove = db.prepare<[string, string]>("delete from zone_presence where zone = ? and plate = ?");
    this.removeAll = db.prepare<[string]>("delete from zone_presence where zone = ?");
    this.putCount = db.prepare<[string, number, number]>(
      "insert into zone_counts (zone, count, updated_at) values (?, ?, ?) on conflict (zone) do update set count = excluded.count, updated_at = excluded.updated_at",
    );
    const counts = db.prepare<[string], { count: number }>("select count from zone_counts where zone = ?");
    const rows = db.prepare<[string], { plate: string; entered_at: number; lane_id: string | null }>(
      "select plate, entered_at, lane_id from zone_presence where zone = ?",
    );
    for (const z of zones) {
      const runtime: ZoneRuntime = {
        policy: {
          name: z.name,
          capacity: z.capacity,
          countVisitorsOnly: z.countVisitorsOnly,
          antiPassback: z.antiPassback,
          resetAfterMs: z.resetAfterMs,
          fullDenies: z.fullDenies,
        },
        count: counts.get(z.name)?.count ?? 0,
        inside: new Map(),
        lanes: new Map(),
      };
      for (const r of rows.all(z.name)) {
        runtime.inside.set(r.plate, r.entered_at);
        runtime.lanes.set(r.plate, r.lane_id);
      }
      this.zones.set(z.name, runtime);
    }
  }

  /**
   * What a passage of `plate` through a lane into `zone` would do, on a snapshot (null when the lane has no
   * zone): for the gate, which then applies the effect in the same tick, and for the dry run, which does not.
   * `listed`: the list decision allowed the plate.
   */
  check(
    lane: { zone?: string | undefined; direction?: "entry" | "exit" | "both" | undefined },
    plate: string,
    cameraRole: CameraRole | undefined,
    readDirection: ReadDirection | null | undefined,
    listed: boolean,
    now: number,
  ): PresenceCheck | null {
    const policy = lane.zone === undefined ? undefined : this.policy(lane.zone);
    if (!policy || lane.zone === undefined) return null;
    const { movement, from } = movementOf(lane.direction, cameraRole, readDirection);
    return assessPassage({
      policy,
      state: this.snapshot(lane.zone),
      plate,
      movement,
      movementFrom: from,
      listed,
      now,
      formatTime: this.formatTime,
    });
  }

  policy(zone: string): ZonePolicy | undefined {
    return this.zones.get(zone)?.policy;
  }

  /** The zone's live state; treat as read-only (the domain functions never change it). */
  snapshot(zone: string): ZoneSnapshot {
    const z = this.zoneOf(zone);
    return { count: z.count, inside: z.inside };
  }

  /**
   * Apply a passage the barrier opened for: memory now, and a writer to run inside the event's transaction.
   * Writes absolute values (the row, the count), so replaying one is harmless.
   */
  apply(effect: PresenceEffect, meta: { laneId: string; eventId: number }): () => void {
    const z = this.zoneOf(effect.zone);
    z.count = Math.max(0, z.count + effect.countDelta);
    const count = z.count;
    if (effect.movement === "entry") {
      z.inside.set(effect.plate, effect.at);
      z.lanes.set(effect.plate, meta.laneId);
    } else {
      z.inside.delete(effect.plate);
      z.lanes.delete(effect.plate);
    }
    if (effect.countDelta !== 0) this.onCount(z.policy.name, count, z.policy.capacity ?? null);
    return () => {
      if (effect.movement === "entry")
        this.upsert.run(effect.zone, effect.plate, effect.at, meta.laneId, meta.eventId);
      else this.remove.run(effect.zone, effect.plate);
      if (effect.countDelta !== 0) this.putCount.run(effect.zone, count, effect.at);
    };
  }

  views(now: number): ZoneView[] {
    return [...this.zones.values()].map((z) => this.view(z, now));
  }

  zoneView(zone: string, now: number): ZoneView {
    return this.view(this.zoneOf(zone), now);
  }

  /** Plates inside at `now`, oldest first; `plate` filters by a part of the normalised plate. */
  inside(zone: string, now: number, plate?: string): PresenceRow[] {
    const z = this.zoneOf(zone);
    const out: PresenceRow[] = [];
    for (const [p, enteredAt] of z.inside) {
      if (insideSince(z.policy, { count: z.count, inside: z.inside }, p, now) === null) continue;
      if (plate && !p.includes(plate)) continue;
      out.push({ plate: p, enteredAt, laneId: z.lanes.get(p) ?? null });
    }
    return out.sort((a, b) => a.enteredAt - b.enteredAt);
  }

  /** Forget one plate (manual anti-passback reset). Returns when it had entered, or null if it was not inside. */
  reset(zone: string, plate: string, now: number): number | null {
    const z = this.zoneOf(zone);
    const since = insideSince(z.policy, { count: z.count, inside: z.inside }, plate, now);
    if (!z.inside.has(plate)) return null;
    this.beforeManualWrite();
    z.inside.delete(plate);
    z.lanes.delete(plate);
    this.remove.run(zone, plate);
    return since;
  }

  /** Forget every plate in the zone; returns how many were inside (not yet forgotten). */
  clear(zone: string, now: number): number {
    const z = this.zoneOf(zone);
    const n = this.inside(zone, now).length;
    this.beforeManualWrite();
    z.inside.clear();
    z.lanes.clear();
    this.removeAll.run(zone);
    return n;
  }

  /** Manual occupancy correction; returns the count before. */
  setCount(zone: string, count: number, now: number): number {
    const z = this.zoneOf(zone);
    const from = z.count;
    this.beforeManualWrite();
    z.count = count;
    this.putCount.run(zone, count, now);
    this.onCount(z.policy.name, count, z.policy.capacity ?? null);
    return from;
  }

  private view(z: ZoneRuntime, now: number): ZoneView {
    const p = z.policy;
    return {
      name: p.name,
      count: z.count,
      capacity: p.capacity ?? null,
      full: p.capacity !== undefined && z.count >= p.capacity,
      inside: this.inside(p.name, now).length,
      antiPassback: p.antiPassback,
      resetAfterMs: p.resetAfterMs,
      fullDenies: p.fullDenies,
      countVisitorsOnly: p.countVisitorsOnly,
    };
  }

  private zoneOf(zone: string): ZoneRuntime {
    const z = this.zones.get(zone);
    if (!z)
      throw new NotFoundError(
        `zone '${zone}' does not exist; zones: ${[...this.zones.keys()].map((n) => `'${n}'`).join(", ") || "none"}`,
      );
    return z;
  }
}
