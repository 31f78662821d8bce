/** Pure helpers behind the live store: no DOM, no Svelte, easy to reason about. */

import { knownTimeZone } from "./format.js";
import type {
  ApprovalRequest,
  Barrier,
  BarrierFault,
  BarrierPosition,
  BarrierState,
  BarrierUpdate,
  Camera,
  CameraItem,
  CameraState,
  CameraStatus,
  DecisionEvent,
  EventImage,
  ImageKind,
  IoItem,
  Lane,
  LiveMessage,
  OutboxTarget,
  OutboxTargetState,
  SiteInfo,
  Zone,
  ZoneCount,
  ZoneUpdate,
} from "./types.js";

export const MAX_EVENTS = 50;

/** Merge fresh events into the list: de-duplicated by id, newest (highest id) first, capped. */
export function mergeEvents(
  current: readonly DecisionEvent[],
  incoming: readonly DecisionEvent[],
  max = MAX_EVENTS,
): DecisionEvent[] {
  const byId = new Map<number, DecisionEvent>();
  for (const e of current) byId.set(e.id, e);
  for (const e of incoming) byId.set(e.id, e);
  return [...byId.values()].sort((a, b) => b.id - a.id).slice(0, max);
}

/** Apply an I/O snapshot or update, keeping whichever reading is newer. */
export function applyIo(current: Record<string, IoItem>, item: IoItem): boolean {
  const prev = current[item.name];
  if (prev && Date.parse(prev.changedAt) > Date.parse(item.changedAt)) return false;
  if (prev && prev.state === item.state && prev.changedAt === item.changedAt && prev.kind === item.kind) {
    return false;
  }
  current[item.name] = { name: item.name, kind: item.kind, state: item.state, changedAt: item.changedAt };
  return true;
}

/** A camera's status changed (socket): replace it, or add the camera (its lane is filled in by the REST list). */
export function applyCameraStatus(current: readonly Camera[], status: CameraStatus): Camera[] {
  const known = current.some((c) => c.id === status.id);
  if (!known) return [...current, { id: status.id, name: null, lane: null, status }];
  return current.map((c) => (c.id === status.id ? { ...c, status } : c));
}

/** The hello's statuses are the whole set of cameras: removed ones go, configuration already known stays. */
export function applyHelloCameras(current: readonly Camera[], statuses: readonly CameraStatus[]): Camera[] {
  const byId = new Map(current.map((c) => [c.id, c]));
  return statuses.map((status) => {
    const prev = byId.get(status.id);
    return prev ? { ...prev, status } : { id: status.id, name: null, lane: null, status };
  });
}

/**
 * The REST list. Before the socket's hello it is all there is; afterwards the socket is the fresher source
 * of membership and status, so the list only fills in names and lanes.
 */
export function applyCameraList(
  current: readonly Camera[],
  items: readonly CameraItem[],
  greeted: boolean,
): Camera[] {
  const info = (item: CameraItem) => ({ name: item.name ?? null, lane: item.lane });
  if (!greeted) return items.map((item) => ({ id: item.id, ...info(item), status: item.status }));
  const byId = new Map(items.map((item) => [item.id, item]));
  return current.map((c) => {
    const item = byId.get(c.id);
    return item ? { ...c, ...info(item) } : c;
  });
}

/** Mirrors the controller's PUSH_IDLE_MS: it does not announce a push camera going quiet. */
export const PUSH_IDLE_MS = 5 * 60_000;
/** An error this recent shows the camera red even when it is otherwise up. */
export const RECENT_ERROR_MS = 5 * 60_000;

function ageMs(iso: string | null | undefined, now: number): number {
  const t = iso ? Date.parse(iso) : Number.NaN;
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : now - t;
}

/** The state as of `now`: a push camera that has been quiet since its last status is idle by now. */
export function cameraState(s: CameraStatus, now: number): CameraState {
  if (s.transport === "push" && s.state === "receiving" && ageMs(s.lastReadAt, now) >= PUSH_IDLE_MS)
    return "idle";
  return s.state;
}

/** Reads/min as of `now`: the controller counts the last 60 s, so none after a minute without reads. */
export function cameraRate(s: CameraStatus, now: number): number {
  return ageMs(s.lastReadAt, now) >= 60_000 ? 0 : s.readsPerMinute;
}

