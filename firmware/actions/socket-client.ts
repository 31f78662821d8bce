/**
 * `socket-client`: the VIVOTEK ANPR camera's "Socket Client" list action (specs/003 §4.4), done by the
 * controller: each decision as an XML or JSON document, with or without the LPR image as base64 inside it
 * ("XML", "XML with LPR image", "JSON", "JSON with LPR image"), over TCP to a host and port. The documents are
 * the ones ingest/vivotek-document.ts writes, so another Portcullis controller takes them on a `vivotek-socket`
 * camera. The manual does not print the element names (protocols.md §5: UNVERIFIED), so a third-party
 * receiver built for real VIVOTEK messages may name fields differently. UTF-8 (the camera's XML files
 * declare utf-8), an optional terminator after each document.
 *
 * One connection per message: connect, write the document, close, and wait for the peer to close its side
 * (see outbox/tcp.ts). A persistent connection would save a handshake per plate, but bytes written to a
 * long-lived socket whose peer has silently gone are lost without an error, so "delivered" would mean
 * nothing; a gate sees a few plates a minute, and the VIVOTEK receiver side takes either.
 * Delivery is at-least-once: a receiver that de-duplicates can use the document's `id` (our event id).
 */
import { type Static, Type } from "typebox";
import type { EventView } from "../events.js";
import type { ImageKind } from "../ingest/types.js";
import { type VivotekField, type VivotekFormat, vivotekDocument } from "../ingest/vivotek-document.js";
import type { OutboxRow } from "../outbox/repo.js";
import { sendTcp, TERMINATORS, type Terminator } from "../outbox/tcp.js";
import { deliverySettings, type MessageDraft, type Sender } from "../outbox/types.js";
import { isoWithOffset, isTimeZone } from "../util/time.js";
import type { NetworkAction, NetworkContext } from "./types.js";

export const kind = "network";

export const schema = Type.Object(
  {
    type: Type.Literal("socket-client"),
    host: Type.String({ minLength: 1, maxLength: 253, description: "the receiving host (HOST)" }),
    port: Type.Integer({
      minimum: 1,
      maximum: 65_535,
      description: "the receiving port (PORT; VIVOTEK's sample test program listens on 17000)",
    }),
    format: Type.Union(
      [Type.Literal("xml"), Type.Literal("xml-image"), Type.Literal("json"), Type.Literal("json-image")],
      {
        default: "xml",
        description: "XML, XML with LPR image, JSON, JSON with LPR image (the picture as base64 inside)",
      },
    ),
    image: Type.Union([Type.Literal("full"), Type.Literal("plate")], {
      default: "full",
      description:
        "-image formats: the full picture (`image`) or the plate crop (`plateimage`), if the read has it",
    }),
    terminator: Type.Union(
      [
        Type.Literal("crlf"),
        Type.Literal("lf"),
        Type.Literal("cr"),
        Type.Literal("nul"),
        Type.Literal("none"),
      ],
      { default: "crlf", description: "bytes after each document (the camera's manual names none)" },
    ),
    timeZone: Type.String({
      minLength: 1,
      maxLength: 64,
      default: "UTC",
      description: "IANA zone the `date` field is written in (always with its offset)",
    }),
    ...deliverySettings,
  },
  { additionalProperties: false, description: "VIVOTEK-style socket client: XML/JSON documents over TCP" },
);

export type Config = Static<typeof schema>;

/** The stored message: the document's fields (the picture, if any, is the message's attachment). */
interface Payload {
  fields: VivotekField[];
  /** The kind of the attached picture, for the -image formats. */
  picture?: ImageKind;
}

/**
 * The document's fields for an event, in the camera's vocabulary: `listid` is our list's id (-1: "not in
 * list", as the camera writes it), `date` the time the controller received the read.
 */
export function socketFields(event: EventView, timeZone: string): VivotekField[] {
  const zone = isTimeZone(timeZone) ? timeZone : "UTC";
  const fields: VivotekField[] = [
    ["id", event.id],
    ["numberplate", event.plate],
  ];
  if (event.confidence !== null) fields.push(["confidence", event.confidence]);
  const country = event.extras.country;
  if (typeof country === "string" && country !== "") fields.push(["country", country]);
  fields.push(
    ["date", isoWithOffset(Date.parse(event.receivedAt), zone)],
    ["lane", /^\d+$/.test(event.laneId) ? Number(event.laneId) : event.laneId],
    ["listid", event.listId ?? -1],
    ["listdescription", event.listName ?? "not in list"],
    // Not in the camera's vocabulary: what this controller decided, for receivers that want it.
    ["decision", event.decision],
    ["cameraname", event.cameraId],
  );
  if (event.direction !== null) fields.push(["direction", event.direction]);
  return fields;
}

function compose(config: Config, ctx: NetworkContext): MessageDraft {
  const fields = socketFields(ctx.event, config.timeZone);
  if (!config.format.endsWith("-image")) return { payload: { fields } satisfies Payload };
  const wanted: ImageKind = config.image;
  const image = ctx.images.find((i) => i.kind === wanted) ?? ctx.images[0];
  if (image) return { payload: { fields, picture: image.kind } satisfies Payload, attachment: image.data };
  // The picture is still on its way: the message waits for it briefly (it goes without one otherwise).
  if (ctx.laterPictures)
    return { payload: { fields, picture: wanted } satisfies Payload, awaitPicture: wanted };
  return { payload: { fields } satisfies Payload };
}

/** The bytes of one stored message: the document (with its picture) and the terminator. */
export function socketMessage(
  format: VivotekFormat,
  terminator: Terminator,
  payload: Payload,
  attachment: Buffer | null,
): Buffer {
  const picture =
    attachment && attachment.length > 0 ? { kind: payload.picture ?? "full", data: attachment } : null;
  return Buffer.from(vivotekDocument(payload.fields, format, picture) + TERMINATORS[terminator], "utf8");
}

export function network(config: Config): NetworkAction {
  return {
    compose: (ctx) => compose(config, ctx),
    sender: () => new SocketClientSender(config),
  };
}

class SocketClientSender implements Sender {
  constructor(private readonly config: Config) {}

  send(message: OutboxRow, signal: AbortSignal): Promise<void> {
    const payload = JSON.parse(message.payload) as Payload;
    return sendTcp({
      host: this.config.host,
      port: this.config.port,
      bytes: socketMessage(this.config.format, this.config.terminator, payload, message.attachment),
      signal,
      lingerMs: Math.min(1000, Math.floor(this.config.timeoutMs / 2)),
    });
  }
}
