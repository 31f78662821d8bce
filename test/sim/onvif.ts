/**
 * A simulated ONVIF camera (protocols.md §7): a real HTTP SOAP server on loopback with the device service
 * (GetSystemDateAndTime, GetServices) and the event service (CreatePullPointSubscription, PullMessages as a
 * long poll, Renew, Unsubscribe). Every request but GetSystemDateAndTime must carry a WS-Security
 * UsernameToken whose PasswordDigest, Created (within ±5 s of the camera's clock, which may be off) and
 * fresh Nonce check out; otherwise it answers ter:NotAuthorized as cameras do. Like a real camera, a new
 * subscription first gets the last plate again as an `Initialized` state message.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { XMLParser } from "fast-xml-parser";

export const PLATE_TOPIC = "tns1:RuleEngine/LicensePlateDetector/LicensePlate";

export interface OnvifPlate {
  plate: string;
  confidence?: number;
  country?: string;
  direction?: string;
  /** new → PropertyOperation Initialized, update → Changed, lost → Deleted; absent → Changed (Milesight). */
  phase?: "new" | "update" | "lost";
  /** The SimpleItem carrying the plate: `LicensePlate` (default, in Data) or `LicensePlateResult` (Key). */
  plateItem?: string;
  /** UtcTime; default the camera's now. */
  time?: string;
}

export interface OnvifCameraOptions {
  port?: number;
  username: string;
  password: string;
  /** The camera's clock minus the real one, ms (a camera without NTP). */
  clockOffsetMs?: number;
  /** Status of a ter:NotAuthorized reply: 400 (SOAP 1.2 sender fault, most cameras) or 401. */
  authFailureStatus?: 400 | 401;
  /** The host the camera puts in addresses it hands out (a NATed camera names one we cannot reach). */
  advertisedHost?: string;
  /** Where GetServices says the event service is. */
  eventPath?: string;
  /** Axis style: one subscription address for all, the subscription named by a reference parameter. */
  referenceParameters?: boolean;
  /** Namespace prefixes of replies: the usual tt/wsnt/tev, or gSOAP-style ns1, ns2… */
  prefixes?: "standard" | "numbered";
}

export interface OnvifRequest {
  operation: string;
  path: string;
  to: string | null;
  subscriptionId: string | null;
}

export interface OnvifCamera {
  port: number;
  /** Queue a plate on every live subscription (answers a held PullMessages at once). */
  sendPlate(plate: OnvifPlate): Promise<void>;
  /** An event on another topic, delivered whatever the filter (some cameras ignore filters). */
  sendEvent(topic: string, items: Record<string, string>): Promise<void>;
  subscriptions(): number;
  /** Open TCP connections to the camera. */
  connections(): number;
  /** Every request that passed authentication, in order. */
  requests(): readonly OnvifRequest[];
  /** The topic filters subscriptions were created with. */
  filters(): readonly string[];
  /** The pending (else the next) PullMessages loses its connection (camera reboot, network drop). */
  failNextPull(): void;
  /** The camera forgets every subscription: held and later pulls get a fault. */
  expireSubscription(): void;
  setClockOffset(ms: number): void;
  close(): Promise<void>;
}

const NS = {
  s: "http://www.w3.org/2003/05/soap-envelope",
  wsa: "http://www.w3.org/2005/08/addressing",
  tev: "http://www.onvif.org/ver10/events/wsdl",
  tds: "http://www.onvif.org/ver10/device/wsdl",
  wsnt: "http://docs.oasis-open.org/wsn/b-2",
  tt: "http://www.onvif.org/ver10/schema",
  tns1: "http://www.onvif.org/ver10/topics",
  ter: "http://www.onvif.org/ver10/error",
  sim: "urn:portcullis:onvif-sim",
};
const NUMBERED: Record<string, string> = {
  s: "SOAP-ENV",
  wsa: "ns1",
  tev: "ns2",
  tds: "ns3",
  wsnt: "ns4",
  tt: "ns5",
  ter: "ns6",
};
const PHASE_OPERATION = { new: "Initialized", update: "Changed", lost: "Deleted" } as const;
const CONCRETE_SET = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet";
const MAX_REQUEST_BYTES = 64 * 1024;

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Prefix mapping for replies: `p("tt")` → "tt:" or "ns5:". */
type Prefixer = (ns: keyof typeof NS) => string;
export function prefixer(style: "standard" | "numbered" | "none" = "standard"): Prefixer {
  return (ns) => (style === "none" ? "" : `${style === "numbered" ? (NUMBERED[ns] ?? ns) : ns}:`);
}

