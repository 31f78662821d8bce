/**
 * `milestone-event`: each decision as an event in Milestone XProtect (protocols.md §4), in one of two forms:
 *
 * - `mode: "analytics"` (recommended, §4.1): an `AnalyticsEvent` XML document, POSTed over HTTP to the Event
 *   Server's Analytics Events port (default 9090; off until enabled in the Management Client, Tools → Options →
 *   Analytics Events, with this controller's address allowed). The event must be defined as an Analytics Event
 *   and an alarm definition made for it. Delivered = the server answered 2xx; 400 (document refused) marks the
 *   message failed; 403 (address not allowed), 5xx and network errors are retried. The answer's body is not
 *   relied on (its format is UNVERIFIED in protocols.md); a "Warning" in it is logged.
 * - `mode: "generic"` (§4.2): an ASCII string over TCP to the Generic Event port (default 1234), then the
 *   socket is closed. No authentication, no acknowledgement: delivered = the bytes went out and the server
 *   closed (or kept open without a reset; see outbox/tcp.ts). The Event Server must allow our address.
 *
 * Documents are built at decision time with a new GUID per event, so a retried message carries the same ID.
 */
import { randomUUID } from "node:crypto";
import { type Static, Type } from "typebox";
import type { EventView } from "../events.js";
import { xmlText } from "../ingest/vivotek-document.js";
import { checkStatus, HttpClient } from "../outbox/http.js";
import type { OutboxRow } from "../outbox/repo.js";
import { sendTcp, TERMINATORS } from "../outbox/tcp.js";
import { fill, placeholderHelp, toAscii } from "../outbox/text.js";
import { deliverySettings, type Sender } from "../outbox/types.js";
import type { Logger } from "../util/log.js";
import { isoWithOffset, isTimeZone } from "../util/time.js";
import type { NetworkAction } from "./types.js";

export const kind = "network";

export const ANALYTICS_PORT = 9090;
export const GENERIC_PORT = 1234;
export const NAMESPACE = "urn:milestone-systems";
export const XSI = "http://www.w3.org/2001/XMLSchema-instance";
/** VideoOS.Platform.Kind.Camera, the FQID `Kind` of a camera (Milestone's AnalyticsEvent.xsd). */
export const CAMERA_KIND = "5135BA21-F1DC-4321-806A-6CE2017343C0";

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const sourceHelp = "{source} (the camera's Milestone source)";

export const schema = Type.Object(
  {
    type: Type.Literal("milestone-event"),
    mode: Type.Union([Type.Literal("analytics"), Type.Literal("generic")], {
      default: "analytics",
      description: "analytics: AnalyticsEvent XML over HTTP (recommended); generic: an ASCII string over TCP",
    }),
    host: Type.String({ minLength: 1, maxLength: 253, description: "the XProtect Event Server's address" }),
    port: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 65_535, description: "default: 9090 (analytics), 1234 (generic)" }),
    ),
    cameraRefs: Type.Record(Type.String(), Type.String({ minLength: 1, maxLength: 256 }), {
      default: {},
      description:
        "our camera id → its Milestone source: a camera GUID (sent as Source/FQID/ObjectId), or the camera's name, URI or IP (Source/Name; 'IP,channel' picks a channel)",
    }),
    source: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description:
          "the source of events from cameras not in cameraRefs; default: none (analytics), our camera id (generic)",
      }),
    ),
    eventType: Type.String({
      minLength: 1,
      maxLength: 200,
      default: "ANPR {decision}",
      description: `analytics: the Analytics Event's name exactly as defined in the Management Client (EventHeader Type); ${placeholderHelp}`,
    }),
    message: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 500,
        description: `analytics: EventHeader Message (must match the alarm definition's event); default: the same text as eventType; ${placeholderHelp}`,
      }),
    ),
    description: Type.String({
      maxLength: 2000,
      default: "{plate} {decision} on lane {lane} ({list}): {reason}",
      description: `analytics: Description, shown with the alarm in the Smart Client ("" for none); ${placeholderHelp}`,
    }),
    customTag: Type.Optional(
      Type.String({
        maxLength: 200,
        description: `analytics: CustomTag (alarm filters); ${placeholderHelp}`,
      }),
    ),
    location: Type.Optional(
      Type.String({ maxLength: 200, description: `analytics: Location; ${placeholderHelp}` }),
    ),
    vendor: Type.String({
      minLength: 1,
      maxLength: 100,
      default: "Portcullis",
      description: "analytics: Vendor Name",
    }),
    timeZone: Type.String({
      minLength: 1,
      maxLength: 64,
      default: "UTC",
      description: "analytics: IANA zone the Timestamp is written in (always with its offset)",
    }),
    text: Type.String({
      minLength: 1,
      maxLength: 500,
      default: "ANPR;{lane};{plate};{decision}",
      description: `generic: the string sent, folded to US-ASCII; ${placeholderHelp} ${sourceHelp}`,
    }),
    terminator: Type.Union(
      [
        Type.Literal("crlf"),
        Type.Literal("lf"),
        Type.Literal("cr"),
        Type.Literal("nul"),
        Type.Literal("none"),
      ],
      { default: "crlf", description: "generic: appended to the string (match the data source's separator)" },
    ),
    ...deliverySettings,
  },
  {
    additionalProperties: false,
    description: "Milestone XProtect: Analytics Event (XML) or Generic Event (TCP)",
  },
);

export type Config = Static<typeof schema>;

export function portOf(config: Pick<Config, "mode" | "port">): number {
  return config.port ?? (config.mode === "generic" ? GENERIC_PORT : ANALYTICS_PORT);
}

