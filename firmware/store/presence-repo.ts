/**
 * Zones at run time: their settings (stored in the `zones` table, seeded once from the site file, then
 * managed through the API), who is inside and the occupancy count. State is kept in memory (the gate reads a
 * snapshot and applies a passage's effect in the same tick, so two reads in one turn see each other) and
 * persisted so a restart keeps it. A passage's rows are written inside its event's transaction
 * (EventsRepo.append's `also`): the event and the presence change are stored together or not at all. Loop
 * counts, manual changes and settings are rare and written synchronously, after committing any queued events
 * so the order on disk is the order in memory.
 */
import type { IoTransition } from "../../hal/types.js";
import type { ZoneConfig } from "../config/site.js";
import {
  assessPassage,
  type CameraRole,
  insideSince,
  type Movement,
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
import { readSetting, writeSetting } from "./settings.js";

interface ZoneRuntime {
  config: ZoneConfig;
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
  lanes: ZoneConfig["lanes"];
  loops: ZoneConfig["loops"];
}

export interface PresenceRow {
  plate: string;
  enteredAt: number;
  laneId: string | null;
}

/** What the live socket is told: a zone's count or plates inside changed, its settings changed, it went. */
export type ZoneChange =
  | { kind: "occupancy" | "settings"; zone: ZoneView }
  | { kind: "removed"; name: string };

/** A zone's count as the live socket and its hello carry it. */
export function occupancyOf(view: ZoneView) {
  const { name, count, capacity, full, inside } = view;
  return { zone: name, count, capacity, full, inside };
}

/** The live `occupancy` topic's message for a change. */
export function zoneMessage(change: ZoneChange): Record<string, unknown> {
  if (change.kind === "removed") return { type: "zone-removed", zone: change.name };
  if (change.kind === "settings") return { type: "zone", zone: change.zone };
  return { type: "occupancy", ...occupancyOf(change.zone) };
}

const SEEDED_KEY = "zones.seeded";

function policyOf(z: ZoneConfig): ZonePolicy {
  return {
    name: z.name,
    capacity: z.capacity,
    countVisitorsOnly: z.countVisitorsOnly,
    antiPassback: z.antiPassback,
    resetAfterMs: z.resetAfterMs,
    fullDenies: z.fullDenies,
  };
}

export class PresenceRepo {
  private readonly zones = new Map<string, ZoneRuntime>();
  /** Lane id → its zone and how the lane counts (rebuilt when a zone changes). */
  private laneZones = new Map<string, { zone: string } & ZoneConfig["lanes"][number]>();
  /** Input name → the zones its crossings count into or out of. */
  private loopInputs = new Map<string, { zone: string; movement: Movement }[]>();
  private readonly upsert;
  private readonly remove;
  private readonly removeAll;
  private readonly putCount;
  private readonly store: Store;
  /** "08:15" in the site's time zone, for anti-passback reasons. */
  private readonly formatTime: (ms: number) => string;

  private readonly lanePresenceInput: (laneId: string) => string | undefined;
  private readonly beforeManualWrite: () => void;
  private readonly onChange: (change: ZoneChange) => void;
  private readonly now: () => number;
  /** Fires when the earliest plate inside is due to be forgotten (see forgetDue). */
  private expiryTimer: NodeJS.Timeout | null = null;

  constructor(options: {
    store: Store;
    /** The site file's zones, stored at the first start only. */
    seedZones: readonly ZoneConfig[];
    /** A lane's presence loop input (for `countBy: loop`). */
    lanePresenceInput: (laneId: string) => string | undefined;
    timeZone: string;
    /** The wall clock (epoch ms): seeding, and when plates inside are forgotten. */
    now: () => number;
    /** Commits queued events first (EventsRepo.flush). */
    beforeManualWrite: () => void;
    /** Told every change of a zone's count, plates inside or settings, and a deletion (the live socket). */
    onChange?: (change: ZoneChange) => void;
  }) {
    const { store } = options;
    const now = options.now();
    this.now = options.now;
    this.store = store;
    this.lanePresenceInput = options.lanePresenceInput;
    this.beforeManualWrite = options.beforeManualWrite;
    this.onChange = options.onChange ?? (() => {});
    this.formatTime = localTimeFormatter(options.timeZone);
    const db = store.sqlite;
    this.upsert = db.prepare<[string, string, number, string | null, number | null]>(
      "insert into zone_presence (zone, plate, entered_at, lane_id, event_id) values (?, ?, ?, ?, ?) on conflict (zone, plate) do update set entered_at = excluded.entered_at, lane_id = excluded.lane_id, event_id = excluded.event_id",
    );
    this.remove = db.prepare<[string, string]>("delete from zone_presence where zone = ? and plate = ?");
    this.removeAll = db.prepare<[string]>("delete from zone_presence where zone = ?");
    this.putCount = db.prepare<[string, number, number]>(
      "insert into zone_counts (zone, count, updated_at) values (?, ?, ?) on conflict (zone) do update set count = excluded.count, updated_at = excluded.updated_at",
    );
    if (readSetting(store, SEEDED_KEY) === undefined)
      db.transaction(() => {
        for (const zone of options.seedZones) this.writeConfig(zone, now);
        writeSetting(store, SEEDED_KEY, now);
      })();
    const counts = db.prepare<[string], { count: number }>("select count from zone_counts where zone = ?");
    const rows = db.prepare<[string], { plate: string; entered_at: number; lane_id: string | null }>(
      "select plate, entered_at, lane_id from zone_presence where zone = ?",
    );
    const configs = db.prepare<[], { config: string }>("select config from zones order by name").all();
    for (const { config } of configs) {
      const z = JSON.parse(config) as ZoneConfig;
      const runtime: ZoneRuntime = {
        config: z,
        policy: policyOf(z),
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
    this.index();
    this.forgetDue();
  }

  /** Stop the expiry timer (the controller is stopping). */
  stop(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
  }

  /** Every zone's settings, by name. */
  configs(): ZoneConfig[] {
    return [...this.zones.values()].map((z) => z.config);
  }

  /**
   * Create a zone or change its settings (validated by the caller: zoneProblems). The count and who is
   * inside are kept; applied to the next read at once.
   */
  put(config: ZoneConfig, now: number): void {
    this.beforeManualWrite();
    this.writeConfig(config, now);
    const existing = this.zones.get(config.name);
    if (existing) {
      existing.config = config;
      existing.policy = policyOf(config);
    } else
      this.zones.set(config.name, {
        config,
        policy: policyOf(config),
        count: 0,
        inside: new Map(),
        lanes: new Map(),
      });
    this.index();
    this.forgetDue(); // resetAfterMs may have changed
    this.onChange({ kind: "settings", zone: this.zoneView(config.name, now) });
  }

  /** Delete a zone with its count and presence rows; its lanes then track nothing. */
  delete(zone: string): ZoneConfig {
    const z = this.zoneOf(zone);
    this.beforeManualWrite();
    const db = this.store.sqlite;
    db.transaction(() => {
      db.prepare("delete from zones where name = ?").run(zone);
      db.prepare("delete from zone_counts where zone = ?").run(zone);
      this.removeAll.run(zone);
    })();
    this.zones.delete(zone);
    this.index();
    this.onChange({ kind: "removed", name: zone });
    return z.config;
  }

  /**
   * What a passage of `plate` on a lane would do to the lane's zone, on a snapshot (null when the lane is in
   * no zone): for the gate, which then applies the effect in the same tick, and for the dry run, which does
   * not. `listed`: the list decision allowed the plate.
   */
  check(
    laneId: string,
    plate: string,
    cameraRole: CameraRole | undefined,
    readDirection: ReadDirection | null | undefined,
    listed: boolean,
    now: number,
  ): PresenceCheck | null {
    const lane = this.laneZones.get(laneId);
    const z = lane && this.zones.get(lane.zone);
    if (!lane || !z) return null;
    const { movement, from } = movementOf(lane.direction, cameraRole, readDirection);
    return assessPassage({
      policy: z.policy,
      state: { count: z.count, inside: z.inside },
      plate,
      movement,
      movementFrom: from,
      listed,
      countsOccupancy: lane.countBy === "decision",
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
   * An input transition: a vehicle that has crossed a counting loop (the loop released) counts into or out
   * of its zones. Returns the zones whose count changed.
   */
  onInput(t: IoTransition): string[] {
    if (t.kind !== "input" || t.active) return [];
    const targets = this.loopInputs.get(t.name);
    if (!targets) return [];
    const changed: string[] = [];
    for (const { zone, movement } of targets) {
      const z = this.zones.get(zone);
      if (!z) continue;
      const count = Math.max(0, z.count + (movement === "entry" ? 1 : -1));
      if (count === z.count) continue;
      this.beforeManualWrite();
      z.count = count;
      this.putCount.run(zone, count, t.wallMs);
      this.onChange({ kind: "occupancy", zone: this.view(z, t.wallMs) });
      changed.push(zone);
    }
    return changed;
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
      if (!this.expiryTimer) this.forgetDue();
    } else {
      z.inside.delete(effect.plate);
      z.lanes.delete(effect.plate);
    }
    this.onChange({ kind: "occupancy", zone: this.view(z, effect.at) });
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
    this.onChange({ kind: "occupancy", zone: this.view(z, now) });
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
    this.onChange({ kind: "occupancy", zone: this.view(z, now) });
    return n;
  }

  /** Manual occupancy correction; returns the count before. */
  setCount(zone: string, count: number, now: number): number {
    const z = this.zoneOf(zone);
    const from = z.count;
    this.beforeManualWrite();
    z.count = count;
    this.putCount.run(zone, count, now);
    this.onChange({ kind: "occupancy", zone: this.view(z, now) });
    return from;
  }

  private view(z: ZoneRuntime, now: number): ZoneView {
    const p = z.policy;
    return {
      name: p.name,
      count: z.count,
      capacity: p.capacity ?? null,
      full: p.capacity !== undefined && z.count >= p.capacity,
      inside: this.insideCount(z, now),
      antiPassback: p.antiPassback,
      resetAfterMs: p.resetAfterMs,
      fullDenies: p.fullDenies,
      countVisitorsOnly: p.countVisitorsOnly,
      lanes: z.config.lanes,
      loops: z.config.loops,
    };
  }

  /** How many plates are inside at `now` (not yet forgotten); `inside()` without building the rows. */
  private insideCount(z: ZoneRuntime, now: number): number {
    let n = 0;
    for (const enteredAt of z.inside.values()) if (now - enteredAt < z.policy.resetAfterMs) n++;
    return n;
  }

  private writeConfig(config: ZoneConfig, now: number): void {
    this.store.sqlite
      .prepare(
        "insert into zones (name, config, created_at, updated_at) values (?, ?, ?, ?) on conflict (name) do update set config = excluded.config, updated_at = excluded.updated_at",
      )
      .run(config.name, JSON.stringify(config), now, now);
  }

  /**
   * Forget plates whose `resetAfterMs` has passed (memory and rows), announce the zones that changed, and arm
   * the timer for the next one due. A later entry is never due earlier than the armed one (its time is later),
   * so entering only arms the timer when none is armed; settings changes re-arm it.
   */
  private forgetDue(): void {
    this.stop();
    const now = this.now();
    let next = Number.POSITIVE_INFINITY;
    for (const z of this.zones.values()) {
      const due: string[] = [];
      for (const [plate, enteredAt] of z.inside) {
        const forgetAt = enteredAt + z.policy.resetAfterMs;
        if (forgetAt <= now) due.push(plate);
        else next = Math.min(next, forgetAt);
      }
      if (due.length === 0) continue;
      this.beforeManualWrite();
      this.store.sqlite.transaction(() => {
        for (const plate of due) this.remove.run(z.policy.name, plate);
      })();
      for (const plate of due) {
        z.inside.delete(plate);
        z.lanes.delete(plate);
      }
      this.onChange({ kind: "occupancy", zone: this.view(z, now) });
    }
    if (next === Number.POSITIVE_INFINITY) return;
    // setTimeout holds at most ~24.8 days; a later expiry is looked at again then.
    this.expiryTimer = setTimeout(() => this.forgetDue(), Math.min(next - now, 2 ** 31 - 1));
    this.expiryTimer.unref();
  }

  /** Rebuild the lane and loop lookups from the zones' settings. */
  private index(): void {
    this.laneZones = new Map();
    this.loopInputs = new Map();
    const addLoop = (input: string, zone: string, movement: Movement) => {
      const list = this.loopInputs.get(input) ?? [];
      list.push({ zone, movement });
      this.loopInputs.set(input, list);
    };
    for (const { config } of this.zones.values()) {
      for (const lane of config.lanes) {
        this.laneZones.set(lane.lane, { zone: config.name, ...lane });
        const input = this.lanePresenceInput(lane.lane);
        if (lane.countBy === "loop" && input !== undefined && lane.direction !== "both")
          addLoop(input, config.name, lane.direction);
      }
      for (const loop of config.loops) addLoop(loop.input, config.name, loop.movement);
    }
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
