/**
 * `mqtt-publish`: each decision published to an MQTT broker (MQTT 3.1.1 over mqtt:// or mqtts://), with Home
 * Assistant MQTT discovery so a gate's lanes show up in Home Assistant by themselves.
 *
 * Topics (`<prefix>` = `topicPrefix`, default `portcullis/<systemId>`):
 * - `<prefix>/event`: every decision, the event view as JSON (as `GET /api/v1/events` shows it); not retained.
 * - `<prefix>/lane/<lane id>/last`: the same document, retained (`retain`): the lane's last decision.
 * - `<prefix>/status`: `online` (retained) once connected; `offline` (retained) as the Last Will and at a clean
 *   stop. Home Assistant's availability topic.
 * - `<discoveryPrefix>/sensor/portcullis_<systemId>/lane_<lane id>_last_plate/config` and `…_last_decision/config`:
 *   retained discovery configs, published at every (re)connect (see discoveryConfigs).
 *
 * One connection per target, kept open (its Last Will is what tells Home Assistant the gate went away) and
 * opened again with backoff when lost. The outbox hands over one message at a time: it is published to both
 * event topics, and it is delivered when the broker acknowledged both (PUBACK, QoS 1) or, at QoS 0, when both
 * were written to the socket. Nothing queues inside the client (the outbox is the queue): a send while
 * disconnected makes one connection attempt and fails with its reason; a publish still waiting for its PUBACK
 * when the connection drops fails, and the outbox sends the message again (at-least-once: receivers
 * de-duplicate on the event's `id`). Username and password are never logged nor put in an error.
 * Barrier state and an open button over MQTT (command topics) are out of scope.
 */
import type { IClientOptions, MqttClient } from "mqtt";
import { type Static, Type } from "typebox";
import { backoffMs } from "../ingest/backoff.js";
import type { OutboxRow } from "../outbox/repo.js";
import { DeliveryError, deliverySettings, type Sender, safeUrl } from "../outbox/types.js";
import type { Logger } from "../util/log.js";
import type { NetworkAction, NetworkSite } from "./types.js";

export const kind = "network";

/** Topic levels without wildcards, empty levels, leading or trailing `/`. */
const TOPIC = "^[^/+#\\s]+(/[^/+#\\s]+)*$";

