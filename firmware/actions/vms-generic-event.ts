/**
 * `vms-generic-event`: an HTTP Generic Event in Nx Witness, Hanwha Wave or DW Spectrum (protocols.md §3.1,
 * specs/000 "VMS Generic Event"): `GET /api/createEvent?source=…&caption=…&description=…&timestamp=…&metadata=…`
 * on the VMS (port 7001, HTTP or HTTPS), one per decision. The VMS rules match source, caption and description
 * case-sensitively; `cameraRefs` puts the event on those cameras' timelines (so a bookmark can be made).
 * Authentication, as the VMS version allows:
 * - `digest` (default over HTTP): Nx 4.x/5.x; deprecated since 5.0 and off at 6.1's high security level.
 * - `session` (default over HTTPS): `POST /rest/v4/login/sessions`, then `Authorization: Bearer <token>`; the
 *   token is fetched again when refused. Nx sends bearer tokens over HTTPS only, so this needs `https`.
 * - `basic`: old servers that still take it.
 * The VMS answers JSON with an `error` code: "0" (or no JSON body with a 2xx) is delivered; another code means
 * the VMS refused this event, so it is marked failed.
 */
import { type Static, Type } from "typebox";
import { DigestSession, digestChallenge } from "../ingest/http-digest.js";
import { checkStatus, HttpClient, type HttpResponse } from "../outbox/http.js";
import type { OutboxRow } from "../outbox/repo.js";
import { fill, placeholderHelp } from "../outbox/text.js";
import { DeliveryError, deliverySettings, type Sender } from "../outbox/types.js";
import type { NetworkAction } from "./types.js";

export const kind = "network";

export const schema = Type.Object(
  {
    type: Type.Literal("vms-generic-event"),
    host: Type.String({ minLength: 1, maxLength: 253, description: "the VMS server's address" }),
    port: Type.Integer({ minimum: 1, maximum: 65_535, default: 7001 }),
    https: Type.Boolean({ default: false, description: "the VMS allows secure connections only" }),
    verifyTls: Type.Boolean({ default: true, description: "check the server's certificate (https)" }),
    username: Type.String({
      minLength: 1,
      maxLength: 128,
      description: "a VMS user allowed to create events",
    }),
    password: Type.String({ maxLength: 256 }),
    auth: Type.Optional(
      Type.Union([Type.Literal("digest"), Type.Literal("session"), Type.Literal("basic")], {
        description: "default: session over HTTPS, digest over HTTP",
      }),
    ),
    method: Type.Union([Type.Literal("GET"), Type.Literal("POST")], {
      default: "GET",
      description: "the apidoc declares GET; POST with the same query string also works on some versions",
    }),
    source: Type.String({ maxLength: 200, default: "Portcullis", description: "the event's source" }),
    caption: Type.String({
      maxLength: 200,
      default: "{plate}",
      description: `short text; ${placeholderHelp}`,
    }),
    description: Type.String({
      maxLength: 1000,
      default: "{plate} {decision} on lane {lane} ({list}): {reason}",
      description: `long text; ${placeholderHelp}`,
    }),
    cameraRefs: Type.Record(Type.String(), Type.String({ minLength: 1, maxLength: 64 }), {
      default: {},
      description: "our camera id → the VMS camera id (uuid), so the event lands on that camera's timeline",
    }),
    ...deliverySettings,
  },
  { additionalProperties: false, description: "Nx Witness / Wave / DW Spectrum generic event (createEvent)" },
);

export type Config = Static<typeof schema>;

/** The createEvent parameters, fixed at decision time. */
interface Payload {
  timestamp: string;
  source: string;
  caption: string;
  description: string;
  metadata?: string;
}

export function network(config: Config): NetworkAction {
  return {
    compose: ({ event }) => {
      const ref = config.cameraRefs[event.cameraId];
      const payload: Payload = {
        timestamp: String(Date.parse(event.receivedAt)),
        source: config.source,
        caption: fill(config.caption, event),
        description: fill(config.description, event),
        ...(ref ? { metadata: JSON.stringify({ cameraRefs: [ref] }) } : {}),
      };
      return { payload };
    },
    sender: () => new GenericEventSender(config),
  };
}

class GenericEventSender implements Sender {
  private readonly base: string;
  private readonly client: HttpClient;
  private readonly auth: "digest" | "session" | "basic";
  private readonly digest: DigestSession;
  private token: string | null = null;

  constructor(private readonly config: Config) {
    this.base = `${config.https ? "https" : "http"}://${config.host}:${config.port}`;
    this.client = new HttpClient(config.https, config.verifyTls);
    this.auth = config.auth ?? (config.https ? "session" : "digest");
    this.digest = new DigestSession(config.username, config.password);
  }

  async send(message: OutboxRow, signal: AbortSignal): Promise<void> {
    if (this.auth === "session" && !this.config.https)
      throw new DeliveryError("session (bearer) authentication needs https: the VMS refuses it over HTTP");
    const payload = JSON.parse(message.payload) as Payload;
    const path = `/api/createEvent?${new URLSearchParams({ ...payload })}`;
    const what = `createEvent on ${this.config.host}:${this.config.port}`;
    let res = await this.request(path, signal);
    if (res.status === 401) res = await this.reauthenticate(res, path, signal);
    checkStatus(res.status, what);
    const error = vmsError(res);
    if (error) throw new DeliveryError(`${what}: the VMS answered ${error}`, true);
  }

  private request(path: string, signal: AbortSignal): Promise<HttpResponse> {
    const headers: Record<string, string> = { "user-agent": "portcullis" };
    const authorization =
      this.auth === "basic"
        ? `Basic ${Buffer.from(`${this.config.username}:${this.config.password}`).toString("base64")}`
        : this.auth === "session"
          ? this.token && `Bearer ${this.token}`
          : this.digest.authorization(this.config.method, path);
    if (authorization) headers.authorization = authorization;
    return this.client.request(new URL(path, this.base), { method: this.config.method, headers, signal });
  }

  /** A 401: take the new Digest challenge, or log in again, and try once more. */
  private async reauthenticate(res: HttpResponse, path: string, signal: AbortSignal): Promise<HttpResponse> {
    if (this.auth === "basic") return res;
    if (this.auth === "digest") {
      const challenge = digestChallenge(header(res, "www-authenticate"));
      if (typeof challenge === "string")
        throw new DeliveryError(`createEvent: ${challenge.replace("camera", "VMS")}`);
      this.digest.adopt(challenge);
    } else await this.login(signal);
    return this.request(path, signal);
  }

  private async login(signal: AbortSignal): Promise<void> {
    this.token = null;
    const res = await this.client.request(new URL("/rest/v4/login/sessions", this.base), {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "portcullis" },
      body: JSON.stringify({
        username: this.config.username,
        password: this.config.password,
        setCookie: false,
      }),
      signal,
    });
    checkStatus(res.status, `login on ${this.config.host}:${this.config.port}`);
    const token = (parseJson(res.body) as { token?: unknown } | null)?.token;
    if (typeof token !== "string" || !token)
      throw new DeliveryError("login: the VMS answered without a token");
    this.token = token;
  }
}

function header(res: HttpResponse, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return null;
  }
}

/** The VMS's error code and text when it reports one other than 0; null when it accepted the event. */
function vmsError(res: HttpResponse): string | null {
  const reply = parseJson(res.body) as { error?: unknown; errorString?: unknown } | null;
  if (!reply || typeof reply !== "object" || reply.error === undefined) return null;
  if (String(reply.error) === "0") return null;
  return `error ${String(reply.error).slice(0, 16)}: ${String(reply.errorString ?? "").slice(0, 200)}`;
}
