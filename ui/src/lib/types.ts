/** Wire types of the controller's API (/api/v1). Keep in step with the controller's schemas. */

export type IoKind = "input" | "output";
export type IoLevel = "active" | "inactive";

export type BarrierState = "closed" | "opening" | "open" | "held" | "closing" | "fault" | "unknown";
export type BarrierPosition = Exclude<BarrierState, "fault">;

export interface BarrierFault {
  /** open-timeout, closed-on-vehicle, limits-both, serial (or a newer code). */
  code: string;
  /** What went wrong, for the guard. */
  message: string;
  since: string;
}

/** A lane's barrier as GET /lanes and the hello carry it; `barrier` messages update its first four fields. */
export interface Barrier {
  /** The arm's position, or `fault` while a fault is active. */
  state: BarrierState;
  /** Where the arm is (or is believed to be), also while faulted. */
  position: BarrierPosition;
  fault: BarrierFault | null;
  /** ISO timestamp of the last change of `state`. */
  since: string;
  /** A close waits for the vehicle to clear the presence loop. */
  closePending: boolean;
  /** Vehicles let through that have not passed yet. */
  expected: number;
  canClose: boolean;
  canHold: boolean;
}

export interface Lane {
  id: string;
  name: string;
  /** Output pulsed to open; null on a lane opened only through its serial barrier controller. */
  barrierOutput: string | null;
  presenceInput: string | null;
  /** Serial device of the barrier controller, if any. */
  serialPath: string | null;
  /** Null when the controller sent none (an older controller) or sent one the panel cannot read. */
  barrier: Barrier | null;
}

/** A `barrier` socket message: the barrier's state changed. */
export interface BarrierUpdate {
  lane: string;
  state: BarrierState;
  position: BarrierPosition;
  fault: BarrierFault | null;
  since: string;
}

export type OutboxTargetState = "up" | "down" | "unknown" | "unconfigured";

/** One integration (network action) of GET /outbox/targets and of `outbox` socket messages. */
export interface OutboxTarget {
  /** The action's id. */
  target: string;
  /** Action type (http-webhook, nvr-text, …); null once no action has this id. */
  type: string | null;
  /** up: the last attempt reached the peer; down: it did not; unknown: nothing sent yet. */
  state: OutboxTargetState;
  /** Messages not yet delivered. */
  pending: number;
  oldestPendingAgeMs: number | null;
  lastError: string | null;
  lastErrorAt: string | null;
  lastSentAt: string | null;
  nextAttemptAt: string | null;
}

export interface IoItem {
  name: string;
  kind: IoKind;
  state: IoLevel;
  /** ISO timestamp of the last transition. */
  changedAt: string;
}

export interface DecisionEvent {
  id: number;
  /** Normalised plate. Personal data: never log it or put it in a URL. */
  plate: string;
  /** The text the camera read. Personal data. */
  plateRaw: string;
  laneId: string;
  cameraId: string;
  decision: "allow" | "deny";
  listName: string | null;
  listKind: "allow" | "block" | "custom" | null;
  reason: string;
  confidence: number | null;
  direction: string | null;
  receivedAt: string;
  relayAt: string | null;
  latencyMs: number | null;
}

export type CameraState = "disabled" | "idle" | "receiving" | "connecting" | "connected" | "disconnected";

/** A camera's live status: in GET /cameras, the live hello (`cameras`) and `camera` messages. */
export interface CameraStatus {
  id: string;
  protocol: string;
  /** push: the camera posts to the controller; link: the controller holds a connection to it. */
  transport: "push" | "link";
  state: CameraState;
  detail: string | null;
  /** ISO timestamp of the last state change. */
  since: string;
  lastReadAt: string | null;
  reads: number;
  /** Reads in the 60 s before the status was sent. */
  readsPerMinute: number;
  errors: number;
  lastError: { at: string; message: string } | null;
}

/** One item of GET /cameras (only the fields the panel uses; secrets are never sent). */
export interface CameraItem {
  id: string;
  name?: string;
  protocol: string;
  lane: string;
  enabled: boolean;
  status: CameraStatus;
}

/** What the panel shows per camera: the status always, the configuration once the REST list has it. */
export interface Camera {
  id: string;
  name: string | null;
  /** Lane id; null until GET /cameras has answered for a camera first seen on the socket. */
  lane: string | null;
  status: CameraStatus;
}

export type ImageKind = "plate" | "full" | "evidence";

