/**
 * Milesight LPR cameras, HTTP POST JSON (specs/002 "HTTP Type"). Firmware before 45.8.0.3-LPR_XX-r1 names
 * fields in snake_case (`plate_color`), later firmware in Title Case (`Plate Color`); both are read.
 * Images arrive base64-encoded; they are decoded here and stored by the snapshot writer.
 */

import {
  base64Image,
  confidenceField,
  optionalString,
  parseCameraTime,
  plateAt,
  plateField,
  requireObject,
  scalarExtras,
} from "./fields.js";
import {
  type Direction,
  type ImageKind,
  IngestError,
  NotAPlateRead,
  type PlateRead,
  type PushAdapter,
  type ReadImage,
} from "./types.js";

const PLATE = ["plate", "Plate", "License Plate", "license_plate", "plate_number", "Plate Number"];
const TIME = ["time_msec", "Time Msec", "time", "Time"];
const IMAGES: ReadonlyArray<readonly [string, ImageKind]> = [
  ["plate_image", "plate"],
  ["Plate Image", "plate"],
  ["full_image", "full"],
  ["Full Image", "full"],
  ["evidence_image0", "evidence"],
  ["Evidence Image0", "evidence"],
  ["evidence_image1", "evidence"],
  ["Evidence Image1", "evidence"],
];

const EXTRAS = {
  device: ["device", "Device"],
  cameraListType: ["type", "Type"],
  speed: ["speed", "Speed"],
  detectionRegion: ["detection_region", "Detection Region"],
  region: ["region", "Region"],
  plateColor: ["plate_color", "Plate Color"],
  vehicleType: ["vehicle_type", "Vehicle Type"],
  vehicleColor: ["vehicle_color", "Vehicle Color"],
  vehicleBrand: ["vehicle_brand", "Vehicle Brand"],
  resolutionWidth: ["resolution_width", "Resolution Width"],
  resolutionHeight: ["resolution_height", "Resolution Height"],
} as const;

/** "Approach" comes towards the camera, "Away" goes from it; which means "in" is the lane's business. */
function direction(text: string | null): Direction | null {
  switch (text?.trim().toLowerCase()) {
    case "approach":
    case "approaching":
      return "approach";
    case "away":
    case "leaving":
      return "away";
    default:
      return null;
  }
}

/** The query of a GET-form read, whether or not the camera put a '?' before it. */
export function milesightGetParams(url: string): URLSearchParams {
  const marker = "/ingest/milesight";
  const rest = url.slice(url.indexOf(marker) + marker.length).replace(/^[?/]+/, "");
  return new URLSearchParams(rest);
}

/** The GET form carries only the plate: `source=LPR&description=<plate>`. */
function fromGetForm(params: URLSearchParams): PlateRead {
  const source = params.get("source");
  if (source !== null && source.toUpperCase() !== "LPR")
    throw new NotAPlateRead(`Milesight GET with source '${source}' is not a plate read`);
  const description = params.get("description");
  if (description === null) throw new IngestError("query.description", "missing: the read carries no plate");
  const plate = plateAt(description, "query.description");
  return {
    plate,
    confidence: null,
    direction: null,
    cameraTimeRaw: null,
    cameraTime: null,
    cameraHint: null,
    phase: null,
    extras: {},
    images: [],
  };
}

export const adapter: PushAdapter = {
  kind: "push",
  protocol: "milesight-http",
  acceptsGet: true,
  parse(body: unknown, siteTimeZone: string): PlateRead {
    if (body instanceof URLSearchParams) return fromGetForm(body);
    const obj = requireObject(body);
    const event = optionalString(obj, ["event", "Event"]);
    // Parking, counting and other events may name a plate but are not a vehicle at the barrier.
    if (event !== null && !/^(lpr|license plate|plate)/i.test(event))
      throw new NotAPlateRead(`Milesight '${event}' event carries no plate read`);
    const plate = plateField(obj, PLATE);
    const cameraTimeRaw = optionalString(obj, TIME, 64);
    const extras = scalarExtras(obj, EXTRAS);
    const images: ReadImage[] = [];
    for (const [name, kind] of IMAGES) {
      const image = base64Image(obj[name], `body.${name}`, kind);
      if (image) images.push(image);
    }
    return {
      plate,
      confidence: confidenceField(obj, ["confidence", "Confidence"]),
      direction: direction(optionalString(obj, ["direction", "Direction"])),
      cameraTimeRaw,
      cameraTime: cameraTimeRaw === null ? null : parseCameraTime(cameraTimeRaw, siteTimeZone),
      cameraHint: null,
      phase: null,
      extras,
      images,
    };
  },
};
