/**
 * Writes one VIVOTEK ANPR read as the camera's Socket Client action sends it (specs/003 §4.4: "XML", "XML
 * with LPR image", "JSON", "JSON with LPR image"; the image "in base64 format" inside the document). The one
 * writer of these documents: the `socket-client` action sends them, the camera simulator (test/sim/vivotek.ts)
 * sends them, and vivotek-message.ts reads them back, so a Portcullis controller takes another's messages.
 *
 * The manual prints the layout only in screenshots its text copy lacks (protocols.md §5: nothing found), so
 * the names are this project's: a flat `<lpr>` root (XML) or object (JSON) with one element or key per field,
 * in the camera's own vocabulary (`numberplate`, `listid`, … from its list files). The full picture goes in
 * `image`, a plate crop in `plateimage`: the parser reads each back as the same kind.
 */
import type { ImageKind } from "./types.js";

export type VivotekFormat = "xml" | "xml-image" | "json" | "json-image";

export const VIVOTEK_FORMATS: readonly VivotekFormat[] = ["xml", "xml-image", "json", "json-image"];

/** One field of the document, in order: a name (an XML element, a JSON key) and a scalar value. */
export type VivotekField = readonly [name: string, value: string | number];

export interface VivotekPicture {
  kind: ImageKind;
  data: Buffer;
}

/** Where a picture of each kind goes (and where vivotek-message.ts looks for it). */
export const PICTURE_FIELD: Record<ImageKind, string> = {
  full: "image",
  plate: "plateimage",
  evidence: "image",
};

export const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';

/** XML 1.0 Char: tab, LF, CR, and everything from space up but the two non-characters U+FFFE and U+FFFF. */
function allowedInXml(code: number): boolean {
  return (
    code === 0x09 || code === 0x0a || code === 0x0d || (code >= 0x20 && code !== 0xfffe && code !== 0xffff)
  );
}

/** Text as XML character data: markup escaped, and the control characters XML 1.0 forbids dropped. */
export function xmlText(text: string): string {
  return Array.from(text, (c) => (allowedInXml(c.codePointAt(0) ?? 0) ? c : ""))
    .join("")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

/**
 * The document for one read. The picture is written only by the "-image" formats (and only when there is
 * one); field names must be XML names (letters, digits, `_`), which every caller's are.
 */
export function vivotekDocument(
  fields: readonly VivotekField[],
  format: VivotekFormat,
  picture: VivotekPicture | null = null,
): string {
  const image = format.endsWith("-image") && picture ? picture : null;
  if (format === "json" || format === "json-image") {
    const doc: Record<string, string | number> = Object.fromEntries(fields);
    if (image) doc[PICTURE_FIELD[image.kind]] = image.data.toString("base64");
    return JSON.stringify(doc);
  }
  const body = fields.map(([k, v]) => `<${k}>${xmlText(String(v))}</${k}>`).join("");
  const picturePart = image
    ? `<${PICTURE_FIELD[image.kind]}>${image.data.toString("base64")}</${PICTURE_FIELD[image.kind]}>`
    : "";
  return `${XML_DECLARATION}\r\n<lpr>${body}${picturePart}</lpr>`;
}
