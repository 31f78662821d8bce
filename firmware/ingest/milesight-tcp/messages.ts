/**
 * Milesight LPR TCP messages (specs/002 §1): the JSON requests the controller sends, the camera's JSON
 * replies, the binary recognition post (a metadata chunk and image chunks) and the JSON event posts.
 * Pure; every parser throws IngestError or NotAPlateRead and nothing else, for any bytes.
 */
import { imageExt, plateAt } from "../fields.js";
import {
  type Direction,
  type ImageKind,
  IngestError,
  MAX_IMAGE_BYTES,
  NotAPlateRead,
  type PlateRead,
  type ReadImage,
} from "../types.js";
import { Command, encodeFrame } from "./frames.js";

export function encodeLogin(username: string, password: string): Buffer {
  return encodeFrame(Command.LOGIN_REQ, JSON.stringify({ id: username, password }));
}

/** Every feature: recognition posts need no registration, parking/counting/list/attributes/violation do. */
export function encodeRegister(): Buffer {
  return encodeFrame(Command.REGISTER_REQ, JSON.stringify({ registerAll: 1 }));
}

/**
 * The `result` of a login or register reply as a number (200 OK, 401 no privileges). The spec's own
 * examples are not valid JSON (missing and trailing commas), so the field is also found by pattern.
 */
