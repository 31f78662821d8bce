/**
 * What every camera protocol turns its bytes into, the one error type its parser throws, and the two shapes
 * a protocol can take: a push adapter (the camera POSTs to /api/v1/ingest/<protocol>) or a link adapter
 * (the controller holds a connection to the camera, or listens on a port for it).
 */
import type { TObject } from "typebox";
import type { CameraConfig } from "../config/site.js";
import type { Plate } from "../domain/plate.js";
import type { Logger } from "../util/log.js";

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
  /** Pictures sent with the read, decoded. Stored off the hot path by the snapshot writer. */
  images: ReadImage[];
  /**
   * Pictures still on their way when the read was reported (a camera that streams them after the plate):
   * the decision never waits for them. Resolves with them, or with what arrived by the adapter's deadline;
   * never rejects.
   */
  laterImages?: Promise<ReadImage[]>;
}

export type ImageKind = "plate" | "full" | "evidence";

export interface ReadImage {
  kind: ImageKind;
  /** File extension without the dot, lower case: "jpg", "png". */
  ext: string;
  data: Buffer;
}

/** The most bytes one picture may have; larger ones are refused with an IngestError by the parser. */
export const MAX_IMAGE_BYTES = 8 * 1024 * 1024;

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

/** A protocol whose camera pushes to `/api/v1/ingest/<protocol>`. */
export interface PushAdapter {
  kind: "push";
  protocol: string;
  /**
   * Parse a body: decoded JSON, an XML string, a MultipartBody, or for GET requests (when `acceptsGet`) the
   * query as URLSearchParams. Throws IngestError or NotAPlateRead; never anything else for any input.
   */
  parse(body: unknown, siteTimeZone: string): PlateRead;
  /** The camera can only send GET requests with the read in the query string. */
  acceptsGet?: boolean;
}

export type LinkState = "connecting" | "connected" | "disconnected";

/** What a link adapter reports to the controller. Every callback is cheap and never throws. */
export interface LinkContext {
  /** The camera, with `connection` already validated against the adapter's `settings` and defaulted. */
  camera: CameraConfig;
  siteTimeZone: string;
  log: Logger;
  /** A plate read; `receivedMono` is performance.now() when its first byte arrived. */
  onRead(read: PlateRead, receivedMono: number): void;
  /** A camera event that is not a plate read (counting, parking, list event…), recorded as such. */
  onCameraEvent(kind: string, data: Record<string, unknown>): void;
  onStatus(state: LinkState, detail?: string): void;
  /** A malformed frame or message, or a failed connection attempt: logged and counted; the link goes on. */
  onError(problem: string): void;
}

export interface CameraLink {
  /** Stop reconnecting, close sockets and timers. Resolves when nothing is left open. */
  close(): Promise<void>;
}

/** A protocol where the controller connects to the camera, or listens on a TCP port for it. */
export interface LinkAdapter {
  kind: "link";
  protocol: string;
  /** TypeBox schema of `camera.connection` for this protocol (host, port, credentials, timings…). */
  settings: TObject;
  open(context: LinkContext): CameraLink;
}

export type CameraProtocol = PushAdapter | LinkAdapter;