export type Tone = "ok" | "warn" | "bad" | "off";

/** Green: working; amber: waiting; red: down or a recent error; grey: disabled. */
export function cameraTone(s: CameraStatus, now: number): Tone {
  const state = cameraState(s, now);
  if (state === "disabled") return "off";
  if (state === "disconnected" || ageMs(s.lastError?.at, now) < RECENT_ERROR_MS) return "bad";
  return state === "connected" || state === "receiving" ? "ok" : "warn";
}

const TONE_RANK: Record<Tone, number> = { off: 0, ok: 1, warn: 2, bad: 3 };

/** The worst of some tones ("off" for none): what needs the most attention. */
export function worstOf(tones: Iterable<Tone>): Tone {
  let worst: Tone = "off";
  for (const tone of tones) if (TONE_RANK[tone] > TONE_RANK[worst]) worst = tone;
  return worst;
}

/** The worst tone among the cameras (a disabled camera needs no attention), for the Cameras tab. */
export function worstTone(cameras: readonly Camera[], now: number): Tone {
  return worstOf(cameras.map((c) => cameraTone(c.status, now)));
}

const KIND_ORDER: Record<ImageKind, number> = { plate: 0, full: 1, evidence: 2 };

/** The pictures the panel can show (known kinds, an API path), plate crop first, then the full frame. */
export function showableImages(items: readonly unknown[]): EventImage[] {
  return items
    .filter(
      (i): i is EventImage =>
        isObject(i) &&
        typeof i.id === "number" &&
        (i.kind === "plate" || i.kind === "full" || i.kind === "evidence") &&
        typeof i.url === "string" &&
        i.url.startsWith("/api/"),
    )
    .sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.id - b.id);
}