export function replyResult(data: Buffer, path: string): number {
  const text = data.subarray(0, 4096).toString("utf8");
  let result: unknown;
  try {
    result = (JSON.parse(text) as { result?: unknown })?.result;
  } catch {
    result = /["“”]result["“”]\s*:\s*["“”]?\s*(\d{3})/.exec(text)?.[1];
  }
  const code = typeof result === "string" ? Number(result.trim()) : result;
  if (typeof code !== "number" || !Number.isInteger(code))
    throw new IngestError(`${path}.result`, "missing: the reply carries no result code");
  return code;
}

// Chunk ids as the spec writes them, byte by byte: 11 FF 00 00 (metadata) and 22 FF 00 00 (image).
const META_CHUNK = 0x0000ff11;
const IMAGE_CHUNK = 0x0000ff22;
const CHUNK_HEADER = 8;
/** Plate, full and two evidence pictures are the most the spec describes; a little room beyond. */
export const MAX_IMAGES = 8;

export const COLORS = [
  "",
  "Black",
  "Blue",
  "Cyan",
  "Gray",
  "Green",
  "Red",
  "White",
  "Yellow",
  "Violet",
  "Orange",
];

export const VEHICLE_TYPES = [
  "",
  "car",
  "motor",
  "bus",
  "truck",
  "van",
  "suv",
  "forklift",
  "excavator",
  "towtruck",
  "Police-car",
  "fireengine",
  "ambulance",
  "bicycle",
  "E-bike",
  "other",
];

/** TRA_BRAND_ENUM in order, index 0 TRA_BRAND_UNKNOW. */
export const BRANDS = [
  "",
  ...`Audi|Aston Martin|Alfa Romeo|Buick|Mercedes-Benz|BMW|Honda|Peugeot|Porsche|Bentley|Bugatti|Volkswagen|Dodge|
Daewoo|Daihatsu|Toyota|Ford|Ferrari|Fiat|GMC|MITSUOKA|Haval|Geely|Jeep|Jaguar|Cadillac|Chrysler|Lexus|Land Rover|
Lincoln|Suzuki|Rolls-royce|Lamborghini|Renault|Mazda|MINI|Maserati|Maybach|Acura|Opel|Chery|Kia|Nissan|Skoda|
Mitsubishi|Subaru|Smart|Ssangyong|Tesla|Isuzu|Chevrolet|Citroen|Hyundai|Infinity|Mercury|Saturn|SAAB|LYNK&CO|
MorrisGarages|pagani|Spyker|BYD|McLaren|Koenigsegg|Volvo|Lancia|Shelby|Seat|CUPRA|Dacia|DS`
    .replace(/\n/g, "")
    .split("|"),
];

const PLATE_LIST_TYPES = ["", "Black", "White", "Visitor"];

/** A table entry by code: nothing for 0 (unknown), the bare code when the table has no name for it. */
function named(table: readonly string[], code: number): string | number | undefined {
  if (code === 0) return undefined;
  return table[code] || code;
}

/** A fixed-size UTF-8 field padded with NULs. */
function fixedText(buf: Buffer, at: number, length: number): string {
  const field = buf.subarray(at, at + length);
  const end = field.indexOf(0);
  return field
    .subarray(0, end === -1 ? field.length : end)
    .toString("utf8")
    .trim();
}

/**
 * The metadata chunk. The spec's layout (and its size, "112 + Number length") has a fixed 16-byte car
 * number after the time; another edition of the same article lists none. The layout whose total matches
 * the chunk size exactly wins; otherwise the spec's. Fields after the plate are read as far as they go
 * (older firmware sends fewer; newer may add more, which are ignored).
 */
export interface Metadata {
  deviceId: string;
  time: bigint;
  carNumber: string;
  vehicleColor: number;
  plateColor: number;
  speed: number;
  imageCount: number;
  direction: number;
  region: string;
  roi: number;
  plate: string;
  vehicleType?: number;
  confidence?: number;
  plateType?: number;
  distance?: number;
  azimuth?: number;
  vehicleCount?: number;
  width?: number;
  height?: number;
  box?: [number, number, number, number];
  brand?: number;
}

const FIXED_BEFORE_PLATE = 80; // GUID 16, time 8, car number 16, colours 2, speed 2, images 1, direction 1, region 32, ROI 1, length 1
const FIXED_AFTER_PLATE = 32; // type 1, confidence 4, plate type 1, distance 4, azimuth 4, count 4, size 4, box 8, brand 2
const CAR_NUMBER_BYTES = 16;

export function parseMetadata(meta: Buffer): Metadata {
  const path = "metadata";
  const fits = (carNumber: number): boolean => {
    const lengthAt = FIXED_BEFORE_PLATE - CAR_NUMBER_BYTES + carNumber - 1;
    return (
      meta.length > lengthAt &&
      meta.length ===
        FIXED_BEFORE_PLATE - CAR_NUMBER_BYTES + carNumber + (meta[lengthAt] ?? 0) + FIXED_AFTER_PLATE
    );
  };
  const carNumberBytes = !fits(CAR_NUMBER_BYTES) && fits(0) ? 0 : CAR_NUMBER_BYTES;
  const before = FIXED_BEFORE_PLATE - CAR_NUMBER_BYTES + carNumberBytes;
  if (meta.length < before)
    throw new IngestError(path, `${meta.length} bytes; the fields up to the plate length need ${before}`);
  let at = 24 + carNumberBytes;
  const m: Metadata = {
    deviceId: meta.subarray(0, 16).toString("hex"),
    time: meta.readBigUInt64LE(16),
    carNumber: carNumberBytes ? fixedText(meta, 24, CAR_NUMBER_BYTES) : "",
    vehicleColor: meta.readUInt8(at),
    plateColor: meta.readUInt8(at + 1),
    speed: meta.readUInt16LE(at + 2),
    imageCount: meta.readUInt8(at + 4),
    direction: meta.readUInt8(at + 5),
    region: fixedText(meta, at + 6, 32),
    roi: meta.readUInt8(at + 38),
    plate: "",
  };
  const plateLength = meta.readUInt8(at + 39);
  at += 40;
  if (meta.length < at + plateLength)
    throw new IngestError(`${path}.plate`, `plate length ${plateLength} runs past the chunk`);
  m.plate = meta
    .subarray(at, at + plateLength)
    .toString("utf8")
    .replace(/\0+$/, "")
    .trim();
  at += plateLength;
  // The optional tail, field by field, while the chunk has it; older firmware stops early.
  const next = <T>(size: number, read: (i: number) => T): T | undefined => {
    if (meta.length < at + size) {
      at = meta.length;
      return undefined;
    }
    at += size;
    return read(at - size);
  };
  m.vehicleType = next(1, (i) => meta.readUInt8(i));
  m.confidence = next(4, (i) => meta.readFloatLE(i));
  m.plateType = next(1, (i) => meta.readUInt8(i));
  m.distance = next(4, (i) => meta.readInt32LE(i));
  m.azimuth = next(4, (i) => meta.readFloatLE(i));
  m.vehicleCount = next(4, (i) => meta.readUInt32LE(i));
  m.width = next(2, (i) => meta.readUInt16LE(i));
  m.height = next(2, (i) => meta.readUInt16LE(i));
  m.box = next(8, (i) => [0, 2, 4, 6].map((d) => meta.readUInt16LE(i + d)) as Metadata["box"]);
  m.brand = next(2, (i) => meta.readUInt16LE(i));
  return m;
}

/** The chunks of a recognition post: exactly one metadata chunk and up to MAX_IMAGES image chunks. */
export function splitChunks(data: Buffer): { meta: Buffer; images: Buffer[] } {
  let meta: Buffer | null = null;
  const images: Buffer[] = [];
  let at = 0;
  for (let index = 0; at < data.length; index++) {
    const path = `chunk[${index}]`;
    if (data.length - at < CHUNK_HEADER)
      throw new IngestError(path, `${data.length - at} bytes left, a chunk header needs 8`);
    const id = data.readUInt32LE(at);
    const size = data.readUInt32LE(at + 4);
    at += CHUNK_HEADER;
    if (size > data.length - at)
      throw new IngestError(
        path,
        `chunk size ${size} runs past the message (${data.length - at} bytes left)`,
      );
    const body = data.subarray(at, at + size);
    at += size;
    if (id === META_CHUNK) {
      if (meta) throw new IngestError(path, "a second metadata chunk");
      meta = body;
    } else if (id === IMAGE_CHUNK) {
      if (size > MAX_IMAGE_BYTES) throw new IngestError(path, `picture larger than ${MAX_IMAGE_BYTES} bytes`);
      if (images.length === MAX_IMAGES) throw new IngestError(path, `more than ${MAX_IMAGES} pictures`);
      if (size > 0) images.push(body);
    } else {
      // Unknown chunk ids (newer firmware) are skipped: the size says where the next chunk starts.
    }
  }
  if (!meta) throw new IngestError("chunk[0]", "the recognition post has no metadata chunk (11 FF 00 00)");
  return { meta, images };
}

function direction(code: number): Direction | null {
  return code === 1 ? "in" : code === 2 ? "out" : null;
}

/** The float confidence as 0–100; fractions are scaled, float noise rounded away, nonsense dropped. */
function confidence(value: number | undefined): number | null {
  if (value === undefined || !Number.isFinite(value) || value < 0 || value > 100) return null;
  return Math.round((value <= 1 && value !== 0 ? value * 100 : value) * 10) / 10;
}

/** COMM_RECOG_POST → PlateRead. Pictures come plate, full, evidence… or, without a plate, full, evidence…. */
export function parseRecognition(data: Buffer): PlateRead {
  const { meta, images } = splitChunks(data);
  const m = parseMetadata(meta);
  const text = m.plate || m.carNumber;
  if (!text) throw new NotAPlateRead("Milesight recognition without a plate (no-plate event)");
  const plate = plateAt(text, m.plate ? "metadata.plate" : "metadata.carNumber");
  const kinds: ImageKind[] = ["plate", "full"];
  const readImages: ReadImage[] = images.map((image, i) => ({
    kind: kinds[i] ?? "evidence",
    ext: imageExt(image),
    // A copy: the frame's buffer may be a slice of a larger socket chunk.
    data: Buffer.from(image),
  }));
  const ms = Number(m.time);
  const extras: Record<string, string | number | boolean> = { deviceId: m.deviceId };
  const put = (key: string, value: string | number | undefined): void => {
    if (value !== undefined && value !== "") extras[key] = value;
  };
  put("plateColor", named(COLORS, m.plateColor));
  put("vehicleColor", named(COLORS, m.vehicleColor));
  put("vehicleType", m.vehicleType === undefined ? undefined : named(VEHICLE_TYPES, m.vehicleType));
  put("vehicleBrand", m.brand === undefined ? undefined : named(BRANDS, m.brand));
  put("cameraListType", m.plateType === undefined ? undefined : named(PLATE_LIST_TYPES, m.plateType));
  put("speed", m.speed);
  put("region", m.region.slice(0, 64));
  put("detectionRegion", m.roi || undefined);
  put("resolutionWidth", m.width || undefined);
  put("resolutionHeight", m.height || undefined);
  // Radar fields are zero without a radar.
  put("distance", m.distance || undefined);
  put("azimuth", m.azimuth && Number.isFinite(m.azimuth) ? Math.round(m.azimuth * 100) / 100 : undefined);
  put("vehicleCount", m.vehicleCount || undefined);
  return {
    plate,
    confidence: confidence(m.confidence),
    direction: direction(m.direction),
    cameraTimeRaw: String(m.time),
    // POSIX ms; 0 or beyond year 9999 is a camera without a clock, not a time.
    cameraTime: ms > 0 && ms < 253_402_300_800_000 ? ms : null,
    cameraHint: m.deviceId,
    phase: null,
    extras,
    images: readImages,
  };
}

/** The JSON posts, by command, and the event kind each is recorded as. */
export const JSON_POSTS: ReadonlyMap<number, string> = new Map([
  [Command.PARKING_POST, "parking"],
  [Command.COUNTING_POST, "counting"],
  [Command.LIST_EVENT_POST, "list-event"],
  [Command.ATTRIBUTES_POST, "attributes"],
  [Command.VIOLATION_POST, "violation"],
]);

const MAX_TEXT = 256;
const MAX_KEYS = 64;
const MAX_ITEMS = 16;
const MAX_DEPTH = 4;

/** Keep an event small: base64 snapshots become their size, long arrays and deep nesting are cut. */
function bounded(value: unknown, depth: number): unknown {
  if (typeof value === "string")
    return value.length > MAX_TEXT ? `[${value.length} characters omitted]` : value;
  if (typeof value !== "object" || value === null) return value;
  if (depth >= MAX_DEPTH) return "[nested too deep]";
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((v) => bounded(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).slice(0, MAX_KEYS))
    out[key.slice(0, 64)] = bounded((value as Record<string, unknown>)[key], depth + 1);
  return out;
}

/** A JSON post (parking, counting, list, attributes, violation) → its kind and bounded data. */
export function parseJsonPost(
  command: number,
  data: Buffer,
): { kind: string; data: Record<string, unknown> } {
  const kind = JSON_POSTS.get(command);
  if (!kind) throw new IngestError("command", `0x${command.toString(16)} is not a JSON post`);
  let body: unknown;
  try {
    body = JSON.parse(data.toString("utf8"));
  } catch (err) {
    throw new IngestError(kind, `not valid JSON: ${(err as Error).message.slice(0, 120)}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new IngestError(kind, "expected a JSON object");
  return { kind, data: bounded(body, 0) as Record<string, unknown> };
}
