/** An EventView as the API shows it, for unit tests of what network actions make of an event. */
import type { EventView } from "../../firmware/events.js";

export function eventView(over: Partial<EventView> = {}): EventView {
  return {
    id: 42,
    plate: "AB123CD",
    plateRaw: "AB-123-CD",
    cameraId: "cam1",
    laneId: "1",
    protocol: "milesight-http",
    decision: "allow",
    reason: "on list Allow",
    listId: 1,
    listName: "Allow",
    listKind: "allow",
    entryId: 7,
    explanation: null,
    confidence: 94,
    direction: "in",
    cameraTimeRaw: null,
    cameraTime: null,
    receivedAt: "2025-03-01T07:15:02.120Z",
    relayAt: "2025-03-01T07:15:02.121Z",
    latencyMs: 1,
    extras: {},
    ...over,
  };
}
