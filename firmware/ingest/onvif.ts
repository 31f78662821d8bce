/**
 * ONVIF licence-plate events through a PullPoint subscription (protocols.md §7), for cameras that speak
 * only ONVIF. The controller subscribes to the plate topic (CreatePullPointSubscription with a topic
 * filter), long-polls PullMessages, renews before the subscription's term runs out and unsubscribes on
 * close. Any fault, HTTP error or timeout drops the subscription and starts over after a backoff.
 *
 * The event service is found by asking the device service (GetServices at /onvif/device_service, the
 * path the ONVIF Core spec fixes) unless `eventPath` is set; a camera that cannot answer gets
 * /onvif/event_service. Addresses the camera returns are used for their path only, against the configured
 * host and port, because cameras behind NAT or with several interfaces report addresses we cannot reach.
 *
 * Authentication is a WS-Security UsernameToken with PasswordDigest. Its timestamp must fall within the
 * camera's clock window, so when the camera refuses the credentials the link reads the camera's clock
 * (GetSystemDateAndTime, which needs no credentials) and, if the two clocks differ, signs with the
 * camera's time and tries once more.
 */

import { type Static, Type } from "typebox";
import { backoffMs, backoffSettings } from "./backoff.js";
import { type Notification, plateReadOf, pullResultOf, topicMatches } from "./onvif-events.js";
import {
  buildEnvelope,
  NS,
  OnvifError,
  post,
  referenceParameters,
  type SoapReply,
  type XmlNode,
  xmlChild,
  xmlChildren,
  xmlText,
} from "./onvif-soap.js";
import { type CameraLink, IngestError, type LinkAdapter, type LinkContext } from "./types.js";

export const DEFAULT_TOPIC = "tns1:RuleEngine/LicensePlateDetector/LicensePlate";
export const DEFAULT_EVENT_PATH = "/onvif/event_service";

export const settings = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 253, description: "camera IP address or host name" }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 80, description: "camera HTTP(S) port" }),
    https: Type.Boolean({ default: false, description: "talk to the camera over HTTPS" }),
    verifyTls: Type.Boolean({
      default: true,
      description: "https only: check the camera's certificate; false accepts a self-signed one",
    }),
    devicePath: Type.String({
      pattern: "^/",
      default: "/onvif/device_service",
      description: "device service path (GetServices, GetSystemDateAndTime)",
    }),
    eventPath: Type.Optional(
      Type.String({
        pattern: "^/",
        description: `event service path; when absent it is asked of the camera, else ${DEFAULT_EVENT_PATH}`,
      }),
    ),
    username: Type.String({ minLength: 1, maxLength: 64, description: "ONVIF user on the camera" }),
    password: Type.String({ minLength: 1, maxLength: 128, description: "that user's password" }),
    topic: Type.String({
      minLength: 1,
      maxLength: 512,
      default: DEFAULT_TOPIC,
      description: "topic filter (ConcreteSet dialect; tns1 and tnsaxis prefixes are declared)",
    }),
    pullTimeoutSeconds: Type.Integer({
      minimum: 1,
      maximum: 60,
      default: 10,
      description: "how long the camera may hold a PullMessages request when it has no event",
    }),
    messageLimit: Type.Integer({ minimum: 1, maximum: 100, default: 10, description: "messages per pull" }),
    subscriptionTermSeconds: Type.Integer({
      minimum: 2,
      maximum: 3600,
      default: 60,
      description: "subscription lifetime asked for; renewed before it ends",
    }),
    requestTimeoutSeconds: Type.Integer({
      minimum: 1,
      maximum: 60,
      default: 10,
      description: "how long a camera may take to answer (on top of the pull timeout for PullMessages)",
    }),
    ...backoffSettings(30_000),
  },
  { additionalProperties: false },
);

export type OnvifSettings = Static<typeof settings>;

const ACTION = {
  getServices: "http://www.onvif.org/ver10/device/wsdl/GetServices",
  getSystemDateAndTime: "http://www.onvif.org/ver10/device/wsdl/GetSystemDateAndTime",
  create: "http://www.onvif.org/ver10/events/wsdl/EventPortType/CreatePullPointSubscriptionRequest",
  pull: "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesRequest",
  renew: "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest",
  unsubscribe: "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeRequest",
} as const;
const CONCRETE_SET = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet";
/** Unsubscribe is a courtesy to the camera (it limits subscriptions); never wait long for it. */
const UNSUBSCRIBE_TIMEOUT_MS = 2000;
/** Clocks closer than this are taken as equal: `Created` has whole seconds. */
const SKEW_TOLERANCE_MS = 2000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

