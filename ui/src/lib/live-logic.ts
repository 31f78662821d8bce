/** Pure helpers behind the live store: no DOM, no Svelte, easy to reason about. */
import type {
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

/** The worst tone among the cameras (a disabled camera needs no attention), for the Cameras tab. */
export function worstTone(cameras: readonly Camera[], now: number): Tone {
  let worst: Tone = "off";
  for (const c of cameras) {
    const tone = cameraTone(c.status, now);
    if (TONE_RANK[tone] > TONE_RANK[worst]) worst = tone;
  }
  return worst;
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

function isIo(v: unknown): v is IoItem {
  return (
    isObject(v) &&
    typeof v.name === "string" &&
    (v.kind === "input" || v.kind === "output") &&
    (v.state === "active" || v.state === "inactive") &&
    typeof v.changedAt === "string"
  );
}

function isLane(v: unknown): v is Lane {
  return isObject(v) && typeof v.id === "string" && typeof v.name === "string";
}

const CAMERA_STATES: readonly string[] = [
  "disabled",
  "idle",
  "receiving",
  "connecting",
  "connected",
  "disconnected",
] satisfies CameraState[];

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;
const isStringOrNull = (v: unknown): v is string | null => v === null || typeof v === "string";

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
    case "hello":
      if (!Array.isArray(msg.lanes) || !Array.isArray(msg.io)) return null;
      return {
        type: "hello",
        lanes: msg.lanes.filter(isLane),
        io: msg.io.filter(isIo),
        cameras: Array.isArray(msg.cameras) ? msg.cameras.filter(isCameraStatus).map(cameraStatusOf) : null,
      };
    case "camera":
      return isCameraStatus(msg.camera) ? { type: "camera", camera: cameraStatusOf(msg.camera) } : null;
    case "decision":
      return isEvent(msg.event) ? { type: "decision", event: msg.event } : null;
    case "io":
      return isIo(msg)
        ? { type: "io", name: msg.name, kind: msg.kind, state: msg.state, changedAt: msg.changedAt }
        : null;
    default:
      return null;
  }
}
