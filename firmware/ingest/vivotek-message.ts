/**
 * One VIVOTEK ANPR read, from any of the forms the camera sends it in: an XML or JSON document (the Socket
 * Client action's four formats, or an HTTP action's body) or the query of an HTTP action's GET request.
 *
 * specs/003 names the formats (XML, XML with LPR image, JSON, JSON with LPR image; "the image in base64
 * format") and what a read holds (number plate, confidence 1–100, country/state, character height, date and
 * time, list, lane) but not the element names: those are in screenshots the text copy lacks, and
 * protocols.md §5 found no vendor document. So fields are found by name, not by position: every element,
 * attribute or key of the document is a candidate, compared case- and punctuation-insensitively against
 * the aliases below (the shallowest occurrence wins). `numberplate`, `description` and `listid` are the
 * camera's own names in its list files (specs/003 §4.4).
 */
import { XMLParser } from "fast-xml-parser";
import { base64Image, confidenceField, optionalString, parseCameraTime, plateAt } from "./fields.js";
import { type Direction, type ImageKind, IngestError, type PlateRead, type ReadImage } from "./types.js";

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  removeNSPrefix: true,
  // Values stay text: "0123" must not become 123, and a plate is never a number.
  parseTagValue: false,
  parseAttributeValue: false,
  // No entity expansion: a hostile document cannot grow in memory.
  processEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

const PLATE = ["numberplate", "plate", "licenseplate", "platenumber", "plateutf8", "platetext", "lpr"];
const CONFIDENCE = ["confidence", "confidencelevel", "reliability", "conf"];
const TIME = ["date", "datetime", "timestamp", "time", "capturetime", "localtime"];
const DIRECTION = ["direction", "dir", "movement"];
const CAMERA = ["cameraname", "camera", "devicename", "device", "cameraid"];
const IMAGES: ReadonlyArray<readonly [readonly string[], ImageKind]> = [
  [["plateimage", "imageplate", "plateimg", "plateimagebase64"], "plate"],
  [["image", "lprimage", "imagebase64", "img", "fullimage", "overviewimage", "picture", "snapshot"], "full"],
];
/** Vendor fields kept with the event: extras key → aliases. */
const EXTRAS: Record<string, readonly string[]> = {
  country: ["country", "countrycode", "countryname", "region"],
  state: ["state", "province"],
  cameraListType: ["listdescription", "listname", "list", "listtype"],
  cameraListId: ["listid"],
  listEntry: ["description", "platedescription"],
  lane: ["lane", "laneid", "roiid"],
  direction: DIRECTION,
  charHeight: ["charheight", "characterheight", "charsize", "pixelsize", "size"],
  mode: ["mode", "processingmode"],
  cameraName: CAMERA,
  readId: ["id", "resultid", "readid"],
};

/** Bounds on what is looked at, so a hostile document cannot make us walk forever. */
const MAX_NODES = 2000;
const MAX_FIELDS = 256;

interface Field {
  path: string;
  value: string | number | boolean;
}

type Fields = Map<string, Field>;

function normKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** Every scalar of the document by normalised name, shallowest first; `#text` belongs to its element. */
function collectFields(root: unknown, rootPath: string): Fields {
  const fields: Fields = new Map();
  const queue: Array<[unknown, string, string]> = [[root, rootPath, rootPath]];
  let visited = 0;
  for (let i = 0; i < queue.length && visited < MAX_NODES && fields.size < MAX_FIELDS; i++) {
    const [node, path, name] = queue[i] as [unknown, string, string];
    visited++;
    if (Array.isArray(node)) {
      node.slice(0, 16).forEach((item, n) => {
        queue.push([item, `${path}[${n}]`, name]);
      });
      continue;
    }
    if (typeof node === "object" && node !== null) {
      for (const [key, value] of Object.entries(node)) {
        if (key === "#text") queue.push([value, path, name]);
        else queue.push([value, `${path}.${key}`, key]);
      }
      continue;
    }
    if (typeof node === "string" || typeof node === "number" || typeof node === "boolean") {
      const key = normKey(name);
      if (!fields.has(key)) fields.set(key, { path, value: node });
    }
  }
  return fields;
}

function find(fields: Fields, aliases: readonly string[]): Field | null {
  for (const alias of aliases) {
    const field = fields.get(alias);
    if (field !== undefined && field.value !== "") return field;
  }
  return null;
}