interface Subscription {
  /** Where requests go (configured host, the camera's path) and what wsa:To says (the camera's address). */
  url: URL;
  address: string;
  params: string;
  /** Camera clock when the subscription was made: Initialized messages older than this are replays. */
  startedAt: number | null;
  /** performance.now() when the camera will drop the subscription. */
  expiresMono: number;
}

/** Remaining life of a subscription from a reply's CurrentTime/TerminationTime (both camera clock). */
function remainingMs(current: string | null, termination: string | null, fallbackMs: number): number {
  const ms = Date.parse(termination ?? "") - Date.parse(current ?? "");
  return Number.isFinite(ms) && ms > 0 ? ms : fallbackMs;
}

/** tt:DateTime (Date: Year/Month/Day, Time: Hour/Minute/Second) → epoch ms, or null. */
function onvifDateTime(node: XmlNode | null): number | null {
  const date = xmlChild(node, "Date");
  const time = xmlChild(node, "Time");
  if (!date || !time) return null;
  const n = (parent: XmlNode, key: string): number => Number(xmlText(parent[key]));
  const ms = Date.UTC(
    n(date, "Year"),
    n(date, "Month") - 1,
    n(date, "Day"),
    n(time, "Hour"),
    n(time, "Minute"),
    n(time, "Second"),
  );
  return Number.isFinite(ms) ? ms : null;
}