/** One stored picture of an event (GET /events/{id}/images). `path` holds the plate: never show or log it. */
export interface EventImage {
  id: number;
  kind: ImageKind;
  bytes: number;
  /** API path of the bytes, relative to the controller's root; needs the bearer token. */
  url: string;
}

/** The site the controller serves (live hello `site`, GET /health `site`). */
export interface SiteInfo {
  name: string;
  /** IANA zone the controller writes its reasons' times in (e.g. "Europe/Amsterdam"). */
  timeZone: string;
}

export interface Health {
  status: string;
  version: string;
  /** Absent from an older controller. */
  site?: SiteInfo;
}

export interface OpenResult {
  lane: string;
  /** Relay pulse width; 0 on a serial-only lane. */
  pulseMs: number;
  barrier?: unknown;
}

/** Reply of POST /lanes/{id}/hold, /release and /close (`deferred` on close only). */
export interface BarrierCommandResult {
  lane: string;
  barrier?: unknown;
  /** Close only: true while the close waits for the vehicle to clear the loop. */
  deferred?: boolean;
}

export type BarrierCommand = "hold" | "release" | "close";

export interface Items<T> {
  items: T[];
}

/** A pending operator approval request (GET /approvals, live topic `approval`); `id` is its event's id. */
export interface ApprovalRequest {
  id: number;
  lane: string;
  plate: string;
  reason: string;
  eventId: number;
  askedAt: string;
  expiresAt: string;
  /** Default hours of "approve + pass"; null when the controller has no pass list for it. */
  passHours: number | null;
}

export type ApprovalOutcome = "approve" | "approve-pass" | "deny";

/** `unknown`: the controller sent a mode this panel does not know. */
export type AntiPassback = "off" | "soft" | "hard" | "unknown";

/** A zone of GET /zones and of `zone` socket messages (only the fields the panel uses; lanes, loops are not). */
export interface Zone {
  name: string;
  /** Vehicles inside: entries − exits of passages the barrier opened for. */
  count: number;
  /** Null: unlimited. */
  capacity: number | null;
  /** The count has reached the capacity (as the controller says; worked out when it does not). */
  full: boolean;
  /** Plates marked inside for anti-passback, not yet forgotten. */
  inside: number;
  antiPassback: AntiPassback;
  /** A plate marked inside is forgotten this long after it entered; null when not sent. */
  resetAfterMs: number | null;
  /** Who is refused entry while full (`unknown`: a value this panel does not know). */
  fullDenies: "visitors" | "all" | "none" | "unknown";
  countVisitorsOnly: boolean;
}

/** An `occupancy` socket message, and each item of the hello's `zones`. */
export interface ZoneCount {
  zone: string;
  count: number;
  capacity: number | null;
  full: boolean;
  /** Plates marked inside; null when the controller did not say (the panel keeps what it has). */
  inside: number | null;
}

/** What changes the panel's zones: the `occupancy` topic's messages and the hello's `zones` (the whole set). */
export type ZoneUpdate =
  | ({ type: "occupancy" } & ZoneCount)
  | { type: "zone"; zone: Zone }
  | { type: "zone-removed"; zone: string }
  | { type: "zones"; zones: ZoneCount[] };

export type LiveMessage =
  /** `cameras` is null when the controller sent none (an older controller). */
  | {
      type: "hello";
      lanes: Lane[];
      io: IoItem[];
      cameras: CameraStatus[] | null;
      /** Pending approval requests; absent from a controller without operator approval. */
      approvals?: ApprovalRequest[];
      /** Each zone's count; absent from a controller without zones. */
      zones?: ZoneCount[];
      /** The site's name and time zone; absent from an older controller (or one whose zone is unknown here). */
      site?: SiteInfo;
    }
  | ({ type: "occupancy" } & ZoneCount)
  | { type: "zone"; zone: Zone }
  | { type: "zone-removed"; zone: string }
  | ({ type: "approval" } & ApprovalRequest)
  | { type: "approval-resolved"; id: number }
  | { type: "camera"; camera: CameraStatus }
  | { type: "decision"; event: DecisionEvent }
  | ({ type: "io" } & IoItem)
  | ({ type: "barrier" } & BarrierUpdate)
  | { type: "outbox"; target: OutboxTarget };

// ---- The explanation of a decision (GET /events/{id}: `explanation`) ------------------------------------
// Copied from the controller (firmware/gate.ts `Explanation`, firmware/domain/*.ts, firmware/approvals.ts):
// keep in step. The panel reads it defensively (lib/why.ts): any part may be missing from an older controller.

