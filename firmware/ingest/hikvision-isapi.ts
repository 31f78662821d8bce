/**
 * Hikvision ISAPI, listening mode (protocols.md §2.1–2.2): the camera POSTs an `EventNotificationAlert`
 * document, alone (`application/xml`) or as one part of a multipart body with the pictures. The XML
 * namespace differs between firmware (isapi.org vs hikvision.com), so elements are read by local name.
 */
import { XMLParser } from "fast-xml-parser";
import { plateAt } from "./fields.js";
import { MultipartBody } from "./multipart.js";
import {
  type Direction,
  IngestError,
  NotAPlateRead,
  type PlateRead,
  type PushAdapter,
  type ReadImage,
} from "./types.js";

/** Documents are a few kilobytes; anything far larger is not an event. */
export const MAX_XML_BYTES = 256 * 1024;

const xml = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: true,
  // Values stay text: "0123" must not become 123, and a plate is never a number.
  parseTagValue: false,
  // No entity expansion: a hostile document cannot grow in memory.
  processEntities: false,
  ignoreDeclaration: true,
});

type Node = Record<string, unknown>;

function text(node: Node, key: string, path: string, maxLength = 128): string | null {
  const value = node[key];
  if (value === undefined || value === null || value === "") return null;
  if (typeof value !== "string") throw new IngestError(`${path}.${key}`, "expected a text element");
  return value.trim().slice(0, maxLength);
}

function child(node: Node, key: string): Node | null {
  const value = node[key];
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Node) : null;
}

function documentOf(body: unknown): { xmlText: string; images: ReadImage[] } {
  if (body instanceof MultipartBody) {
    const part = body.xmlPart();
    if (!part) throw new IngestError("body", "multipart body has no XML part (expected anpr.xml)");
    return { xmlText: part.data.toString("utf8"), images: body.images() };
  }
  if (typeof body === "string") return { xmlText: body, images: [] };
  throw new IngestError("body", "expected an XML document (application/xml) or a multipart body with one");
}

function direction(value: string | null): Direction | null {
  if (value === "forward") return "approach";
  if (value === "reverse") return "away";
  return null;
}

/** How many pictures an alert announces: its pictureInfoList entries, else its top-level picNum. */
function announcedPictures(alert: Node, anpr: Node): number {
  const list = child(anpr, "pictureInfoList")?.pictureInfo;
  if (Array.isArray(list)) return list.length;
  if (list !== undefined && list !== null && list !== "") return 1;
  // Only a hint for waiting on pictures: an odd picNum must not cost the read.
  const picNum = typeof alert.picNum === "string" ? Number(alert.picNum) : 0;
  return Number.isInteger(picNum) && picNum > 0 ? Math.min(picNum, 16) : 0;
}

/**
 * Read one EventNotificationAlert document, with the pictures that came beside it. Also says how many
 * pictures the alert announces (arming mode sends them as the parts after the XML). Throws like `parse`.
 */
const PLATE_EVENT_TYPES = new Set(["ANPR", "VEHICLEDETECTION"]);

export function parseAlert(xmlText: string, images: ReadImage[]): { read: PlateRead; pictures: number } {
  if (Buffer.byteLength(xmlText) > MAX_XML_BYTES)
    throw new IngestError("body", `XML larger than ${MAX_XML_BYTES} bytes`);
  let doc: Node;
  try {
    doc = xml.parse(xmlText, true) as Node;
  } catch (err) {
    throw new IngestError("body", `malformed XML: ${(err as Error).message.split("\n", 1)[0]}`);
  }
  const alert = child(doc, "EventNotificationAlert");
  if (!alert) throw new IngestError("body", "expected an EventNotificationAlert document");
  const eventType = text(alert, "eventType", "EventNotificationAlert");
  // Heartbeats (videoloss/inactive) and other events share the endpoint; only ANPR is a plate read
  // (specs/004 names the plate alarm's type `vehicleDetection` on some firmware; its body is the same).
  if (!PLATE_EVENT_TYPES.has(eventType?.toUpperCase() ?? ""))
    throw new NotAPlateRead(`Hikvision '${eventType ?? "unknown"}' event is not a plate read`);
  const anpr = child(alert, "ANPR");
  if (!anpr)
    throw new IngestError("EventNotificationAlert.ANPR", "missing: the ANPR event carries no ANPR block");
  const plateText = text(anpr, "licensePlate", "ANPR", 64);
  if (plateText === null) throw new IngestError("ANPR.licensePlate", "missing: the read carries no plate");
  const plate = plateAt(plateText, "ANPR.licensePlate");
  const confidenceText = text(anpr, "confidenceLevel", "ANPR");
  const confidence = confidenceText === null ? null : Number(confidenceText);
  if (confidence !== null && (!Number.isFinite(confidence) || confidence < 0 || confidence > 100))
    throw new IngestError("ANPR.confidenceLevel", "expected a confidence between 0 and 100");
  const cameraTimeRaw = text(alert, "dateTime", "EventNotificationAlert", 64);
  const cameraTime = cameraTimeRaw === null ? null : Date.parse(cameraTimeRaw);
  const extras: PlateRead["extras"] = {};
  const keep = (key: string, value: string | null): void => {
    if (value !== null && value !== "unknown") extras[key] = value;
  };
  keep("country", text(anpr, "country", "ANPR"));
  keep("line", text(anpr, "line", "ANPR"));
  keep("plateType", text(anpr, "plateType", "ANPR"));
  keep("plateColor", text(anpr, "plateColor", "ANPR"));
  keep("vehicleType", text(anpr, "vehicleType", "ANPR"));
  keep("cameraListType", text(anpr, "vehicleListName", "ANPR") ?? text(anpr, "listType", "ANPR"));
  keep("channelId", text(alert, "channelID", "EventNotificationAlert"));
  keep("deviceAddress", text(alert, "ipAddress", "EventNotificationAlert"));
  keep("uuid", text(alert, "UUID", "EventNotificationAlert"));
  const vehicle = child(anpr, "vehicleInfo");
  if (vehicle) {
    keep("vehicleColor", text(vehicle, "color", "ANPR.vehicleInfo"));
    keep("speed", text(vehicle, "speed", "ANPR.vehicleInfo"));
    keep("vehicleBrand", text(vehicle, "vehicleLogoRecog", "ANPR.vehicleInfo"));
  }
  return {
    read: {
      plate,
      confidence,
      direction: direction(text(anpr, "direction", "ANPR")),
      cameraTimeRaw,
      cameraTime: cameraTime === null || Number.isNaN(cameraTime) ? null : cameraTime,
      cameraHint: null,
      phase: null,
      extras,
      images,
    },
    pictures: announcedPictures(alert, anpr),
  };
}

export const adapter: PushAdapter = {
  kind: "push",
  protocol: "hikvision-isapi",
  parse(body: unknown): PlateRead {
    const { xmlText, images } = documentOf(body);
    return parseAlert(xmlText, images).read;
  },
};
