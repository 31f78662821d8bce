/**
 * The generic JSON webhook, for scripts and cameras without a vendor adapter:
 * `{ "plate": "AB-123-CD", "camera"?: "cam1", "confidence"?: 0–100, "direction"?: "in"|"out"|"approach"|"away",
 *    "time"?: ISO 8601 or epoch ms, "country"?: "NL", "phase"?: "new"|"update"|"lost", "extras"?: { …scalars } }`
 */
import { confidenceField, optionalString, parseCameraTime, plateField, requireObject } from "./fields.js";
import { type Direction, IngestError, type PlateRead, type PushAdapter } from "./types.js";

const DIRECTIONS: readonly Direction[] = ["in", "out", "approach", "away"];
const KNOWN = new Set(["plate", "camera", "confidence", "direction", "time", "country", "phase", "extras"]);
const PHASES: readonly NonNullable<PlateRead["phase"]>[] = ["new", "update", "lost"];

function phaseOf(obj: Record<string, unknown>): PlateRead["phase"] {
  const phase = optionalString(obj, ["phase"]);
  if (phase === null) return null;
  if (!PHASES.includes(phase as NonNullable<PlateRead["phase"]>))
    throw new IngestError("body.phase", `expected one of ${PHASES.join(", ")}`);
  return phase as NonNullable<PlateRead["phase"]>;
}

export const adapter: PushAdapter = {
  kind: "push",
  protocol: "generic",
  parse(body: unknown, siteTimeZone: string): PlateRead {
    const obj = requireObject(body);
    for (const key of Object.keys(obj))
      if (!KNOWN.has(key)) throw new IngestError(`body.${key}`, "unknown field");
    const plate = plateField(obj, ["plate"]);
    const direction = optionalString(obj, ["direction"]);
    if (direction !== null && direction !== "unknown" && !DIRECTIONS.includes(direction as Direction))
      throw new IngestError("body.direction", `expected one of ${DIRECTIONS.join(", ")}`);
    let cameraTimeRaw: string | null = null;
    let cameraTime: number | null = null;
    if (obj.time !== undefined) {
      if (typeof obj.time === "number" && Number.isFinite(obj.time)) {
        cameraTimeRaw = String(obj.time);
        cameraTime = obj.time;
      } else if (typeof obj.time === "string") {
        cameraTimeRaw = obj.time.slice(0, 64);
        cameraTime = parseCameraTime(obj.time, siteTimeZone);
        if (cameraTime === null)
          throw new IngestError("body.time", "expected an ISO 8601 time or epoch milliseconds");
      } else throw new IngestError("body.time", "expected an ISO 8601 time or epoch milliseconds");
    }
    const extras: Record<string, string | number | boolean> = {};
    const country = optionalString(obj, ["country"], 8);
    if (country) extras.country = country;
    if (obj.extras !== undefined) {
      const given = requireObject(obj.extras, "body.extras");
      const entries = Object.entries(given);
      if (entries.length > 32) throw new IngestError("body.extras", "more than 32 fields");
      for (const [key, value] of entries) {
        if (key.length > 64) throw new IngestError("body.extras", "field names are at most 64 characters");
        if (typeof value === "string") extras[key] = value.slice(0, 256);
        else if ((typeof value === "number" && Number.isFinite(value)) || typeof value === "boolean")
          extras[key] = value;
        else throw new IngestError(`body.extras.${key}`, "expected a string, number or boolean");
      }
    }
    return {
      plate,
      confidence: confidenceField(obj, ["confidence"]),
      direction: direction === null || direction === "unknown" ? null : (direction as Direction),
      cameraTimeRaw,
      cameraTime,
      cameraHint: optionalString(obj, ["camera"], 64),
      phase: phaseOf(obj),
      extras,
      images: [],
    };
  },
};
