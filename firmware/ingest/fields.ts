/** Shared field readers for camera payloads: each throws IngestError naming the field. */

import { normalisePlate, type Plate, PlateError } from "../domain/plate.js";
import { zoneOffsetMs } from "../util/time.js";
import { type ImageKind, IngestError, MAX_IMAGE_BYTES, type ReadImage } from "./types.js";

export function requireObject(body: unknown, path = "body"): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new IngestError(
      path,
      `expected a JSON object, got ${body === null ? "null" : Array.isArray(body) ? "an array" : typeof body}`,
    );
  return body as Record<string, unknown>;
}

/** The first of `names` present in `obj` (vendors renamed fields between firmware generations). */
export function pick(
  obj: Record<string, unknown>,
  names: readonly string[],
): { name: string; value: unknown } | null {
  for (const name of names)
    if (obj[name] !== undefined && obj[name] !== null) return { name, value: obj[name] };
  return null;
}

export function plateField(obj: Record<string, unknown>, names: readonly string[]): Plate {
  const found = pick(obj, names);
  if (!found) throw new IngestError(`body.${names[0]}`, "missing: the read carries no plate");
  if (typeof found.value !== "string")
    throw new IngestError(`body.${found.name}`, `expected a string, got ${typeof found.value}`);
  return plateAt(found.value, `body.${found.name}`);
}

/** Normalise plate text taken from `path` of a payload; a bad plate becomes an IngestError naming the path. */
export function plateAt(text: string, path: string): Plate {
  try {
    return normalisePlate(text);
  } catch (err) {
    if (err instanceof PlateError) throw new IngestError(path, err.message);
    throw err;
  }
}

/** Confidence as 0–100. Accepts numbers, "93", "93%", and 0–1 fractions; "-" or "" mean none. */
export function confidenceField(obj: Record<string, unknown>, names: readonly string[]): number | null {
  const found = pick(obj, names);
  if (!found) return null;
  let value = found.value;
  if (typeof value === "string") {
    const text = value.trim().replace(/%$/, "");
    if (text === "" || text === "-") return null;
    value = Number(text);
  }
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 100)
    throw new IngestError(`body.${found.name}`, "expected a confidence between 0 and 100");
  return value <= 1 && !Number.isInteger(value) ? value * 100 : value;
}

export function optionalString(
  obj: Record<string, unknown>,
  names: readonly string[],
  maxLength = 256,
): string | null {
  const found = pick(obj, names);
  if (!found) return null;
  if (typeof found.value !== "string" && typeof found.value !== "number")
    throw new IngestError(`body.${found.name}`, `expected a string, got ${typeof found.value}`);
  const text = String(found.value);
  if (text.length > maxLength)
    throw new IngestError(`body.${found.name}`, `longer than ${maxLength} characters`);
  return text;
}

const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,6}))?$/;

/**
 * A camera timestamp to epoch ms. ISO 8601 with a zone is exact; a zone-less local time (as Milesight
 * sends) is read in the site's time zone. Returns null when the text is not a time at all.
 */
export function parseCameraTime(text: string, timeZone: string): number | null {
  const local = LOCAL_TIME.exec(text.trim());
  if (!local) {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? null : ms;
  }
  // Read group by group (no intermediate arrays): every push with a camera time passes here.
  const fraction = local[7];
  const ms = fraction === undefined ? 0 : Math.round(Number(`0.${fraction}`) * 1000);
  const asUtc = Date.UTC(
    Number(local[1]),
    Number(local[2]) - 1,
    Number(local[3]),
    Number(local[4]),
    Number(local[5]),
    Number(local[6]),
    ms,
  );
  if (Number.isNaN(asUtc)) return null;
  return asUtc - zoneOffsetMs(asUtc, timeZone);
}

/** Keep scalar vendor fields, bounded, so an event's extras stay small. */
export function scalarExtras(
  obj: Record<string, unknown>,
  names: Record<string, readonly string[]>,
): Record<string, string | number | boolean> {
  const extras: Record<string, string | number | boolean> = {};
  for (const key in names) {
    const found = pick(obj, names[key] as readonly string[]);
    if (!found) continue;
    const v = found.value;
    if (typeof v === "number" && Number.isFinite(v)) extras[key] = v;
    else if (typeof v === "boolean") extras[key] = v;
    else if (typeof v === "string" && v !== "" && v !== "-") extras[key] = v.slice(0, 128);
  }
  return extras;
}

/** File extension for a picture: from its bytes (JPEG/PNG magic), else its MIME type, else "jpg". */
export function imageExt(data: Buffer, contentType = ""): string {
  if (data[0] === 0x89 && data[1] === 0x50 && data[2] === 0x4e && data[3] === 0x47) return "png";
  if (data[0] === 0xff && data[1] === 0xd8) return "jpg";
  const sub = /^image\/([a-z0-9.+-]+)/i.exec(contentType)?.[1]?.toLowerCase();
  return sub === "jpeg" || sub === undefined ? "jpg" : sub.replace(/[^a-z0-9]/g, "").slice(0, 8) || "jpg";
}

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}\s*$/;

/** A base64 picture (optionally a `data:` URI) at `path`, decoded and bounded; "" and null mean none. */
export function base64Image(value: unknown, path: string, kind: ImageKind): ReadImage | null {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value !== "string") throw new IngestError(path, "expected a base64 string");
  const text = value.startsWith("data:") ? value.slice(value.indexOf(",") + 1) : value;
  if (text.length > (MAX_IMAGE_BYTES / 3) * 4 + 8)
    throw new IngestError(path, `picture larger than ${MAX_IMAGE_BYTES} bytes`);
  const data = Buffer.from(text, "base64");
  // Node skips characters that are not base64; a decoded length short of what the text promises means it
  // skipped some. Only then is the (slower) pattern checked, which allows the line breaks MIME puts in.
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  if (data.length !== Math.floor((text.length * 3) / 4) - padding && !BASE64.test(text))
    throw new IngestError(path, "not valid base64");
  if (data.length === 0) return null;
  return { kind, ext: imageExt(data), data };
}
