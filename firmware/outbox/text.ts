/** Text a network action builds from an event: `{placeholder}` templates and US-ASCII folding. */
import type { EventView } from "../events.js";

/** Placeholders every text template may use. */
export const PLACEHOLDERS = [
  "plate",
  "plateRaw",
  "decision",
  "reason",
  "list",
  "lane",
  "camera",
  "direction",
  "confidence",
  "event",
  "time",
] as const;

export const placeholderHelp = `placeholders: ${PLACEHOLDERS.map((p) => `{${p}}`).join(" ")}`;

/** Fill `{name}` placeholders from the event; unknown names are left as written. */
export function fill(template: string, event: EventView): string {
  const values: Record<(typeof PLACEHOLDERS)[number], string> = {
    plate: event.plate,
    plateRaw: event.plateRaw,
    decision: event.decision,
    reason: event.reason,
    list: event.listName ?? "",
    lane: event.laneId,
    camera: event.cameraId,
    direction: event.direction ?? "",
    confidence: event.confidence === null ? "" : String(event.confidence),
    event: String(event.id),
    time: event.receivedAt,
  };
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(values, name) ? values[name as keyof typeof values] : whole,
  );
}

/** US-ASCII only: letters lose their accents (Ü → U, ß → ss), anything else unprintable becomes '?'. */
export function toAscii(text: string): string {
  return text
    .replace(/ß/g, "ss")
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^\x20-\x7e]/g, "?");
}