class OnvifLink implements CameraLink {
  private readonly abort = new AbortController();
  private readonly origin: string;
  private readonly deviceUrl: URL;
  private eventUrl: URL | null = null;
  private subscription: Subscription | null = null;
  /** Camera clock minus ours, ms: added to `Created` so the camera accepts our tokens. */
  private clockOffsetMs = 0;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly context: LinkContext,
    private readonly s: OnvifSettings,
  ) {
    const host = s.host.includes(":") && !s.host.startsWith("[") ? `[${s.host}]` : s.host;
    this.origin = `${s.https ? "https" : "http"}://${host}:${s.port}`;
    this.deviceUrl = new URL(s.devicePath, this.origin);
  }

  start(): this {
    this.running = this.run();
    return this;
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private get closed(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      try {
        this.context.onStatus("connecting", this.origin);
        await this.subscribe();
        this.context.onStatus("connected", this.subscription?.address);
        while (!this.closed) {
          await this.renewIfDue();
          await this.pull();
          failures = 0;
        }
      } catch (err) {
        if (this.closed) break;
        const reason = this.describe(err);
        this.context.onError(reason);
        this.context.onStatus("disconnected", reason);
        await this.unsubscribe();
        await sleep(backoffMs(failures++, this.s), this.abort.signal);
      }
    }
    await this.unsubscribe();
  }

  private describe(err: unknown): string {
    if (!(err instanceof OnvifError)) return `ONVIF link failed: ${(err as Error).message}`;
    if (err.auth)
      return `${err.message} — the camera refused user '${this.s.username}': check the ONVIF user's password and rights`;
    return err.message;
  }

  /** An authenticated request envelope, signed with the camera's clock. */
  private envelope(operation: keyof typeof ACTION, body: XmlNode, sub?: Subscription): string {
    return buildEnvelope({
      action: ACTION[operation],
      body,
      credentials: { username: this.s.username, password: this.s.password },
      clockMs: Date.now() + this.clockOffsetMs,
      to: sub?.address,
      referenceParameters: sub?.params,
    });
  }

  private send(
    url: URL,
    operation: keyof typeof ACTION,
    envelope: string,
    timeoutMs: number,
    signal = this.abort.signal,
  ): Promise<SoapReply> {
    return post(url, envelope, { action: ACTION[operation], signal, timeoutMs, verifyTls: this.s.verifyTls });
  }

  /** One SOAP call; a refused token after a clock resync is tried once more. Errors name the operation. */
  private async call(
    url: URL,
    operation: keyof typeof ACTION,
    body: XmlNode,
    options: { sub?: Subscription; extraTimeoutMs?: number } = {},
  ): Promise<SoapReply> {
    const timeoutMs = this.s.requestTimeoutSeconds * 1000 + (options.extraTimeoutMs ?? 0);
    const attempt = (): Promise<SoapReply> =>
      this.send(url, operation, this.envelope(operation, body, options.sub), timeoutMs);
    try {
      try {
        return await attempt();
      } catch (err) {
        if (err instanceof OnvifError && err.auth && (await this.resyncClock())) return await attempt();
        throw err;
      }
    } catch (err) {
      if (err instanceof OnvifError)
        throw new OnvifError(err.kind, `${operation} ${url.pathname}: ${err.message}`, err.auth);
      throw err;
    }
  }

  /** Read the camera's clock; true when it differs from what we assumed (so a retry may now pass). */
  private async resyncClock(): Promise<boolean> {
    try {
      // Needs no credentials (ONVIF pre-auth), so it works whatever the clocks say.
      const envelope = buildEnvelope({
        action: ACTION.getSystemDateAndTime,
        body: { "tds:GetSystemDateAndTime": "" },
      });
      const reply = await this.send(
        this.deviceUrl,
        "getSystemDateAndTime",
        envelope,
        this.s.requestTimeoutSeconds * 1000,
      );
      const camera = onvifDateTime(xmlChild(xmlChild(reply.body, "SystemDateAndTime"), "UTCDateTime"));
      if (camera === null) return false;
      const offset = camera - Date.now();
      if (Math.abs(offset - this.clockOffsetMs) < SKEW_TOLERANCE_MS) return false;
      this.context.log.warn(
        { offsetSeconds: Math.round(offset / 1000) },
        "camera clock differs from the controller's; signing with the camera's time (set up NTP on the camera)",
      );
      this.clockOffsetMs = offset;
      return true;
    } catch {
      return false;
    }
  }

  /** The event service: configured, else from GetServices, else the common default path. */
  private async eventService(): Promise<URL> {
    if (this.eventUrl) return this.eventUrl;
    let path = this.s.eventPath ?? null;
    if (path === null) {
      try {
        const reply = await this.call(this.deviceUrl, "getServices", {
          "tds:GetServices": { "tds:IncludeCapability": "false" },
        });
        const service = xmlChildren(reply.body, "Service").find((s) => xmlText(s.Namespace) === NS.tev);
        path = URL.canParse(xmlText(service?.XAddr) ?? "")
          ? new URL(xmlText(service?.XAddr) as string).pathname
          : null;
      } catch (err) {
        // Unreachable or refused: the subscription would fail the same way, so that is the error to report.
        if (!(err instanceof OnvifError) || err.auth || ["network", "timeout", "aborted"].includes(err.kind))
          throw err;
      }
      if (path === null)
        this.context.log.info(
          { path: DEFAULT_EVENT_PATH },
          "camera did not name its event service; using the default",
        );
    }
    this.eventUrl = new URL(path ?? DEFAULT_EVENT_PATH, this.origin);
    return this.eventUrl;
  }

  private async subscribe(): Promise<void> {
    const url = await this.eventService();
    const term = `PT${this.s.subscriptionTermSeconds}S`;
    const reply = await this.call(url, "create", {
      "tev:CreatePullPointSubscription": {
        "tev:Filter": { "wsnt:TopicExpression": { "@_Dialect": CONCRETE_SET, "#text": this.s.topic } },
        "tev:InitialTerminationTime": term,
      },
    });
    if (reply.name !== "CreatePullPointSubscriptionResponse")
      throw new OnvifError("malformed", `CreatePullPointSubscription: unexpected reply ${reply.name}`);
    const address = xmlText(xmlChild(reply.body, "SubscriptionReference")?.Address) ?? "";
    if (!URL.canParse(address))
      throw new OnvifError(
        "malformed",
        "CreatePullPointSubscription: reply has no SubscriptionReference/Address",
      );
    const camera = new URL(address);
    const current = xmlText(reply.body.CurrentTime);
    const started = Date.parse(current ?? "");
    this.subscription = {
      url: new URL(camera.pathname + camera.search, this.origin),
      address,
      params: referenceParameters(reply.text),
      startedAt: Number.isNaN(started) ? null : started,
      expiresMono: 0,
    };
    this.track(current, xmlText(reply.body.TerminationTime));
  }

  private track(current: string | null, termination: string | null): void {
    if (!this.subscription) return;
    const ms = remainingMs(current, termination, this.s.subscriptionTermSeconds * 1000);
    this.subscription.expiresMono = performance.now() + ms;
  }

  /** Renew when the next pull could outlast the subscription (plus a margin for the round trip). */
  private async renewIfDue(): Promise<void> {
    const sub = this.subscription;
    if (!sub) return;
    const termMs = this.s.subscriptionTermSeconds * 1000;
    const aheadMs = this.s.pullTimeoutSeconds * 1000 + Math.min(5000, termMs / 4);
    if (sub.expiresMono - performance.now() > aheadMs) return;
    const reply = await this.call(
      sub.url,
      "renew",
      { "wsnt:Renew": { "wsnt:TerminationTime": `PT${this.s.subscriptionTermSeconds}S` } },
      { sub },
    );
    if (reply.name !== "RenewResponse")
      throw new OnvifError("malformed", `Renew: unexpected reply ${reply.name}`);
    this.track(xmlText(reply.body.CurrentTime), xmlText(reply.body.TerminationTime));
  }

  private async pull(): Promise<void> {
    const sub = this.subscription;
    if (!sub) throw new OnvifError("malformed", "no subscription");
    const reply = await this.call(
      sub.url,
      "pull",
      {
        "tev:PullMessages": {
          "tev:Timeout": `PT${this.s.pullTimeoutSeconds}S`,
          "tev:MessageLimit": String(this.s.messageLimit),
        },
      },
      { sub, extraTimeoutMs: this.s.pullTimeoutSeconds * 1000 },
    );
    if (reply.name !== "PullMessagesResponse")
      throw new OnvifError("malformed", `PullMessages: unexpected reply ${reply.name}`);
    const result = pullResultOf(reply.body);
    // Cameras that extend the subscription on every pull say so here; the others repeat the old time.
    if (result.terminationTime !== null) this.track(result.currentTime, result.terminationTime);
    for (const notification of result.notifications) this.deliver(notification, sub, reply.receivedMono);
  }

  private deliver(n: Notification, sub: Subscription, receivedMono: number): void {
    if (!topicMatches(n.topic, this.s.topic)) {
      this.context.log.debug({ topic: n.topic }, "onvif event on another topic ignored");
      return;
    }
    // A new subscription first gets the current state of every property (Initialized): the last plate the
    // camera read before we subscribed is no arrival, and reading it would open the barrier again.
    const at = Date.parse(n.utcTime ?? "");
    if (n.operation === "Initialized" && sub.startedAt !== null && at < sub.startedAt) {
      this.context.log.debug({ utcTime: n.utcTime }, "onvif state replay ignored");
      return;
    }
    try {
      const read = plateReadOf(n);
      this.context.log.debug({ plate: read.plate.raw, topic: n.topic }, "onvif plate");
      this.context.onRead(read, receivedMono);
    } catch (err) {
      if (!(err instanceof IngestError)) throw err;
      // A vehicle that left may be reported without its plate: nothing to read, nothing wrong.
      if (n.operation === "Deleted") return;
      this.context.onError(`notification on ${n.topic}: ${err.message}`);
    }
  }

  /** Best effort: tell the camera to drop the subscription, without waiting long or failing. */
  private async unsubscribe(): Promise<void> {
    const sub = this.subscription;
    if (!sub) return;
    this.subscription = null;
    try {
      // Its own signal: close() has already aborted the link's.
      const envelope = this.envelope("unsubscribe", { "wsnt:Unsubscribe": "" }, sub);
      await this.send(sub.url, "unsubscribe", envelope, UNSUBSCRIBE_TIMEOUT_MS, new AbortController().signal);
    } catch (err) {
      this.context.log.debug({ err: (err as Error).message }, "onvif unsubscribe failed");
    }
  }
}

export const adapter: LinkAdapter = {
  kind: "link",
  protocol: "onvif",
  settings,
  open(context: LinkContext): CameraLink {
    return new OnvifLink(context, context.camera.connection as unknown as OnvifSettings).start();
  },
};
