/**
 * ONVIF notification messages → PlateRead (protocols.md §7, specs/002 "RTSP Type"). A message is
 * `wsnt:NotificationMessage/wsnt:Message/tt:Message` with `UtcTime`, `PropertyOperation` and SimpleItems in
 * Source, Key and Data. Vendors name the plate item differently (Milesight `LicensePlateResult` in Key,
 * others `LicensePlate` or `PlateNumber` in Data), so every item is read into one map and looked up by
 * the known names. Elements are read by local name: prefixes vary between firmware.
 */
import { confidenceField, plateAt, scalarExtras } from "./fields.js";
import { OnvifError, parseReply, type XmlNode, xmlChild, xmlChildren, xmlText } from "./onvif-soap.js";
import { type Direction, IngestError, type PlateRead } from "./types.js";

const PLATE = [
  "LicensePlateResult",
  "LicensePlate",
  "PlateNumber",
  "LicensePlateNumber",
  "PlateText",
  "Plate",
  "text",
];
const CONFIDENCE = ["Confidence", "Likelihood", "PlateConfidence", "confidence"];
const DIRECTION = ["Direction", "LicenseCarDirection", "MoveDirection", "carMoveDirection"];
/** At most this many items are read from one message; the rest are not worth keeping. */
const MAX_ITEMS = 32;
const EXTRAS = {
  country: ["Country", "CountryCode", "country", "PlateCountry"],
  speed: ["LicenseCarSpeed", "Speed", "speed"],
  plateColor: ["PlateColor", "LicensePlateColor"],
  vehicleType: ["VehicleType", "vehicleType"],
  vehicleColor: ["VehicleColor", "CarColor"],
  listName: ["ListName", "listName"],
  picturePath: ["LicensePlatePicturePath"],
  rule: ["Rule"],
  videoSource: ["VideoSourceConfigurationToken", "VideoSourceToken"],
  objectId: ["ObjectId", "carID"],
  directionRaw: DIRECTION,
} as const;

const PHASES: Record<string, PlateRead["phase"]> = {
  Initialized: "new",
  Changed: "update",
  Deleted: "lost",
};
/** Vendor state items (Axis-style ACAPs) win over PropertyOperation when present. */
const STATES: Record<string, PlateRead["phase"]> = { new: "new", update: "update", lost: "lost" };

const DIRECTIONS: Record<string, Direction> = {
  in: "in",
  entry: "in",
  enter: "in",
  out: "out",
  exit: "out",
  leave: "out",
  approach: "approach",
  approaching: "approach",
  forward: "approach",
  toward: "approach",
  towards: "approach",
  away: "away",
  leaving: "away",
  reverse: "away",
};

/** The topic with every namespace prefix removed: `tns1:RuleEngine/X` and `ns2:RuleEngine/X` are one. */
export function topicPath(topic: string): string {
  return topic
    .trim()
    .split("/")
    .map((segment) => segment.replace(/^[^:]*:/, ""))
    .join("/");
}

/** Whether a notification's topic is one of the filter's (`a|b` alternatives; a sub-topic matches too). */
export function topicMatches(topic: string, filter: string): boolean {
  const path = topicPath(topic);
  return filter
    .split("|")
    .map((f) => topicPath(f).replace(/\/\/\.$/, ""))
    .some((f) => f !== "" && (path === f || path.startsWith(`${f}/`)));
}

export interface Notification {
  topic: string;
  utcTime: string | null;
  operation: string | null;
  /** Every SimpleItem of Source, Key and Data, by name (first one wins). */
  items: Record<string, string>;
}

export interface PullResult {
  /** Camera clock at the reply and when the subscription ends, as sent. */
  currentTime: string | null;
  terminationTime: string | null;
  notifications: Notification[];
}

function notificationOf(message: XmlNode): Notification {
  const topic = xmlText(message.Topic) ?? "";
  const inner = xmlChild(xmlChild(message, "Message"), "Message") ?? {};
  const items: Record<string, string> = {};
  let count = 0;
  for (const part of ["Source", "Key", "Data"])
    for (const item of xmlChildren(xmlChild(inner, part), "SimpleItem")) {
      const name = xmlText(item["@_Name"]);
      const value = xmlText(item["@_Value"]);
      if (!name || value === null || count >= MAX_ITEMS) continue;
      count++;
      if (!(name in items)) items[name.slice(0, 64)] = value.slice(0, 256);
    }
  return {
    topic: topic.slice(0, 256),
    utcTime: xmlText(inner["@_UtcTime"]),
    operation: xmlText(inner["@_PropertyOperation"]),
    items,
  };
}

/**
 * A PullMessagesResponse (or a CreatePullPointSubscription/Renew reply's times) from the raw reply text.
 * Throws OnvifError for a fault or a reply that is not a PullMessagesResponse.
 */
export function parsePullMessages(text: string, status = 200, receivedMono = 0): PullResult {
  const reply = parseReply(text, status, receivedMono);
  if (reply.name !== "PullMessagesResponse")
    throw new OnvifError("malformed", `expected PullMessagesResponse, got ${reply.name}`);
  return pullResultOf(reply.body);
}

export function pullResultOf(body: XmlNode): PullResult {
  return {
    currentTime: xmlText(body.CurrentTime),
    terminationTime: xmlText(body.TerminationTime),
    notifications: xmlChildren(body, "NotificationMessage").map(notificationOf),
  };
}

/** One notification on the plate topic → PlateRead. Throws IngestError naming the item. */
export function plateReadOf(n: Notification): PlateRead {
  const items = n.items;
  const plateName = PLATE.find((name) => items[name] !== undefined && items[name] !== "");
  if (!plateName) throw new IngestError("Message.SimpleItem", `missing: no plate item (${PLATE.join(", ")})`);
  const plate = plateAt(items[plateName] as string, `SimpleItem[${plateName}]`);
  let confidence: number | null;
  try {
    confidence = confidenceField(items, CONFIDENCE);
  } catch (err) {
    if (err instanceof IngestError)
      throw new IngestError(
        err.path.replace(/^body\./, "SimpleItem."),
        "expected a confidence between 0 and 100",
      );
    throw err;
  }
  const directionText = DIRECTION.map((d) => items[d]).find((v) => v !== undefined);
  const direction = directionText === undefined ? null : (DIRECTIONS[directionText.toLowerCase()] ?? null);
  const cameraTime = n.utcTime === null ? Number.NaN : Date.parse(n.utcTime);
  const state = items.carState === undefined ? undefined : STATES[items.carState.toLowerCase()];
  const extras = scalarExtras(items, EXTRAS);
  // A direction we could map is the read's direction; the raw text is kept only when it says more.
  if (direction !== null) delete extras.directionRaw;
  extras.topic = topicPath(n.topic).slice(0, 128);
  return {
    plate,
    confidence,
    direction,
    cameraTimeRaw: n.utcTime?.slice(0, 64) ?? null,
    cameraTime: Number.isNaN(cameraTime) ? null : cameraTime,
    cameraHint: null,
    phase: state ?? PHASES[n.operation ?? ""] ?? null,
    extras,
    images: [],
  };
}
