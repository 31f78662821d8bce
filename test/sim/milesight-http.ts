/**
 * A simulated Milesight LPR camera pushing HTTP POST JSON (specs/002 "HTTP Type"), in either firmware
 * generation's field names. Used by tests, the benchmark and `--demo`.
 */

export interface MilesightRead {
  plate: string;
  /** Firmware before 45.8.0.3-LPR_XX-r1 uses snake_case names; later firmware Title Case. */
  generation?: "snake" | "title";
  confidence?: number;
  direction?: "Approach" | "Away";
  time?: Date;
  region?: string;
  plateImage?: Buffer;
  fullImage?: Buffer;
}

function cameraTime(date: Date): string {
  const pad = (n: number, w = 2): string => String(n).padStart(w, "0");
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.${pad(date.getUTCMilliseconds(), 3)}`;
}

export function milesightPayload(read: MilesightRead): Record<string, unknown> {
  const time = cameraTime(read.time ?? new Date());
  const common = {
    device: "Network Camera",
    time,
    time_msec: time,
    plate: read.plate,
    speed: "-",
    detection_region: 1,
  };
  if ((read.generation ?? "snake") === "snake")
    return {
      ...common,
      type: "Visitor",
      direction: read.direction ?? "Approach",
      region: read.region ?? "NLD",
      resolution_width: 1920,
      resolution_height: 1080,
      coordinate_x1: 539,
      coordinate_y1: 736,
      coordinate_x2: 699,
      coordinate_y2: 874,
      confidence: read.confidence ?? 92,
      plate_color: "White",
      vehicle_type: "Car",
      vehicle_color: "Red",
      "Vehicle Brand": "Volkswagen",
      ...(read.plateImage ? { plate_image: read.plateImage.toString("base64") } : {}),
      ...(read.fullImage ? { full_image: read.fullImage.toString("base64") } : {}),
    };
  return {
    ...common,
    Type: "Visitor",
    Direction: read.direction ?? "Approach",
    Region: read.region ?? "NLD",
    "Resolution Width": 1920,
    "Resolution Height": 1080,
    Confidence: read.confidence ?? 92,
    "Plate Color": "White",
    "Vehicle Type": "Car",
    "Vehicle Color": "Red",
    "Vehicle Brand": "Volkswagen",
    ...(read.plateImage ? { "Plate Image": read.plateImage.toString("base64") } : {}),
    ...(read.fullImage ? { "Full Image": read.fullImage.toString("base64") } : {}),
  };
}

export interface PushResult {
  status: number;
  body: any;
}

/** POST a read the way the camera does; `secret` goes in the header the controller reads. */
export async function pushMilesight(
  baseUrl: string,
  read: MilesightRead,
  secret?: string,
): Promise<PushResult> {
  const res = await fetch(`${baseUrl}/api/v1/ingest/milesight`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(secret ? { "x-camera-secret": secret } : {}) },
    body: JSON.stringify(milesightPayload(read)),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}
