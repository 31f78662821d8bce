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
  | { type: "hello"; lanes: Lane[]; io: IoItem[] }
  | { type: "decision"; event: DecisionEvent }
  | ({ type: "io" } & IoItem);
