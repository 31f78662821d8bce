/** Wire types of the controller's API (/api/v1). Keep in step with the controller's schemas. */

export type IoKind = "input" | "output";
export type IoLevel = "active" | "inactive";

export interface Lane {
  id: string;
  name: string;
  barrierOutput: string;
  presenceInput: string | null;
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

export interface Health {
  status: string;
  version: string;
}

export interface OpenResult {
  lane: string;
  pulseMs: number;
}

export interface Items<T> {
  items: T[];
}

export type LiveMessage =
  /** `cameras` is null when the controller sent none (an older controller). */
  | { type: "hello"; lanes: Lane[]; io: IoItem[]; cameras: CameraStatus[] | null }
  | { type: "camera"; camera: CameraStatus }
  | { type: "decision"; event: DecisionEvent }
  | ({ type: "io" } & IoItem);
