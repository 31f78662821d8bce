/** What every camera protocol turns its bytes into, and the one error type its parser throws. */
import type { Plate } from "../domain/plate.js";

export type Direction = "in" | "out" | "approach" | "away";

export interface PlateRead {
  plate: Plate;
  /** 0–100, or null when the camera sends none. */
  confidence: number | null;
  direction: Direction | null;
  /** The camera's own timestamp, as sent and as epoch ms (null when it cannot be parsed). */
  cameraTimeRaw: string | null;
  cameraTime: number | null;
  /** A camera id named inside the payload, used only to tell apart cameras pushing from one address. */
  cameraHint: string | null;
  /** The vendor's lifecycle phase of the vehicle (NEW/UPDATE/LOST, Detect/Lost), when it sends one. */
  phase: "new" | "update" | "lost" | null;
  /** Vendor fields worth keeping with the event: colour, make, type, speed, country… */
  extras: Record<string, string | number | boolean>;
}

/** A payload that cannot become a PlateRead. `path` names where in the payload the problem is. */
export class IngestError extends Error {
  override readonly name = "IngestError";
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

/** A payload that is valid but carries no plate read (for example a vendor's counting event). */
export class NotAPlateRead extends Error {
  override readonly name = "NotAPlateRead";
}

/** A protocol whose camera pushes JSON to `/api/v1/ingest/<protocol>`. */
export interface PushAdapter {
  protocol: string;
  /** Parse a decoded JSON body. Throws IngestError or NotAPlateRead; never anything else for any input. */
  parse(body: unknown, siteTimeZone: string): PlateRead;
}
