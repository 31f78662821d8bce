/**
 * A simulated Hikvision ANPR camera in listening mode (protocols.md §2.2): it POSTs an EventNotificationAlert,
 * as plain XML or as multipart with `anpr.xml` and the JPEG pictures named in pictureInfoList.
 */

export interface HikvisionRead {
  plate: string;
  confidence?: number;
  direction?: "forward" | "reverse" | "unknown";
  /** DeepinView firmware uses hikvision.com; most cameras isapi.org. */
  namespace?: "isapi" | "hikvision" | "prefixed";
  eventType?: string;
  /** "inactive" for a heartbeat (with eventType "videoloss"). */
  eventState?: "active" | "inactive";
  /** Announce the two pictures in pictureInfoList (default true). */
  pictures?: boolean;
  time?: string;
  uuid?: string;
}

/** A minimal JPEG (SOI … EOI), enough for anything that checks the magic bytes. */
export const TINY_JPEG = Buffer.from([
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0xff, 0xd9,
]);

export function hikvisionXml(read: HikvisionRead): string {
  const ns =
    read.namespace === "hikvision"
      ? "http://www.hikvision.com/ver20/XMLSchema"
      : "http://www.isapi.org/ver20/XMLSchema";
  const p = read.namespace === "prefixed" ? "isapi:" : "";
  const xmlns = read.namespace === "prefixed" ? `xmlns:isapi="${ns}"` : `xmlns="${ns}"`;
  const el = (name: string, value: string): string => `<${p}${name}>${value}</${p}${name}>`;
  const eventType = read.eventType ?? "ANPR";
  const pictures =
    read.pictures === false
      ? ""
      : `<${p}pictureInfoList><${p}pictureInfo>${el("fileName", "licensePlatePicture.jpg")}${el("type", "licensePlatePicture")}</${p}pictureInfo>
<${p}pictureInfo>${el("fileName", "detectionPicture.jpg")}${el("type", "detectionPicture")}</${p}pictureInfo></${p}pictureInfoList>`;
  // Only a plate event carries the ANPR block; a heartbeat is the bare envelope.
  const anpr =
    eventType !== "ANPR" && eventType !== "vehicleDetection"
      ? ""
      : `<${p}ANPR>${el("country", "7")}${el("licensePlate", read.plate)}${el("line", "1")}
${el("direction", read.direction ?? "forward")}${el("confidenceLevel", String(read.confidence ?? 94))}
${el("plateType", "unknown")}${el("plateColor", "white")}${el("vehicleType", "SUVMPV")}
<${p}vehicleInfo>${el("index", "1")}${el("color", "white")}${el("speed", "12")}${el("vehicleLogoRecog", "1036")}</${p}vehicleInfo>
${pictures}
</${p}ANPR>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<${p}EventNotificationAlert version="2.0" ${xmlns}>
${el("ipAddress", "192.0.2.64")}${el("portNo", "80")}${el("protocol", "HTTP")}${el("channelID", "1")}
${el("dateTime", read.time ?? "2025-03-01T08:15:02+01:00")}${el("activePostCount", "1")}
${el("eventType", eventType)}${el("eventState", read.eventState ?? "active")}${el("eventDescription", eventType)}
${el("UUID", read.uuid ?? "5b0a1c9e-0000-4000-8000-000000000001")}
${anpr}</${p}EventNotificationAlert>`;
}

/** POST as the camera does: plain XML, or multipart with the XML part and two pictures. */
export async function pushHikvision(
  baseUrl: string,
  read: HikvisionRead,
  options: { multipart?: boolean; secret?: string } = {},
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = options.secret ? { "x-camera-secret": options.secret } : {};
  let body: string | FormData;
  if (options.multipart) {
    const form = new FormData();
    form.append("anpr.xml", new Blob([hikvisionXml(read)], { type: "application/xml" }), "anpr.xml");
    form.append(
      "licensePlatePicture.jpg",
      new Blob([TINY_JPEG], { type: "image/jpeg" }),
      "licensePlatePicture.jpg",
    );
    form.append(
      "detectionPicture.jpg",
      new Blob([TINY_JPEG], { type: "image/jpeg" }),
      "detectionPicture.jpg",
    );
    body = form;
  } else {
    headers["content-type"] = "application/xml";
    body = hikvisionXml(read);
  }
  const res = await fetch(`${baseUrl}/api/v1/ingest/hikvision`, { method: "POST", headers, body });
  return { status: res.status, body: await res.json().catch(() => null) };
}
