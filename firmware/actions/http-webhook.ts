/**
 * `http-webhook`: POST each decision to a URL. `format: "event"` sends the event as JSON, exactly as
 * `GET /api/v1/events` shows it; `format: "numberok"` sends NumberOk EDGE's "JSON over HTTP(s)" document
 * (specs/001 field table) with the picture, as multipart/form-data (parts `json` and `image`), so anything
 * that takes NumberOk EDGE pushes takes ours.
 * Every request carries `Idempotency-Key: portcullis-<message id>`: delivery is at-least-once.
 * 2xx = delivered; 408/425/429/5xx, 401/403 and network errors are retried; other statuses mark the message
 * failed (see outbox/http.ts).
 */
import { randomBytes } from "node:crypto";
import { type Static, Type } from "typebox";
import type { EventView } from "../events.js";
import type { ImageKind } from "../ingest/types.js";
import { checkStatus, HttpClient } from "../outbox/http.js";
import type { OutboxRow } from "../outbox/repo.js";
import { deliverySettings, type MessageDraft, type Sender } from "../outbox/types.js";
import type { NetworkAction, NetworkContext } from "./types.js";

export const kind = "network";

export const schema = Type.Object(
  {
    type: Type.Literal("http-webhook"),
    url: Type.String({ pattern: "^https?://", maxLength: 2048, description: "http:// or https:// URL" }),
    format: Type.Union([Type.Literal("event"), Type.Literal("numberok")], {
      default: "event",
      description: "event: the event view as JSON; numberok: NumberOk EDGE JSON + picture, multipart",
    }),
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: "^[A-Za-z0-9-]+$" }), Type.String({ maxLength: 1024 }), {
        description: "extra request headers (their values are never logged)",
      }),
    ),
    auth: Type.Optional(
      Type.Union([
        Type.Object(
          { type: Type.Literal("basic"), username: Type.String(), password: Type.String() },
          { additionalProperties: false },
        ),
        Type.Object(
          { type: Type.Literal("bearer"), token: Type.String({ minLength: 1 }) },
          { additionalProperties: false },
        ),
      ]),
    ),
    verifyTls: Type.Boolean({ default: true, description: "check the server's certificate (https)" }),
    numberok: Type.Object(
      {
        image: Type.Union([Type.Literal("plate"), Type.Literal("frame")], {
          default: "plate",
          description: "the plate crop or the full frame (imageType)",
        }),
        sensorProviderID: Type.Optional(
          Type.String({ maxLength: 128, description: "default: the camera's id" }),
        ),
        geotag: Type.Optional(
          Type.Object({ lat: Type.Number(), lon: Type.Number() }, { additionalProperties: false }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    ...deliverySettings,
  },
  { additionalProperties: false, description: "POST each decision to a URL (JSON, or NumberOk multipart)" },
);

export type Config = Static<typeof schema>;

interface Payload {
  /** The JSON document, as text. */
  json: string;
  /** numberok: the picture's file type and imageType, when there is one. */
  image?: { ext: string; type: "plate" | "frame" };
}

export function network(config: Config): NetworkAction {
  return {
    compose: (ctx) => compose(config, ctx),
    sender: () => new WebhookSender(config),
  };
}

function compose(config: Config, ctx: NetworkContext): MessageDraft {
  if (config.format === "event") return { payload: { json: JSON.stringify(ctx.event) } };
  const wanted: ImageKind = config.numberok.image === "plate" ? "plate" : "full";
  const image = ctx.images.find((i) => i.kind === wanted) ?? ctx.images[0];
  const json = numberokDocument(ctx.event, config, image ? config.numberok.image : null);
  const type = config.numberok.image;
  if (image)
    return { payload: { json, image: { ext: image.ext, type } } satisfies Payload, attachment: image.data };
  // The picture is still on its way: the message waits for it briefly (it goes without one otherwise).
  if (ctx.laterPictures) return { payload: { json, image: { ext: "jpg", type } }, awaitPicture: wanted };
  return { payload: { json } };
}

/** "YYYYMMDD HHMMSSmmm", UTC, as NumberOk writes times. */
function edgeTime(iso: string): string {
  const d = iso.replace(/[-:]/g, "");
  return `${d.slice(0, 8)} ${d.slice(9, 15)}${d.slice(16, 19)}`;
}

/** Every character as \uXXXX, as NumberOk writes its "escaped Unicode" plate fields. */
function escapedUnicode(text: string): string {
  return Array.from(text)
    .map((c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`)
    .join("");
}

/** The specs/001 document for an event. Reserved and deprecated fields are sent with neutral values. */
export function numberokDocument(
  event: EventView,
  config: Config,
  imageType: "plate" | "frame" | null,
): string {
  const time = edgeTime(event.receivedAt);
  const plate = event.plate;
  const ascii = plate.normalize("NFKD").replace(/[^A-Za-z0-9]/g, "");
  const country = event.extras.country;
  const doc: Record<string, unknown> = {
    packetCounter: String(event.id),
    datetime: time,
    plateText: "\0plate\0",
    plateCountry: typeof country === "string" ? country : "",
    plateConfidence: event.confidence === null ? "" : (event.confidence / 100).toFixed(6),
    carState: "new",
    geotag: config.numberok.geotag ?? { lat: 0, lon: 0 },
    imageType: imageType ?? "plate",
    plateImageType: "jpg",
    plateImageSize: "0",
    carMoveDirection: event.direction === "in" || event.direction === "out" ? event.direction : "unknown",
    timeProcessing: String(Math.round(event.latencyMs ?? 0)),
    timeDetection: time,
    plateCoordinates: [],
    carID: String(event.id),
    GEOtarget: "",
    datetimezone: `${event.receivedAt.slice(0, 19)}+0000`,
    carVerticalDirection: "unknown",
    recognitionZone: "1",
    imagesURI: [],
    plateASCII: ascii,
    plateUnicode: "\0plate\0",
    sensorProviderID: config.numberok.sensorProviderID ?? event.cameraId,
    // Not in NumberOk's table: what the controller decided, for receivers that want it.
    decision: event.decision,
    listName: event.listName,
  };
  // JSON.stringify would write the characters; NumberOk writes them as \u escapes.
  return JSON.stringify(doc).replaceAll('"\\u0000plate\\u0000"', `"${escapedUnicode(plate)}"`);
}

class WebhookSender implements Sender {
  private readonly url: URL;
  private readonly client: HttpClient;
  private readonly headers: Record<string, string>;

  constructor(private readonly config: Config) {
    this.url = new URL(config.url);
    this.client = new HttpClient(this.url.protocol === "https:", config.verifyTls);
    const auth = config.auth;
    this.headers = {
      "user-agent": "portcullis",
      ...config.headers,
      ...(auth?.type === "basic"
        ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}` }
        : auth?.type === "bearer"
          ? { authorization: `Bearer ${auth.token}` }
          : {}),
    };
  }

  async send(message: OutboxRow, signal: AbortSignal): Promise<void> {
    const payload = JSON.parse(message.payload) as Payload;
    const headers: Record<string, string> = {
      ...this.headers,
      "idempotency-key": `portcullis-${message.id}`,
    };
    let body: Buffer;
    if (this.config.format === "event") {
      body = Buffer.from(payload.json);
      headers["content-type"] = "application/json";
    } else {
      const boundary = `portcullis-${randomBytes(12).toString("hex")}`;
      body = multipart(boundary, payload, message.attachment);
      headers["content-type"] = `multipart/form-data; boundary=${boundary}`;
    }
    const res = await this.client.request(this.url, { method: "POST", headers, body, signal });
    checkStatus(res.status, `POST ${this.url.host}${this.url.pathname}`);
  }
}

function multipart(boundary: string, payload: Payload, picture: Buffer | null): Buffer {
  const parts: Buffer[] = [
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="json"; filename="event.json"\r\nContent-Type: application/json\r\n\r\n${payload.json}\r\n`,
    ),
  ];
  if (picture) {
    const ext = payload.image?.ext ?? "jpg";
    const name = payload.image?.type ?? "plate";
    const type = ext === "png" ? "image/png" : "image/jpeg";
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${name}.${ext}"\r\nContent-Type: ${type}\r\n\r\n`,
      ),
      picture,
      Buffer.from("\r\n"),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(parts);
}