/** Reconnect delay for the n-th consecutive failure (0-based): 0.5 s doubling to 15 s, ±20 % jitter. */
export function backoffDelay(attempt: number, random = Math.random): number {
  const base = Math.min(15_000, 500 * 2 ** Math.min(attempt, 10));
  return Math.round(base * (0.8 + 0.4 * random()));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;
const isStringOrNull = (v: unknown): v is string | null => v === null || typeof v === "string";

function isIo(v: unknown): v is IoItem {
  return (
    isObject(v) &&
    typeof v.name === "string" &&
    (v.kind === "input" || v.kind === "output") &&
    (v.state === "active" || v.state === "inactive") &&
    typeof v.changedAt === "string"
  );
}

const BARRIER_STATES: readonly string[] = [
  "closed",
  "opening",
  "open",
  "held",
  "closing",
  "fault",
  "unknown",
] satisfies BarrierState[];

const isBarrierState = (v: unknown): v is BarrierState => typeof v === "string" && BARRIER_STATES.includes(v);

/** Where the arm is: the reported position, else what the state says (a fault hides it: unknown). */
function positionOf(position: unknown, state: BarrierState): BarrierPosition {
  if (isBarrierState(position) && position !== "fault") return position;
  return state === "fault" ? "unknown" : state;
}

/** A fault the panel can show; a malformed one is dropped (the state still says `fault`). */
function faultOf(v: unknown): BarrierFault | null {
  if (!isObject(v) || typeof v.code !== "string" || typeof v.message !== "string") return null;
  return { code: v.code, message: v.message, since: typeof v.since === "string" ? v.since : "" };
}

/**
 * A barrier as GET /lanes and the hello carry it; null when it has no state the panel knows. Missing
 * capabilities count as absent, so the panel never offers a command the controller would refuse.
 */
export function barrierOf(v: unknown): Barrier | null {
  if (!isObject(v) || !isBarrierState(v.state) || typeof v.since !== "string") return null;
  return {
    state: v.state,
    position: positionOf(v.position, v.state),
    fault: faultOf(v.fault),
    since: v.since,
    closePending: v.closePending === true,
    expected: isCount(v.expected) ? v.expected : 0,
    canClose: v.canClose === true,
    canHold: v.canHold === true,
  };
}

const stringOrNull = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** One lane, only the fields the panel uses; null without an id and a name. */
export function laneOf(v: unknown): Lane | null {
  if (!isObject(v) || typeof v.id !== "string" || v.id === "" || typeof v.name !== "string") return null;
  return {
    id: v.id,
    name: v.name,
    barrierOutput: stringOrNull(v.barrierOutput),
    presenceInput: stringOrNull(v.presenceInput),
    serialPath: stringOrNull(v.serialPath),
    barrier: barrierOf(v.barrier),
  };
}

/** The lanes of GET /lanes or the hello, malformed ones dropped. */
export function lanesOf(items: unknown): Lane[] {
  if (!Array.isArray(items)) return [];
  return items.map(laneOf).filter((l): l is Lane => l !== null);
}

function barrierUpdateOf(v: Record<string, unknown>): BarrierUpdate | null {
  if (typeof v.lane !== "string" || !isBarrierState(v.state) || typeof v.since !== "string") return null;
  return {
    lane: v.lane,
    state: v.state,
    position: positionOf(v.position, v.state),
    fault: faultOf(v.fault),
    since: v.since,
  };
}

/** States in which no close waits any more: it has started, is done, or a hold cancelled it. */
const CLOSE_SETTLED: readonly BarrierState[] = ["closing", "closed", "held"];

/**
 * A `barrier` message: the lane's state, position and fault, unless the panel already has a newer state.
 * The message does not say whether a close still waits for the vehicle: that clears once the close has
 * started (or a hold cancelled it). Returns `current` itself when nothing changed.
 */
export function applyBarrier(current: readonly Lane[], update: BarrierUpdate): readonly Lane[] {
  const lane = current.find((l) => l.id === update.lane);
  if (!lane) return current;
  const prev = lane.barrier;
  if (prev && Date.parse(prev.since) > Date.parse(update.since)) return current;
  const barrier: Barrier = {
    closePending: false,
    expected: 0,
    canClose: false,
    canHold: false,
    ...prev,
    state: update.state,
    position: update.position,
    fault: update.fault,
    since: update.since,
  };
  if (CLOSE_SETTLED.includes(update.state)) barrier.closePending = false;
  return current.map((l) => (l === lane ? { ...l, barrier } : l));
}

/**
 * A command's reply carries the whole barrier view, `closePending` included. A state the socket already
 * reported as newer is kept; the rest is taken.
 */
export function applyBarrierView(current: readonly Lane[], laneId: string, view: unknown): readonly Lane[] {
  const next = barrierOf(view);
  const lane = current.find((l) => l.id === laneId);
  if (!next || !lane) return current;
  const prev = lane.barrier;
  const barrier =
    prev && Date.parse(prev.since) > Date.parse(next.since)
      ? { ...prev, canClose: next.canClose, canHold: next.canHold }
      : next;
  return current.map((l) => (l === lane ? { ...l, barrier } : l));
}

export const BARRIER_TEXT: Record<BarrierState, string> = {
  closed: "Closed",
  opening: "Opening",
  open: "Open",
  held: "Held open",
  closing: "Closing",
  fault: "Fault",
  unknown: "Unknown",
};

export type BarrierTone = "closed" | "open" | "moving" | "fault" | "unknown";

/** Grey closed, green opening/open/held, amber closing, red fault, dashed grey unknown. */
export function barrierTone(state: BarrierState): BarrierTone {
  switch (state) {
    case "opening":
    case "open":
    case "held":
      return "open";
    case "closing":
      return "moving";
    default:
      return state;
  }
}

const OUTBOX_STATES: readonly string[] = [
  "up",
  "down",
  "unknown",
  "unconfigured",
] satisfies OutboxTargetState[];

const isoOrNull = (v: unknown): string | null => (typeof v === "string" ? v : null);

/** One outbox target; null without an id or a count. A state this panel does not know reads as unknown. */
export function outboxTargetOf(v: unknown): OutboxTarget | null {
  if (!isObject(v) || typeof v.target !== "string" || v.target === "" || !isCount(v.pending)) return null;
  return {
    target: v.target,
    type: stringOrNull(v.type),
    state:
      typeof v.state === "string" && OUTBOX_STATES.includes(v.state)
        ? (v.state as OutboxTargetState)
        : "unknown",
    pending: v.pending,
    oldestPendingAgeMs: isCount(v.oldestPendingAgeMs) ? v.oldestPendingAgeMs : null,
    lastError: stringOrNull(v.lastError),
    lastErrorAt: isoOrNull(v.lastErrorAt),
    lastSentAt: isoOrNull(v.lastSentAt),
    nextAttemptAt: isoOrNull(v.nextAttemptAt),
  };
}

const byTarget = (a: OutboxTarget, b: OutboxTarget): number =>
  a.target < b.target ? -1 : a.target > b.target ? 1 : 0;

/** GET /outbox/targets: the whole set, malformed items dropped, sorted by id. */
export function outboxTargetsOf(items: unknown): OutboxTarget[] {
  if (!Array.isArray(items)) return [];
  return items
    .map(outboxTargetOf)
    .filter((t): t is OutboxTarget => t !== null)
    .sort(byTarget);
}

/** An `outbox` message: replace the target, or add it. */
export function applyOutboxTarget(current: readonly OutboxTarget[], target: OutboxTarget): OutboxTarget[] {
  return [...current.filter((t) => t.target !== target.target), target].sort(byTarget);
}

/** Red: down; amber: messages waiting with no answer yet (or for a removed target); green: up; grey: idle. */
export function outboxTone(t: OutboxTarget): Tone {
  if (t.state === "down") return "bad";
  if (t.state === "up") return "ok";
  return t.pending > 0 ? "warn" : "off";
}

/** What the alert badge counts: targets that are down with messages waiting, and those messages. */
export function outboxAlert(targets: readonly OutboxTarget[]): { targets: number; pending: number } {
  let count = 0;
  let pending = 0;
  for (const t of targets) {
    if (t.state !== "down" || t.pending === 0) continue;
    count++;
    pending += t.pending;
  }
  return { targets: count, pending };
}

const CAMERA_STATES: readonly string[] = [
  "disabled",
  "idle",
  "receiving",
  "connecting",
  "connected",
  "disconnected",
] satisfies CameraState[];

function isCameraStatus(v: unknown): v is CameraStatus {
  return (
    isObject(v) &&
    typeof v.id === "string" &&
    typeof v.protocol === "string" &&
    (v.transport === "push" || v.transport === "link") &&
    typeof v.state === "string" &&
    CAMERA_STATES.includes(v.state) &&
    isStringOrNull(v.detail) &&
    typeof v.since === "string" &&
    isStringOrNull(v.lastReadAt) &&
    isCount(v.reads) &&
    isCount(v.readsPerMinute) &&
    isCount(v.errors) &&
    (v.lastError === null ||
      (isObject(v.lastError) &&
        typeof v.lastError.at === "string" &&
        typeof v.lastError.message === "string"))
  );
}

/** Only the status fields, so nothing unexpected rides along into the panel's state. */
function cameraStatusOf(v: CameraStatus): CameraStatus {
  const { id, protocol, transport, state, detail, since, lastReadAt, reads, readsPerMinute, errors } = v;
  const lastError = v.lastError && { at: v.lastError.at, message: v.lastError.message };
  return {
    id,
    protocol,
    transport,
    state,
    detail,
    since,
    lastReadAt,
    reads,
    readsPerMinute,
    errors,
    lastError,
  };
}

function isEvent(v: unknown): v is DecisionEvent {
  return (
    isObject(v) &&
    typeof v.id === "number" &&
    typeof v.plate === "string" &&
    (v.decision === "allow" || v.decision === "deny")
  );
}

/** An approval request with every field it needs, only those fields; null otherwise. */
export function approvalOf(v: unknown): ApprovalRequest | null {
  if (!isObject(v)) return null;
  const { id, lane, plate, reason, eventId, askedAt, expiresAt } = v;
  if (typeof id !== "number" || typeof eventId !== "number") return null;
  if (typeof lane !== "string" || typeof plate !== "string" || typeof reason !== "string") return null;
  if (typeof askedAt !== "string" || typeof expiresAt !== "string" || Number.isNaN(Date.parse(expiresAt)))
    return null;
  const passHours = typeof v.passHours === "number" ? v.passHours : null;
  return { id, lane, plate, reason, eventId, askedAt, expiresAt, passHours };
}

/** Add (or replace) a request, oldest first. */
export function addApproval(
  current: readonly ApprovalRequest[],
  request: ApprovalRequest,
): ApprovalRequest[] {
  return [...current.filter((r) => r.id !== request.id), request].sort((a, b) => a.id - b.id);
}

const ANTI_PASSBACK: readonly string[] = ["off", "soft", "hard"] satisfies Zone["antiPassback"][];
const FULL_DENIES: readonly string[] = ["visitors", "all", "none"] satisfies Zone["fullDenies"][];

const capacityOf = (v: unknown): number | null => (isCount(v) ? v : null);
const isFull = (count: number, capacity: number | null): boolean => capacity !== null && count >= capacity;

/**
 * One zone of GET /zones or of a `zone` message, only the fields the panel uses (not `lanes`, `loops`); null
 * without a name and a count. A policy value this panel does not know reads as `unknown`.
 */
export function zoneOf(v: unknown): Zone | null {
  if (!isObject(v) || typeof v.name !== "string" || v.name === "" || !isCount(v.count)) return null;
  const capacity = capacityOf(v.capacity);
  return {
    name: v.name,
    count: v.count,
    capacity,
    full: typeof v.full === "boolean" ? v.full : isFull(v.count, capacity),
    inside: isCount(v.inside) ? v.inside : 0,
    antiPassback:
      typeof v.antiPassback === "string" && ANTI_PASSBACK.includes(v.antiPassback)
        ? (v.antiPassback as Zone["antiPassback"])
        : "unknown",
    resetAfterMs: isCount(v.resetAfterMs) ? v.resetAfterMs : null,
    fullDenies:
      typeof v.fullDenies === "string" && FULL_DENIES.includes(v.fullDenies)
        ? (v.fullDenies as Zone["fullDenies"])
        : "unknown",
    countVisitorsOnly: v.countVisitorsOnly === true,
  };
}

/** GET /zones: the whole set in the controller's order, malformed items dropped. */
export function zonesOf(items: unknown): Zone[] {
  if (!Array.isArray(items)) return [];
  return items.map(zoneOf).filter((z): z is Zone => z !== null);
}

/** An `occupancy` message or an item of the hello's `zones`; null when malformed. */
export function zoneCountOf(v: unknown): ZoneCount | null {
  if (!isObject(v) || typeof v.zone !== "string" || v.zone === "" || !isCount(v.count)) return null;
  const capacity = capacityOf(v.capacity);
  return {
    zone: v.zone,
    count: v.count,
    capacity,
    full: typeof v.full === "boolean" ? v.full : isFull(v.count, capacity),
    inside: isCount(v.inside) ? v.inside : null,
  };
}

/**
 * A live count: the zone's count, capacity, whether it is full and how many plates are inside. A zone the
 * panel does not know (no settings yet) is left alone. Returns `current` itself when nothing changed.
 */
export function applyZoneCount(current: readonly Zone[], update: ZoneCount): readonly Zone[] {
  const zone = current.find((z) => z.name === update.zone);
  if (!zone) return current;
  const { count, capacity, full } = update;
  const inside = update.inside ?? zone.inside;
  if (zone.count === count && zone.capacity === capacity && zone.full === full && zone.inside === inside)
    return current;
  const next: Zone = { ...zone, count, capacity, full, inside };
  return current.map((z) => (z === zone ? next : z));
}

/** A zone created or changed: replaced where it is, or added at the end (the controller's order). */
export function putZone(current: readonly Zone[], zone: Zone): readonly Zone[] {
  if (!current.some((z) => z.name === zone.name)) return [...current, zone];
  return current.map((z) => (z.name === zone.name ? zone : z));
}

/** A zone deleted. Returns `current` itself when it was not there. */
export function removeZone(current: readonly Zone[], name: string): readonly Zone[] {
  return current.some((z) => z.name === name) ? current.filter((z) => z.name !== name) : current;
}

/**
 * One zone update. The hello's `zones` are the whole set: a zone it does not name was deleted while the panel
 * was away; the others take its counts.
 */
export function applyZoneUpdate(current: readonly Zone[], update: ZoneUpdate): readonly Zone[] {
  switch (update.type) {
    case "occupancy": {
      const { type: _type, ...count } = update;
      return applyZoneCount(current, count);
    }
    case "zone":
      return putZone(current, update.zone);
    case "zone-removed":
      return removeZone(current, update.zone);
    case "zones": {
      const named = new Set(update.zones.map((c) => c.zone));
      let zones = current.some((z) => !named.has(z.name))
        ? current.filter((z) => named.has(z.name))
        : current;
      for (const count of update.zones) zones = applyZoneCount(zones, count);
      return zones;
    }
  }
}

/**
 * Apply updates in order. Every update carries absolute values, so laying the ones received while GET /zones
 * was under way over its reply (which may predate some of them) ends at the latest state. `missing`: zones the
 * socket says exist that the panel has no settings for (only the zone list has them): fetch it.
 */
export function replayZoneUpdates(
  current: readonly Zone[],
  updates: readonly ZoneUpdate[],
): { zones: readonly Zone[]; missing: string[] } {
  let zones = current;
  const named = new Set<string>();
  for (const update of updates) {
    zones = applyZoneUpdate(zones, update);
    if (update.type === "zones") {
      named.clear();
      for (const count of update.zones) named.add(count.zone);
    } else if (update.type === "zone-removed") named.delete(update.zone);
    else named.add(update.type === "zone" ? update.zone.name : update.zone);
  }
  const missing = [...named].filter((name) => !zones.some((z) => z.name === name));
  return { zones, missing };
}

/** "57 / 120", or "57" for a zone without a capacity. */
export function occupancyText(zone: Pick<Zone, "count" | "capacity">): string {
  return zone.capacity === null ? String(zone.count) : `${zone.count} / ${zone.capacity}`;
}

/**
 * The hello's `site`; null when missing or when its time zone is not one this browser knows (times are then
 * shown in the browser's zone rather than not at all). The zone is kept as the browser spells it.
 */
export function siteOf(v: unknown): SiteInfo | null {
  if (!isObject(v)) return null;
  const timeZone = knownTimeZone(v.timeZone);
  if (timeZone === null) return null;
  return { name: typeof v.name === "string" ? v.name : "", timeZone };
}

/** Parse one socket frame; null for anything malformed or of a type this panel does not know. */
export function parseMessage(data: unknown): LiveMessage | null {
  if (typeof data !== "string") return null;
  let msg: unknown;
  try {
    msg = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(msg)) return null;
  switch (msg.type) {
    case "hello": {
      if (!Array.isArray(msg.lanes) || !Array.isArray(msg.io)) return null;
      const site = siteOf(msg.site);
      return {
        type: "hello",
        lanes: lanesOf(msg.lanes),
        io: msg.io.filter(isIo),
        cameras: Array.isArray(msg.cameras) ? msg.cameras.filter(isCameraStatus).map(cameraStatusOf) : null,
        // Only a controller with operator approval sends them; absent = that controller asks nothing.
        ...(Array.isArray(msg.approvals)
          ? { approvals: msg.approvals.map(approvalOf).filter((a): a is ApprovalRequest => a !== null) }
          : {}),
        ...(Array.isArray(msg.zones)
          ? { zones: msg.zones.map(zoneCountOf).filter((z): z is ZoneCount => z !== null) }
          : {}),
        ...(site ? { site } : {}),
      };
    }
    case "occupancy": {
      const update = zoneCountOf(msg);
      return update ? { type: "occupancy", ...update } : null;
    }
    case "zone": {
      const zone = zoneOf(msg.zone);
      return zone ? { type: "zone", zone } : null;
    }
    case "zone-removed":
      return typeof msg.zone === "string" && msg.zone !== ""
        ? { type: "zone-removed", zone: msg.zone }
        : null;
    case "approval": {
      const request = approvalOf(msg);
      return request ? { type: "approval", ...request } : null;
    }
    case "approval-resolved":
      return typeof msg.id === "number" ? { type: "approval-resolved", id: msg.id } : null;
    case "camera":
      return isCameraStatus(msg.camera) ? { type: "camera", camera: cameraStatusOf(msg.camera) } : null;
    case "decision":
      return isEvent(msg.event) ? { type: "decision", event: msg.event } : null;
    case "io":
      return isIo(msg)
        ? { type: "io", name: msg.name, kind: msg.kind, state: msg.state, changedAt: msg.changedAt }
        : null;
    case "barrier": {
      const update = barrierUpdateOf(msg);
      return update ? { type: "barrier", ...update } : null;
    }
    case "outbox": {
      const target = outboxTargetOf(msg.target);
      return target ? { type: "outbox", target } : null;
    }
    default:
      return null;
  }
}