export const schema = Type.Object(
  {
    type: Type.Literal("mqtt-publish"),
    url: Type.String({
      pattern: "^mqtts?://[^/@?#\\s]+/?$",
      maxLength: 300,
      description: "mqtt://host[:1883] or mqtts://host[:8883]; credentials go in username/password, not here",
    }),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    password: Type.Optional(
      Type.String({ maxLength: 256, description: "needs a username (MQTT 3.1.1); never logged" }),
    ),
    clientId: Type.Optional(
      Type.String({
        pattern: "^[A-Za-z0-9._-]{1,128}$",
        description:
          "default portcullis-<systemId>-<action id> (unique per broker: a second client with the same id is cut off)",
      }),
    ),
    topicPrefix: Type.Optional(
      Type.String({ pattern: TOPIC, maxLength: 200, description: "default portcullis/<systemId>" }),
    ),
    qos: Type.Union([Type.Literal(0), Type.Literal(1)], {
      default: 1,
      description: "1: delivered = the broker acknowledged (PUBACK); 0: delivered = written to the socket",
    }),
    retain: Type.Boolean({
      default: true,
      description:
        "retain <prefix>/lane/<id>/last, so a new subscriber (Home Assistant) gets each lane's state at once",
    }),
    verifyTls: Type.Boolean({ default: true, description: "check the broker's certificate (mqtts)" }),
    homeAssistant: Type.Object(
      {
        enabled: Type.Boolean({
          default: true,
          description: "publish Home Assistant MQTT discovery configs",
        }),
        discoveryPrefix: Type.String({
          pattern: TOPIC,
          maxLength: 100,
          default: "homeassistant",
          description: "Home Assistant's discovery prefix",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    ...deliverySettings,
  },
  {
    additionalProperties: false,
    description: "publish each decision to an MQTT broker, with Home Assistant discovery",
  },
);

export type Config = Static<typeof schema>;

/** What the outbox stores per decision: the lane (for its state topic) and the event view as JSON text. */
interface Payload {
  lane: string;
  json: string;
}

export interface Topics {
  prefix: string;
  event: string;
  status: string;
  laneLast(laneId: string): string;
}

export function topicsOf(config: Config, site: NetworkSite): Topics {
  const prefix = config.topicPrefix ?? `portcullis/${site.systemId}`;
  return {
    prefix,
    event: `${prefix}/event`,
    status: `${prefix}/status`,
    laneLast: (laneId) => `${prefix}/lane/${laneId}/last`,
  };
}

export function clientIdOf(config: Config, site: NetworkSite): string {
  return config.clientId ?? `portcullis-${site.systemId}-${site.targetId}`;
}

export const ONLINE = "online";
export const OFFLINE = "offline";

/** A discovery id level: Home Assistant allows `[a-zA-Z0-9_-]` only. */
function discoveryId(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, "_");
}

/** The attributes shown with each lane entity: the decision in short (the whole event view is on the topic). */
const ATTRIBUTES =
  "{{ {'event_id': value_json.id, 'plate': value_json.plate, 'decision': value_json.decision, " +
  "'reason': value_json.reason, 'list': value_json.listName, 'camera': value_json.cameraId, " +
  "'confidence': value_json.confidence, 'direction': value_json.direction, " +
  "'received_at': value_json.receivedAt} | tojson }}";

/**
 * Home Assistant MQTT discovery configs (`<discovery_prefix>/<component>/<node_id>/<object_id>/config`, retained):
 * per lane a sensor "last plate" and a sensor "last decision" (enum allow/deny), both reading the lane's
 * retained state topic, with the short decision as attributes, `<prefix>/status` as availability, and one
 * device per controller (identifiers `portcullis_<systemId>`) so they appear grouped under the gate.
 */
export function discoveryConfigs(
  config: Config,
  site: NetworkSite,
): { topic: string; payload: Record<string, unknown> }[] {
  if (!config.homeAssistant.enabled) return [];
  const topics = topicsOf(config, site);
  const node = discoveryId(`portcullis_${site.systemId}`);
  const device = {
    identifiers: [node],
    name: site.name,
    manufacturer: "Portcullis",
    model: "ANPR gate controller",
    ...(site.version ? { sw_version: site.version } : {}),
  };
  const origin = { name: "Portcullis", ...(site.version ? { sw_version: site.version } : {}) };
  const availability = [{ topic: topics.status, payload_available: ONLINE, payload_not_available: OFFLINE }];
  const prefix = config.homeAssistant.discoveryPrefix;
  return site.lanes.flatMap((lane) => {
    const state = topics.laneLast(lane.id);
    const common = {
      state_topic: state,
      json_attributes_topic: state,
      json_attributes_template: ATTRIBUTES,
      availability,
      device,
      origin,
    };
    const entity = (what: string, fields: Record<string, unknown>) => {
      const objectId = discoveryId(`lane_${lane.id}_${what}`);
      return {
        topic: `${prefix}/sensor/${node}/${objectId}/config`,
        payload: { unique_id: `${node}_${objectId}`, ...fields, ...common },
      };
    };
    return [
      entity("last_plate", {
        name: `${lane.name} last plate`,
        value_template: "{{ value_json.plate }}",
        icon: "mdi:card-text-outline",
      }),
      entity("last_decision", {
        name: `${lane.name} last decision`,
        value_template: "{{ value_json.decision }}",
        device_class: "enum",
        options: ["allow", "deny"],
        icon: "mdi:boom-gate",
      }),
    ];
  });
}

export function network(config: Config, site: NetworkSite): NetworkAction {
  return {
    compose: ({ event }) => ({
      payload: { lane: event.laneId, json: JSON.stringify(event) } satisfies Payload,
    }),
    sender: (log) => new MqttSender(config, site, log),
  };
}

/** MQTT.js, loaded when the first MQTT target starts (it costs ~200 ms of start-up otherwise). */
let library: Promise<typeof import("mqtt")> | null = null;
const loadMqtt = (): Promise<typeof import("mqtt")> => {
  library ??= import("mqtt");
  return library;
};

/** CONNACK codes that mean "these credentials are refused" (3.1.1: 4, 5; MQTT 5: 134, 135). */
const REFUSED = new Set([4, 5, 134, 135]);

class MqttSender implements Sender {
  private readonly where: string;
  private readonly topics: Topics;
  private client: MqttClient | null = null;
  /** The connection attempt under way, shared by every caller that waits for it. */
  private attempt: Promise<MqttClient> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private refused = false;
  private lastError: string | null = null;
  private started = false;
  private stopped = false;

  constructor(
    private readonly config: Config,
    private readonly site: NetworkSite,
    private readonly log: Logger,
  ) {
    this.where = safeUrl(config.url).replace(/\/$/, "");
    this.topics = topicsOf(config, site);
  }

  start(): void {
    this.started = true;
    this.open();
  }

  async send(message: OutboxRow, signal: AbortSignal): Promise<void> {
    const { lane, json } = JSON.parse(message.payload) as Payload;
    const client = await this.connected(signal);
    const { qos, retain } = this.config;
    await Promise.all([
      this.publish(client, this.topics.event, json, { qos, retain: false }, signal),
      this.publish(client, this.topics.laneLast(lane), json, { qos, retain }, signal),
    ]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    const client = this.client;
    this.client = null;
    if (!client) return;
    if (client.connected) {
      // A clean DISCONNECT sends no Last Will: say offline ourselves, then close (1 s at most each).
      await within(1000, (done) =>
        client.publish(this.topics.status, OFFLINE, { qos: 1, retain: true }, done),
      );
      await within(1000, (done) => client.end(false, {}, done));
    }
    client.end(true);
  }

  /** The open connection, or the outcome of one attempt to open it (started now when none is under way). */
  private async connected(signal: AbortSignal): Promise<MqttClient> {
    if (this.client?.connected) return this.client;
    if (this.stopped) throw new DeliveryError(`MQTT ${this.where}: stopping`);
    if (this.config.password !== undefined && this.config.username === undefined)
      throw new DeliveryError(`MQTT ${this.where}: a password needs a username (MQTT 3.1.1)`);
    if (!this.attempt) {
      this.clearTimer();
      this.open();
    }
    const attempt = this.attempt ?? Promise.reject(new DeliveryError(`MQTT ${this.where}: not connected`));
    return raceAbort(attempt, signal);
  }

  /** Start a connection attempt (unless one is under way); a failed one schedules the next with backoff. */
  private open(): void {
    if (this.stopped || this.attempt) return;
    const attempt = this.connectOnce();
    this.attempt = attempt;
    attempt.then(
      () => {
        this.attempt = null;
      },
      () => {
        this.attempt = null;
      },
    );
  }

  private async connectOnce(): Promise<MqttClient> {
    const { connect } = await loadMqtt();
    if (this.stopped) throw new DeliveryError(`MQTT ${this.where}: stopping`);
    const client = connect(this.config.url, this.options());
    this.client = client;
    client.on("error", (err) => this.onError(err));
    client.on("close", () => this.onClose(client));
    await new Promise<void>((resolve, reject) => {
      const up = (): void => {
        client.off("close", down);
        resolve();
      };
      const down = (): void => {
        client.off("connect", up);
        reject(new DeliveryError(`MQTT ${this.where}: ${this.lastError ?? "connection closed"}`));
      };
      client.once("connect", up);
      client.once("close", down);
    });
    this.onConnect(client);
    return client;
  }

  private options(): IClientOptions {
    const { config } = this;
    return {
      clientId: clientIdOf(config, this.site),
      ...(config.username === undefined ? {} : { username: config.username }),
      ...(config.password === undefined ? {} : { password: config.password }),
      protocolVersion: 4,
      clean: true,
      keepalive: 30,
      connectTimeout: config.timeoutMs,
      // Reconnects are ours (backoff from the delivery settings); nothing waits in the client while offline.
      reconnectPeriod: 0,
      queueQoSZero: false,
      rejectUnauthorized: config.verifyTls,
      will: { topic: this.topics.status, payload: Buffer.from(OFFLINE), qos: 1, retain: true },
    };
  }

  /** Connected: say online, then (re)publish the discovery configs. Both retained; failures only logged. */
  private onConnect(client: MqttClient): void {
    this.failures = 0;
    this.refused = false;
    if (this.lastError !== null) this.log.info({ broker: this.where }, "MQTT broker connected again");
    else this.log.debug({ broker: this.where }, "MQTT broker connected");
    this.lastError = null;
    const announce = (topic: string, payload: string): void => {
      client.publish(topic, payload, { qos: 1, retain: true }, (err) => {
        if (err) this.log.debug({ broker: this.where, topic, problem: err.message }, "MQTT announce failed");
      });
    };
    announce(this.topics.status, ONLINE);
    for (const { topic, payload } of discoveryConfigs(this.config, this.site))
      announce(topic, JSON.stringify(payload));
  }

  private onError(err: Error & { code?: string | number }): void {
    const text = this.describe(err);
    this.refused = typeof err.code === "number" && REFUSED.has(err.code);
    if (text !== this.lastError)
      this.log.warn({ broker: this.where, problem: text }, "MQTT connection problem");
    this.lastError = text;
  }

  /** The connection closed (or never opened): drop this client, try again after a backoff unless stopping. */
  private onClose(client: MqttClient): void {
    if (this.client !== client) return;
    this.client = null;
    client.end(true);
    if (this.stopped || !this.started) return;
    this.lastError ??= "connection lost";
    const delay = backoffMs(this.failures++, this.config, this.refused);
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open();
    }, delay);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** A short, secret-free reason. MQTT.js never puts credentials in messages; a password is scrubbed anyway. */
  private describe(err: Error & { code?: string | number }): string {
    let text =
      typeof err.code === "number"
        ? `broker refused the connection: ${err.message.replace(/^Connection refused: /, "")} (CONNACK ${err.code})`
        : typeof err.code === "string"
          ? `connection failed (${err.code})`
          : err.message;
    const { password } = this.config;
    if (password) text = text.replaceAll(password, "[redacted]");
    return text.slice(0, 300);
  }

  /** One PUBLISH: resolves on its PUBACK (QoS 1) or once written (QoS 0); fails when the connection drops. */
  private publish(
    client: MqttClient,
    topic: string,
    payload: string,
    opts: { qos: 0 | 1; retain: boolean },
    signal: AbortSignal,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const finish = (err?: Error): void => {
        client.off("close", lost);
        signal.removeEventListener("abort", aborted);
        if (err) reject(err);
        else resolve();
      };
      const lost = (): void =>
        finish(
          new DeliveryError(`MQTT ${this.where}: connection lost before the broker acknowledged ${topic}`),
        );
      const aborted = (): void =>
        finish(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      if (signal.aborted) return aborted();
      client.once("close", lost);
      signal.addEventListener("abort", aborted, { once: true });
      client.publish(topic, payload, opts, (err) => {
        if (!err) finish();
        // MQTT.js fails what it still holds with "Connection closed" when the connection goes.
        else if (!client.connected) lost();
        else finish(new DeliveryError(`MQTT ${this.where}: publish to ${topic} failed: ${err.message}`));
      });
    });
  }
}

/** `promise`, or the signal's reason as soon as it aborts. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const aborted = (): void => reject(signal.reason);
    signal.addEventListener("abort", aborted, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", aborted);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", aborted);
        reject(e);
      },
    );
  });
}

/** Run a callback-style step, waiting `ms` at most for its callback (errors ignored: used when stopping). */
function within(ms: number, step: (done: () => void) => unknown): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    step(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