/** A SOAP envelope declaring every namespace under the style's prefixes (default namespace for "none"). */
export function envelopeXml(body: string, style: "standard" | "numbered" | "none" = "standard"): string {
  const p = prefixer(style);
  const decls =
    style === "none"
      ? `xmlns="${NS.s}"`
      : Object.entries(NS)
          .map(([k, uri]) => `xmlns:${p(k as keyof typeof NS).slice(0, -1)}="${uri}"`)
          .join(" ");
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${p("s")}Envelope ${decls}><${p("s")}Body>${body}</${p("s")}Body></${p("s")}Envelope>`;
}

function item(p: Prefixer, name: string, value: string): string {
  return `<${p("tt")}SimpleItem Name="${escapeXml(name)}" Value="${escapeXml(value)}"/>`;
}

/** One wsnt:NotificationMessage in the ONVIF/Milesight form (specs/002 "RTSP Type"). */
export function notificationXml(
  topic: string,
  message: {
    utcTime: string;
    operation?: string;
    key?: Record<string, string>;
    data?: Record<string, string>;
  },
  p: Prefixer = prefixer(),
): string {
  const items = (m: Record<string, string> | undefined): string =>
    Object.entries(m ?? {})
      .map(([k, v]) => item(p, k, v))
      .join("");
  const operation = message.operation ? ` PropertyOperation="${message.operation}"` : "";
  return `<${p("wsnt")}NotificationMessage><${p("wsnt")}Topic Dialect="${CONCRETE_SET}">${escapeXml(topic)}</${p("wsnt")}Topic>
<${p("wsnt")}Message><${p("tt")}Message UtcTime="${message.utcTime}"${operation}>
<${p("tt")}Source>${item(p, "VideoSourceConfigurationToken", "VideoSourceToken")}${item(p, "VideoAnalyticsConfigurationToken", "VideoAnalyticsToken")}${item(p, "Rule", "MyLicensePlateDetectorRule")}</${p("tt")}Source>
<${p("tt")}Key>${items(message.key)}</${p("tt")}Key><${p("tt")}Data>${items(message.data)}</${p("tt")}Data>
</${p("tt")}Message></${p("wsnt")}Message></${p("wsnt")}NotificationMessage>`;
}

/** The notification for a plate read, as sendPlate queues it. */
export function plateNotificationXml(plate: OnvifPlate, utcTime: string, p: Prefixer = prefixer()): string {
  const plateItem = plate.plateItem ?? "LicensePlate";
  const data: Record<string, string> = {};
  if (plateItem !== "LicensePlateResult") data[plateItem] = plate.plate;
  if (plate.confidence !== undefined) data.Confidence = String(plate.confidence);
  if (plate.country !== undefined) data.Country = plate.country;
  if (plate.direction !== undefined) data.Direction = plate.direction;
  data.LicensePlatePicturePath = "/LPR/2018051506193401.jpg";
  return notificationXml(
    PLATE_TOPIC,
    {
      utcTime,
      operation: PHASE_OPERATION[plate.phase ?? "update"],
      key: plateItem === "LicensePlateResult" ? { LicensePlateResult: plate.plate } : {},
      data,
    },
    p,
  );
}

/** A whole PullMessagesResponse envelope. */
export function pullMessagesXml(
  notifications: readonly string[],
  times: { current: string; termination: string },
  style: "standard" | "numbered" | "none" = "standard",
): string {
  const p = prefixer(style);
  return envelopeXml(
    `<${p("tev")}PullMessagesResponse><${p("tev")}CurrentTime>${times.current}</${p("tev")}CurrentTime><${p("tev")}TerminationTime>${times.termination}</${p("tev")}TerminationTime>${notifications.join("")}</${p("tev")}PullMessagesResponse>`,
    style,
  );
}

export function faultXml(code: string, subcode: string, reason: string, p: Prefixer = prefixer()): string {
  return `<${p("s")}Fault><${p("s")}Code><${p("s")}Value>${p("s")}${code}</${p("s")}Value><${p("s")}Subcode><${p("s")}Value>${subcode}</${p("s")}Value></${p("s")}Subcode></${p("s")}Code><${p("s")}Reason><${p("s")}Text xml:lang="en">${escapeXml(reason)}</${p("s")}Text></${p("s")}Reason></${p("s")}Fault>`;
}

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  parseTagValue: false,
  processEntities: false,
});

type Node = Record<string, any>;

const DURATION = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/;
function durationMs(text: unknown, fallback: number): number {
  if (typeof text !== "string") return fallback;
  const m = DURATION.exec(text.trim());
  if (m) return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? fallback : at;
}

function textOf(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as Node)["#text"] === "string") return (v as Node)["#text"];
  return null;
}

interface Subscription {
  id: string;
  expiresAt: number;
  queue: string[];
  held: { res: ServerResponse; limit: number; timer: NodeJS.Timeout } | null;
}

class Fault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly subcode: string,
    reason: string,
  ) {
    super(reason);
  }
}

export async function startOnvifCamera(opts: OnvifCameraOptions): Promise<OnvifCamera> {
  let clockOffsetMs = opts.clockOffsetMs ?? 0;
  const style = opts.prefixes ?? "standard";
  const p = prefixer(style);
  const subs = new Map<string, Subscription>();
  const log: OnvifRequest[] = [];
  const filters: string[] = [];
  const nonces = new Set<string>();
  const sockets = new Set<import("node:net").Socket>();
  let nextId = 1;
  let failNext = false;
  let lastPlate: { xml: (utcTime: string) => string; utcTime: string } | null = null;
  const eventPath = opts.eventPath ?? "/onvif/Events";
  const now = (): number => Date.now() + clockOffsetMs;
  // Milliseconds kept: state replays must be told apart from reads in the subscription's own second.
  const iso = (ms: number): string => new Date(ms).toISOString();
  let base = "";

  const reply = (res: ServerResponse, status: number, body: string): void => {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { "content-type": "application/soap+xml; charset=utf-8" });
    res.end(envelopeXml(body, style));
  };
  const sendFault = (res: ServerResponse, f: Fault): void =>
    reply(res, f.status, faultXml(f.code, f.subcode, f.message, p));

  const pullBody = (sub: Subscription, limit: number): string => {
    const messages = sub.queue.splice(0, limit);
    return `<${p("tev")}PullMessagesResponse><${p("tev")}CurrentTime>${iso(now())}</${p("tev")}CurrentTime><${p("tev")}TerminationTime>${iso(sub.expiresAt)}</${p("tev")}TerminationTime>${messages.join("")}</${p("tev")}PullMessagesResponse>`;
  };

  const release = (sub: Subscription): void => {
    if (!sub.held || sub.queue.length === 0) return;
    clearTimeout(sub.held.timer);
    const { res, limit } = sub.held;
    sub.held = null;
    reply(res, 200, pullBody(sub, limit));
  };

  const queue = (xml: string): void => {
    for (const sub of subs.values()) {
      sub.queue.push(xml);
      release(sub);
    }
  };

  const authenticate = (header: Node | undefined): void => {
    const token = header?.Security?.UsernameToken as Node | undefined;
    const refuse = (why: string): never => {
      throw new Fault(
        opts.authFailureStatus ?? 400,
        "Sender",
        "ter:NotAuthorized",
        `Sender not authorized (${why})`,
      );
    };
    if (!token) refuse("no UsernameToken");
    const username = textOf(token?.Username);
    const digest = textOf(token?.Password);
    const nonce = textOf(token?.Nonce);
    const created = textOf(token?.Created);
    if (!username || !digest || !nonce || !created) throw refuse("incomplete UsernameToken");
    if (!String(token?.Password?.["@_Type"] ?? "").endsWith("#PasswordDigest"))
      refuse("not a PasswordDigest");
    const expected = createHash("sha1")
      .update(Buffer.concat([Buffer.from(nonce, "base64"), Buffer.from(created), Buffer.from(opts.password)]))
      .digest("base64");
    if (username !== opts.username || digest !== expected) refuse("wrong user or password");
    if (Math.abs(Date.parse(created) - now()) > 5000) refuse("Created outside the camera's clock window");
    if (nonces.has(nonce)) refuse("nonce replayed");
    if (nonces.size > 1000) nonces.clear();
    nonces.add(nonce);
  };

  const subscriptionOf = (path: string, header: Node | undefined): Subscription => {
    const id = opts.referenceParameters
      ? textOf(header?.SubscriptionId)
      : (/^\/onvif\/subscription\/(\d+)$/.exec(path)?.[1] ?? null);
    const sub = id === null ? undefined : subs.get(id);
    if (!sub || sub.expiresAt < now()) {
      if (sub) subs.delete(sub.id);
      throw new Fault(400, "Sender", "ter:InvalidArgVal", `no such subscription: ${id}`);
    }
    return sub;
  };

  const handle = (req: IncomingMessage, res: ServerResponse, text: string) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    let doc: Node;
    try {
      doc = parser.parse(text, true) as Node;
    } catch {
      throw new Fault(400, "Sender", "ter:WellFormed", "malformed request");
    }
    const header = doc.Envelope?.Header as Node | undefined;
    const body = (doc.Envelope?.Body ?? {}) as Node;
    const operation = Object.keys(body).find((k) => !k.startsWith("@_")) ?? "";
    const request = body[operation] as Node | string;
    const args = typeof request === "object" ? request : {};
    if (operation === "GetSystemDateAndTime") {
      const t = new Date(now());
      reply(
        res,
        200,
        `<${p("tds")}GetSystemDateAndTimeResponse><${p("tds")}SystemDateAndTime><${p("tt")}DateTimeType>Manual</${p("tt")}DateTimeType><${p("tt")}DaylightSavings>false</${p("tt")}DaylightSavings><${p("tt")}UTCDateTime><${p("tt")}Time><${p("tt")}Hour>${t.getUTCHours()}</${p("tt")}Hour><${p("tt")}Minute>${t.getUTCMinutes()}</${p("tt")}Minute><${p("tt")}Second>${t.getUTCSeconds()}</${p("tt")}Second></${p("tt")}Time><${p("tt")}Date><${p("tt")}Year>${t.getUTCFullYear()}</${p("tt")}Year><${p("tt")}Month>${t.getUTCMonth() + 1}</${p("tt")}Month><${p("tt")}Day>${t.getUTCDate()}</${p("tt")}Day></${p("tt")}Date></${p("tt")}UTCDateTime></${p("tds")}SystemDateAndTime></${p("tds")}GetSystemDateAndTimeResponse>`,
      );
      return;
    }
    authenticate(header);
    log.push({
      operation,
      path,
      to: textOf(header?.To),
      subscriptionId: textOf(header?.SubscriptionId),
    });
    switch (operation) {
      case "GetServices":
        return reply(
          res,
          200,
          `<${p("tds")}GetServicesResponse><${p("tds")}Service><${p("tds")}Namespace>${NS.tds}</${p("tds")}Namespace><${p("tds")}XAddr>${base}/onvif/device_service</${p("tds")}XAddr></${p("tds")}Service><${p("tds")}Service><${p("tds")}Namespace>${NS.tev}</${p("tds")}Namespace><${p("tds")}XAddr>${base}${eventPath}</${p("tds")}XAddr></${p("tds")}Service></${p("tds")}GetServicesResponse>`,
        );
      case "CreatePullPointSubscription": {
        if (path !== eventPath)
          throw new Fault(400, "Sender", "ter:ActionNotSupported", `no event service at ${path}`);
        const id = String(nextId++);
        const sub: Subscription = {
          id,
          expiresAt: now() + durationMs(args.InitialTerminationTime, 60_000),
          queue: [],
          held: null,
        };
        subs.set(id, sub);
        filters.push(textOf(args.Filter?.TopicExpression) ?? "");
        // Property semantics: a new subscriber first learns the current state, i.e. the last plate.
        if (lastPlate) sub.queue.push(lastPlate.xml(lastPlate.utcTime));
        const address = opts.referenceParameters ? `${base}${eventPath}` : `${base}/onvif/subscription/${id}`;
        const params = opts.referenceParameters
          ? `<${p("wsa")}ReferenceParameters><sim:SubscriptionId>${id}</sim:SubscriptionId></${p("wsa")}ReferenceParameters>`
          : "";
        return reply(
          res,
          200,
          `<${p("tev")}CreatePullPointSubscriptionResponse><${p("tev")}SubscriptionReference><${p("wsa")}Address>${escapeXml(address)}</${p("wsa")}Address>${params}</${p("tev")}SubscriptionReference><${p("wsnt")}CurrentTime>${iso(now())}</${p("wsnt")}CurrentTime><${p("wsnt")}TerminationTime>${iso(sub.expiresAt)}</${p("wsnt")}TerminationTime></${p("tev")}CreatePullPointSubscriptionResponse>`,
        );
      }
      case "PullMessages": {
        const sub = subscriptionOf(path, header);
        if (failNext) {
          failNext = false;
          req.socket.destroy();
          return;
        }
        if (sub.held) throw new Fault(400, "Sender", "ter:InvalidArgVal", "a pull is already pending");
        const limit = Number(textOf(args.MessageLimit) ?? 1) || 1;
        const timeout = durationMs(args.Timeout, 10_000);
        if (sub.queue.length > 0) return reply(res, 200, pullBody(sub, limit));
        const timer = setTimeout(() => {
          sub.held = null;
          reply(res, 200, pullBody(sub, limit));
        }, timeout);
        sub.held = { res, limit, timer };
        res.on("close", () => {
          if (sub.held?.res === res) {
            clearTimeout(timer);
            sub.held = null;
          }
        });
        return;
      }
      case "Renew": {
        const sub = subscriptionOf(path, header);
        sub.expiresAt = now() + durationMs(args.TerminationTime, 60_000);
        return reply(
          res,
          200,
          `<${p("wsnt")}RenewResponse><${p("wsnt")}TerminationTime>${iso(sub.expiresAt)}</${p("wsnt")}TerminationTime><${p("wsnt")}CurrentTime>${iso(now())}</${p("wsnt")}CurrentTime></${p("wsnt")}RenewResponse>`,
        );
      }
      case "Unsubscribe": {
        const sub = subscriptionOf(path, header);
        subs.delete(sub.id);
        if (sub.held) {
          clearTimeout(sub.held.timer);
          sub.held.res.destroy();
        }
        return reply(res, 200, `<${p("wsnt")}UnsubscribeResponse/>`);
      }
      default:
        throw new Fault(400, "Sender", "ter:ActionNotSupported", `operation '${operation}' not supported`);
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) req.destroy();
      else chunks.push(c);
    });
    req.on("end", () => {
      try {
        if (req.method !== "POST") throw new Fault(405, "Sender", "ter:InvalidArgVal", "POST only");
        handle(req, res, Buffer.concat(chunks).toString("utf8"));
      } catch (err) {
        if (err instanceof Fault) sendFault(res, err);
        else sendFault(res, new Fault(500, "Receiver", "ter:Action", (err as Error).message));
      }
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  base = `http://${opts.advertisedHost ?? `127.0.0.1:${port}`}`;

  return {
    port,
    async sendPlate(plate) {
      const utcTime = plate.time ?? iso(now());
      const xml = (t: string, operation?: "new"): string =>
        plateNotificationXml({ ...plate, phase: operation ?? plate.phase }, t, p);
      if (plate.phase !== "lost") lastPlate = { xml: (t) => xml(t, "new"), utcTime };
      queue(xml(utcTime));
    },
    async sendEvent(topic, items) {
      queue(notificationXml(topic, { utcTime: iso(now()), operation: "Changed", data: items }, p));
    },
    subscriptions: () => [...subs.values()].filter((s) => s.expiresAt >= now()).length,
    connections: () => sockets.size,
    requests: () => log,
    filters: () => filters,
    failNextPull() {
      const held = [...subs.values()].find((sub) => sub.held);
      if (held?.held) held.held.res.socket?.destroy();
      else failNext = true;
    },
    expireSubscription() {
      for (const sub of subs.values())
        if (sub.held) {
          clearTimeout(sub.held.timer);
          sendFault(sub.held.res, new Fault(400, "Sender", "ter:InvalidArgVal", "subscription expired"));
          sub.held = null;
        }
      subs.clear();
    },
    setClockOffset(ms) {
      clockOffsetMs = ms;
    },
    async close() {
      for (const sub of subs.values()) if (sub.held) clearTimeout(sub.held.timer);
      subs.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