/** The stored message: the exact document or string to send. */
type Payload = { xml: string } | { text: string };

/** The configured Milestone source of this event's camera, or null for none. */
function sourceOf(config: Config, event: EventView): string | null {
  return config.cameraRefs[event.cameraId] ?? config.source ?? null;
}

function fillSource(template: string, event: EventView, source: string): string {
  return fill(template, event).replaceAll("{source}", source);
}

/** `<Source>`: a GUID as an FQID (with the camera Kind the schema requires), anything else as a Name. */
function sourceXml(source: string): string {
  if (GUID.test(source))
    return `<Source><FQID><ObjectId>${source}</ObjectId><FolderType>0</FolderType><Kind>${CAMERA_KIND}</Kind></FQID></Source>`;
  return `<Source><Name>${xmlText(source)}</Name></Source>`;
}

/**
 * The AnalyticsEvent for one decision (protocols.md §4.1; element order as Milestone's AnalyticsEvent.xsd):
 * EventHeader (ID, Timestamp, Type, Message, CustomTag, Source), Description, Location, ObjectList (the plate
 * as an object whose Value is the plate text), Vendor.
 */
export function analyticsEventXml(config: Config, event: EventView, id: string = randomUUID()): string {
  // An unknown zone must not throw on the decision path: the time is then written in UTC (sender() warns).
  const zone = isTimeZone(config.timeZone) ? config.timeZone : "UTC";
  const type = fill(config.eventType, event);
  const message = config.message === undefined ? type : fill(config.message, event);
  const source = sourceOf(config, event);
  const optional = (name: string, template: string | undefined): string => {
    const text = template === undefined ? "" : fill(template, event);
    return text === "" ? "" : `<${name}>${xmlText(text)}</${name}>`;
  };
  const confidence =
    event.confidence === null ? "" : `<Confidence>${(event.confidence / 100).toFixed(2)}</Confidence>`;
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<AnalyticsEvent xmlns:i="${XSI}" xmlns="${NAMESPACE}">`,
    "<EventHeader>",
    `<ID>${id}</ID>`,
    `<Timestamp>${isoWithOffset(Date.parse(event.receivedAt), zone)}</Timestamp>`,
    `<Type>${xmlText(type)}</Type>`,
    `<Message>${xmlText(message)}</Message>`,
    optional("CustomTag", config.customTag),
    source === null ? "" : sourceXml(source),
    "</EventHeader>",
    optional("Description", config.description),
    optional("Location", config.location),
    "<ObjectList><Object>",
    `<Name>LicensePlate</Name>${confidence}<Value>${xmlText(event.plate)}</Value><AlarmTrigger>true</AlarmTrigger>`,
    "</Object></ObjectList>",
    `<Vendor><Name>${xmlText(config.vendor)}</Name></Vendor>`,
    "</AnalyticsEvent>",
  ].join("");
}

/** The Generic Event string for one decision: the template, US-ASCII, plus the terminator. */
export function genericEventText(config: Config, event: EventView): string {
  const source = sourceOf(config, event) ?? event.cameraId;
  return toAscii(fillSource(config.text, event, source)) + TERMINATORS[config.terminator];
}

export function network(config: Config): NetworkAction {
  return {
    compose: ({ event }) => ({
      payload: (config.mode === "generic"
        ? { text: genericEventText(config, event) }
        : { xml: analyticsEventXml(config, event) }) satisfies Payload,
    }),
    sender: (log) => {
      if (config.mode === "generic") return new GenericSender(config);
      if (!isTimeZone(config.timeZone))
        log.warn(
          { timeZone: config.timeZone },
          "milestone-event: unknown timeZone; timestamps are written in UTC",
        );
      return new AnalyticsSender(config, log);
    },
  };
}

class AnalyticsSender implements Sender {
  private readonly url: URL;

  constructor(
    config: Config,
    private readonly log: Logger,
  ) {
    this.url = new URL(
      `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${portOf(config)}/`,
    );
  }

  async send(message: OutboxRow, signal: AbortSignal): Promise<void> {
    const { xml } = JSON.parse(message.payload) as { xml: string };
    // A connection per event, closed after the answer (protocols.md's example says `Connection: close`): a
    // kept-alive socket the server closes unannounced would turn the next event into a reset and a resend.
    const client = new HttpClient(false);
    const res = await client
      .request(this.url, {
        method: "POST",
        headers: {
          "content-type": "text/xml; charset=utf-8",
          connection: "close",
          "user-agent": "portcullis",
        },
        body: Buffer.from(xml, "utf8"),
        signal,
      })
      .finally(() => client.close());
    checkStatus(res.status, `analytics event to ${this.url.host}`);
    const reply = res.body.toString("utf8", 0, Math.min(res.body.length, 300));
    // E.g. "Warning: Event message not known": accepted, but no analytics event of that name is defined.
    if (/warning/i.test(reply))
      this.log.warn(
        { id: message.id, reply },
        "the Event Server accepted the analytics event with a warning",
      );
  }
}

class GenericSender implements Sender {
  private readonly port: number;

  constructor(private readonly config: Config) {
    this.port = portOf(config);
  }

  send(message: OutboxRow, signal: AbortSignal): Promise<void> {
    const { text } = JSON.parse(message.payload) as { text: string };
    return sendTcp({
      host: this.config.host,
      port: this.port,
      bytes: Buffer.from(text, "ascii"),
      signal,
      lingerMs: Math.min(1000, Math.floor(this.config.timeoutMs / 2)),
    });
  }
}
