/**
 * A simulated NumberOk EDGE camera application (specs/001 "JSON over HTTP(s)"): a multipart POST with the
 * JSON document and a plate image, field names and formats as in the spec's example.
 */
import { TINY_JPEG } from "./hikvision-isapi.js";

export interface EdgeRead {
  plate: string;
  /** ASCII transliteration the application sends beside the Unicode plate. */
  ascii?: string;
  confidence?: number;
  direction?: "in" | "out" | "unknown";
  /** Send the plate with literal "\uXXXX" escapes inside the string, as the spec's table describes. */
  doubleEscaped?: boolean;
}

export function edgeDocument(read: EdgeRead): string {
  const escaped = Array.from(read.plate)
    .map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
    .join("");
  // JSON.stringify would write the characters; the camera writes \u escapes (once, or twice when "escaped").
  const plateJson = read.doubleEscaped ? `"${escaped.replaceAll("\\", "\\\\")}"` : `"${escaped}"`;
  return `{
  "packetCounter": "25523", "datetime": "20181212 163419000", "plateText": ${plateJson},
  "plateCountry": "DEU", "plateConfidence": "${(read.confidence ?? 0.71964).toFixed(6)}", "carState": "new",
  "geotag": {"lat": 50.418114, "lon": 30.476213}, "imageType": "plate", "plateImageType": "png", "plateImageSize": "0",
  "carMoveDirection": "${read.direction ?? "in"}", "timeProcessing": "411", "timeDetection": "20181212 163419000",
  "plateCoordinates": [480, 270, 216, 30], "carID": "72006", "GEOtarget": "", "datettimezone": "2018-12-12T16:34:19+0200",
  "datetimezone": "2018-12-12T16:34:19+0200", "carVerticalDirection": "up", "recognitionZone": "1", "imagesURI": [],
  "plateASCII": "${read.ascii ?? read.plate}", "plateUnicode": ${plateJson}, "sensorProviderID": "CAM_00166CC39D44"
}`;
}

export async function pushEdge(
  baseUrl: string,
  read: EdgeRead,
  secret: string,
): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append("json", new Blob([edgeDocument(read)], { type: "application/json" }), "event.json");
  form.append("image", new Blob([TINY_JPEG], { type: "image/jpeg" }), "plate.jpg");
  const res = await fetch(`${baseUrl}/api/v1/ingest/numberok`, {
    method: "POST",
    headers: { "x-camera-secret": secret },
    body: form,
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}
