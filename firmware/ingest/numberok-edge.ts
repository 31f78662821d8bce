/**
 * NumberOk EDGE on Hanwha cameras, "JSON over HTTP(s)" (specs/001): a multipart POST whose JSON part
 * describes the read, with the plate or frame image beside it; a bare JSON body is read the same way.
 * The plate comes from `plateUnicode` (raw Unicode, e.g. German umlauts), else the deprecated `plateText`,
 * else `plateASCII`; both the Unicode and the ASCII forms are kept.
 */

import { optionalString, parseCameraTime, plateAt, requireObject } from "./fields.js";
import { MultipartBody } from "./multipart.js";
import { type Direction, IngestError, type PlateRead, type PushAdapter, type ReadImage } from "./types.js";

/** The spec documents the plate as "escaped Unicode": decode literal \uXXXX sequences left after JSON parsing. */
function unescapeUnicode(text: string): string {
  return text.replace(/\\u([0-9a-fA-F]{4})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/** "20181212 163419000" (+ optional "+0200"), the EDGE format, or ISO 8601 as in the spec's example. */
const EDGE_TIME = /^(\d{4})(\d{2})(\d{2}) (\d{2})(\d{2})(\d{2})(\d{0,3})\d*([+-]\d{2}:?\d{2})?$/;

function edgeTime(text: string): number | null {
  const m = EDGE_TIME.exec(text.trim());
  if (!m) {
    // ISO 8601 with a "+0200" offset, which Date.parse does not take without the colon.
    const iso = text.trim().replace(/([+-]\d{2})(\d{2})$/, "$1:$2");
    return parseCameraTime(iso, "UTC");
  }
  const [, y, mo, d, h, mi, s, ms = "", offset] = m;
  const zone = offset ? offset.replace(/^([+-]\d{2}):?(\d{2})$/, "$1:$2") : "Z";
  const parsed = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms.padEnd(3, "0")}${zone}`);
  return Number.isNaN(parsed) ? null : parsed;
}

function documentOf(body: unknown): { doc: Record<string, unknown>; images: ReadImage[] } {
  if (body instanceof MultipartBody) {
    const part = body.jsonPart();
    if (!part) throw new IngestError("body", "multipart body has no JSON part");
    let parsed: unknown;
    try {
      parsed = JSON.parse(part.data.toString("utf8"));
    } catch (err) {
      throw new IngestError(`body.${part.name}`, `not valid JSON: ${(err as Error).message}`);
    }
    return { doc: requireObject(parsed, `body.${part.name}`), images: body.images() };
  }
  return { doc: requireObject(body), images: [] };
}

const DIRECTIONS: Record<string, Direction> = { in: "in", out: "out" };
/** `carState` is "reserved" in the spec but sent as "new" by the example; NEW/UPDATE/LOST as the cycle goes. */
const PHASES: Record<string, PlateRead["phase"]> = { new: "new", update: "update", lost: "lost" };

/** EDGE sends confidence as a 0–1 fraction in a string ("0.719640"); 1.0 is 100 %, not 1 %. */
function confidence(doc: Record<string, unknown>): number | null {
  const text = optionalString(doc, ["plateConfidence"], 32);
  if (text === null || text.trim() === "") return null;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 1)
    throw new IngestError("body.plateConfidence", "expected a fraction between 0 and 1");
  return Math.round(value * 10_000) / 100;
}

export const adapter: PushAdapter = {
  kind: "push",
  protocol: "numberok-edge",
  parse(body: unknown): PlateRead {
    const { doc, images } = documentOf(body);
    // The image beside the document is the plate crop or the whole frame, as `imageType` says.
    const imageKind = doc.imageType === "plate" ? "plate" : "full";
    for (const image of images) image.kind = imageKind;
    const field = ["plateUnicode", "plateText", "plateASCII"].find(
      (k) => typeof doc[k] === "string" && doc[k] !== "",
    );
    if (!field) throw new IngestError("body.plateUnicode", "missing: the read carries no plate");
    const plate = plateAt(unescapeUnicode(doc[field] as string), `body.${field}`);
    const cameraTimeRaw = optionalString(doc, ["datetimezone", "datetime", "timeDetection"], 64);
    const extras: PlateRead["extras"] = {};
    const keep = (key: string, names: string[]): void => {
      const value = optionalString(doc, names, 128);
      if (value !== null && value !== "" && value !== "unknown") extras[key] = value;
    };
    keep("plateAscii", ["plateASCII"]);
    keep("country", ["plateCountry"]);
    keep("carState", ["carState"]);
    keep("verticalDirection", ["carVerticalDirection"]);
    keep("sensorProviderId", ["sensorProviderID"]);
    keep("packetCounter", ["packetCounter"]);
    keep("recognitionZone", ["recognitionZone"]);
    keep("imageType", ["imageType"]);
    const direction = optionalString(doc, ["carMoveDirection"]);
    return {
      plate,
      confidence: confidence(doc),
      direction: direction === null ? null : (DIRECTIONS[direction] ?? null),
      cameraTimeRaw,
      cameraTime: cameraTimeRaw === null ? null : edgeTime(cameraTimeRaw),
      cameraHint: null,
      phase: PHASES[optionalString(doc, ["carState"]) ?? ""] ?? null,
      extras,
      images,
    };
  },
};
