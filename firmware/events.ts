/** The event as the API, the live socket and the panel see it (one shape everywhere). */
import type { EventRow } from "./store/events-repo.js";
import { isoTime } from "./util/time.js";

export interface EventView {
  id: number;
  plate: string;
  plateRaw: string;
  cameraId: string;
  laneId: string;
  protocol: string;
  decision: "allow" | "deny";
  reason: string;
  listId: number | null;
  listName: string | null;
  listKind: string | null;
  entryId: number | null;
  explanation: unknown;
  confidence: number | null;
  direction: string | null;
  cameraTimeRaw: string | null;
  cameraTime: string | null;
  receivedAt: string;
  relayAt: string | null;
  latencyMs: number | null;
  extras: Record<string, unknown>;
}

const iso = (ms: number | null | undefined): string | null => (ms == null ? null : isoTime(ms));

/**
 * `explanation` and `extras` may be passed when the caller still holds the objects the row's JSON was made
 * from, saving two parses on the decision path.
 */
export function toEventView(
  row: EventRow,
  explanation?: unknown,
  extras?: Record<string, unknown>,
): EventView {
  return {
    id: row.id,
    plate: row.plate,
    plateRaw: row.plateRaw,
    cameraId: row.cameraId,
    laneId: row.laneId,
    protocol: row.protocol,
    decision: row.decision,
    reason: row.reason,
    listId: row.listId,
    listName: row.listName,
    listKind: row.listKind,
    entryId: row.entryId,
    explanation: explanation ?? JSON.parse(row.explanation),
    confidence: row.confidence,
    direction: row.direction,
    cameraTimeRaw: row.cameraTimeRaw,
    cameraTime: iso(row.cameraTime),
    receivedAt: iso(row.receivedAt) as string,
    relayAt: iso(row.relayAt),
    latencyMs: row.latencyMs,
    extras: extras ?? (row.extras ? (JSON.parse(row.extras) as Record<string, unknown>) : {}),
  };
}