/** One edit of a fuzzy match, turning the read plate into the listed one (`at`: 0-based in the read plate). */
export type PlateEdit =
  | { op: "substitute"; at: number; from: string; to: string; cost: number }
  | { op: "insert"; at: number; char: string; cost: number }
  | { op: "delete"; at: number; char: string; cost: number };

export type MatchKind = { kind: "exact" } | { kind: "fuzzy"; distance: number; edits: PlateEdit[] };

export type ListKind = "allow" | "block" | "custom";

/** A list match in force, as the explanation lists them: best first. */
export interface ExplainedMatch {
  listId: number;
  listName: string;
  kind: ListKind;
  entryId: number;
  /** The listed plate (personal data). */
  plate: string;
  match: MatchKind;
  /** The list's priority in force (its own or its kind's default). */
  priority: number;
}

export type BuiltInList = "any-plate" | "not-in-list";

/** A schedule's state at the decision (firmware/domain/schedule.ts `Explanation`, schedule-book.ts). */
export type ScheduleState = {
  active: boolean;
  schedule: string;
  /** What made it so; `unknown-schedule`: the controller has no schedule of that name. */
  by:
    | "window"
    | "holiday-window"
    | "holiday-closed"
    | "holiday-outside"
    | "outside-windows"
    | "unknown-schedule";
  /** Local wall time of the decision (absent for an unknown schedule). */
  local?: { date: string; weekday: string; time: string };
  window?: { index: number; days: string; from: string; to: string; startedOn: string };
  holiday?: { date: string; entries: { calendar: string; name: string | null }[]; windows: string };
  reason: string;
  /** Bound to the list or to the entry. */
  of: "list" | "entry";
};

/** Why an allow entry that would have decided did not count. */
export type NotInForceReason = "expired" | "not-yet-valid" | "schedule" | "lane" | "used-up";

export interface NotInForce {
  listId: number;
  listName: string;
  kind: ListKind;
  entryId: number;
  plate: string;
  because: NotInForceReason;
}

/** The pass of the decisive entry (or of `notInForce`'s): firmware/domain/passes.ts `PassState`. */
export interface PassState {
  entryId: number;
  /** null = unlimited visits. */
  maxVisits: number | null;
  /** Visits used before this decision. */
  visitsUsed: number;
  /** Lanes and lane groups the entry is valid on; null = every lane. */
  lanes: string[] | null;
  /** This decision used a visit. */
  consumes: boolean;
}

/** The zone check of a passage (firmware/domain/presence.ts `PresenceCheck`) and whether it was applied. */
export interface PresenceExplanation {
  zone: string;
  movement: "entry" | "exit" | null;
  movementFrom: "lane" | "camera" | "read" | null;
  antiPassback: "off" | "soft" | "hard";
  /** Epoch ms the plate entered, if it was inside at the decision. */
  insideSince: number | null;
  count: number;
  capacity: number | null;
  full: boolean;
  veto: { reason: string; rule: "anti-passback" | "capacity" } | null;
  flag: { reason: string; rule: "anti-passback" | "exit-without-entry" | "clamped" } | null;
  effect: {
    zone: string;
    plate: string;
    movement: "entry" | "exit";
    at: number;
    countDelta: number;
    countAfter: number;
  } | null;
  /** The barrier opened for it: the effect was applied to the zone. */
  applied: boolean;
}

/** Operator approval (firmware/approvals.ts `ApprovalExplanation`). */
export type ApprovalExplanation =
  | { status: "pending"; asked: string; timeoutMs: number; onTimeout: "allow" | "deny" }
  | {
      status: "resolved";
      asked: string;
      outcome: ApprovalOutcome;
      by: "admin" | "timeout" | "restart";
      at: string;
      reason: string | null;
      passEntryId?: number;
    };

/** The chain that produced a decision, stored with its event. */
export interface Explanation {
  /** ISO decision time. */
  at: string;
  /** The decisive match's kind (kept when a zone veto empties `matches`). */
  match: MatchKind | null;
  matches: ExplainedMatch[];
  /** A zone vetoed the passage: the list match that decided before the veto. */
  overruled?: ExplainedMatch;
  builtIns: BuiltInList[];
  /** The schedules the decisive match (or `notInForce`) is bound to. */
  schedules: ScheduleState[];
  notInForce: NotInForce | null;
  presence?: PresenceExplanation | null;
  pass?: PassState;
  approval?: ApprovalExplanation;
}

/** GET /events/{id}: the event with the explanation of its decision. */
export interface EventWithExplanation extends DecisionEvent {
  explanation: unknown;
}