/** Run a fields.ts reader on one value, so its checks apply and its errors name this field's path. */
function readAt<T>(field: Field, read: (obj: Record<string, unknown>, names: readonly string[]) => T): T {
  try {
    return read({ v: field.value }, ["v"]);
  } catch (err) {
    if (err instanceof IngestError) throw new IngestError(field.path, err.message.slice(err.path.length + 2));
    throw err;
  }
}

const DIRECTIONS: Record<string, Direction> = {
  in: "in",
  entry: "in",
  out: "out",
  exit: "out",
  approach: "approach",
  approaching: "approach",
  towards: "approach",
  toward: "approach",
  front: "approach",
  away: "away",
  leaving: "away",
  rear: "away",
};

/** Epoch seconds or milliseconds as a number or digits; else a date text (zone-less = site time). */
function cameraTime(raw: string, timeZone: string): number | null {
  if (/^\d{9,13}$/.test(raw)) {
    const n = Number(raw);
    return n < 1e11 ? n * 1000 : n;
  }
  return parseCameraTime(raw, timeZone);
}

function readFromFields(fields: Fields, timeZone: string, plateHint: string): PlateRead {
  const plateField = find(fields, PLATE);
  if (!plateField)
    throw new IngestError(plateHint, `missing: no plate field (looked for ${PLATE.join(", ")})`);
  if (typeof plateField.value !== "string")
    throw new IngestError(plateField.path, `expected a string, got ${typeof plateField.value}`);
  const plate = plateAt(plateField.value.trim(), plateField.path);
  const confidence = find(fields, CONFIDENCE);
  const time = find(fields, TIME);
  const cameraTimeRaw = time === null ? null : readAt(time, (o, n) => optionalString(o, n, 64));
  const extras: PlateRead["extras"] = {};
  for (const [key, aliases] of Object.entries(EXTRAS)) {
    const field = find(fields, aliases);
    if (field === null) continue;
    extras[key] = typeof field.value === "string" ? field.value.trim().slice(0, 128) : field.value;
  }
  const images: ReadImage[] = [];
  for (const [aliases, kind] of IMAGES)
    for (const alias of aliases) {
      const field = fields.get(alias);
      const image = field === undefined ? null : base64Image(field.value, field.path, kind);
      if (image) images.push(image);
    }
  const cameraName = extras.cameraName;
  return {
    plate,
    confidence: confidence === null ? null : readAt(confidence, confidenceField),
    direction: DIRECTIONS[String(extras.direction ?? "").toLowerCase()] ?? null,
    cameraTimeRaw,
    cameraTime: cameraTimeRaw === null ? null : cameraTime(cameraTimeRaw.trim(), timeZone),
    cameraHint: typeof cameraName === "string" ? cameraName.slice(0, 64) : null,
    phase: null,
    extras,
    images,
  };
}

/** An XML document (the root element's name starts every path: `lpr.numberplate`). */
export function parseVivotekXml(text: string, timeZone: string): PlateRead {
  let doc: unknown;
  try {
    doc = xml.parse(text, true);
  } catch (err) {
    throw new IngestError("message", `malformed XML: ${(err as Error).message.split("\n", 1)[0]}`);
  }
  if (typeof doc !== "object" || doc === null) throw new IngestError("message", "expected an XML document");
  const rootName = Object.keys(doc).find((k) => k !== "?xml");
  if (rootName === undefined) throw new IngestError("message", "XML document has no root element");
  return readFromFields(
    collectFields((doc as Record<string, unknown>)[rootName], rootName),
    timeZone,
    `${rootName}.numberplate`,
  );
}

/** A decoded JSON document; `root` starts every path (`body` for HTTP, `message` for the socket). */
export function parseVivotekJson(doc: unknown, timeZone: string, root: string): PlateRead {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new IngestError(
      root,
      `expected a JSON object, got ${Array.isArray(doc) ? "an array" : typeof doc}`,
    );
  return readFromFields(collectFields(doc, root), timeZone, `${root}.plate`);
}

/** JSON text; malformed text is an IngestError at `root`. */
export function parseVivotekJsonText(text: string, timeZone: string, root: string): PlateRead {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new IngestError(root, `malformed JSON: ${(err as Error).message}`);
  }
  return parseVivotekJson(doc, timeZone, root);
}

/** The query of an HTTP action's GET request (`secret` is the controller's, not a field). */
export function parseVivotekQuery(params: URLSearchParams, timeZone: string): PlateRead {
  const fields: Fields = new Map();
  for (const [name, value] of params) {
    const key = normKey(name);
    if (key !== "secret" && !fields.has(key) && fields.size < MAX_FIELDS)
      fields.set(key, { path: `query.${name}`, value });
  }
  return readFromFields(fields, timeZone, "query.plate");
}
