/**
 * The HTTP side of an Nx Witness / Hanwha Wave / DW Spectrum server (protocols.md §3), shared by the
 * `vms-generic-event` and `vms-bookmark` actions: the server and login settings, and a client that sends one
 * authenticated request. Authentication, as the VMS version allows:
 * - `digest` (default over HTTP): Nx 4.x/5.x; deprecated since 5.0 and off at 6.1's high security level.
 * - `session` (default over HTTPS): `POST /rest/v4/login/sessions`, then `Authorization: Bearer <token>`; the
 *   token is fetched again when refused. Nx takes bearer tokens over HTTPS only, so this needs `https`.
 * - `basic`: old servers that still take it.
 * Errors name the server (host:port) and the request, never the password or token.
 */
import { Type } from "typebox";
import { DigestSession, digestChallenge } from "../ingest/http-digest.js";
import { checkStatus, HttpClient, type HttpResponse } from "../outbox/http.js";
import { DeliveryError } from "../outbox/types.js";

/** The VMS server's address and login, as every Nx action's schema has them (`user`: who the user must be). */
export function nxServerSettings(user: string) {
  return {
    host: Type.String({ minLength: 1, maxLength: 253, description: "the VMS server's address" }),
    port: Type.Integer({ minimum: 1, maximum: 65_535, default: 7001 }),
    https: Type.Boolean({ default: false, description: "the VMS allows secure connections only" }),
    verifyTls: Type.Boolean({ default: true, description: "check the server's certificate (https)" }),
    username: Type.String({ minLength: 1, maxLength: 128, description: user }),
    password: Type.String({ maxLength: 256 }),
    auth: Type.Optional(
      Type.Union([Type.Literal("digest"), Type.Literal("session"), Type.Literal("basic")], {
        description: "default: session over HTTPS, digest over HTTP",
      }),
    ),
  };
}

export interface NxServerConfig {
  host: string;
  port: number;
  https: boolean;
  verifyTls: boolean;
  username: string;
  password: string;
  auth?: "digest" | "session" | "basic" | undefined;
}

export type NxAuth = "digest" | "session" | "basic";

/** The authentication a config asks for: as set, else session over HTTPS and digest over HTTP. */
export function nxAuthOf(config: Pick<NxServerConfig, "auth" | "https">): NxAuth {
  return config.auth ?? (config.https ? "session" : "digest");
}

export interface NxRequest {
  method: "GET" | "POST";
  /** Path and query string. */
  path: string;
  /** A JSON body (sent as application/json). */
  json?: string;
}

/** One VMS server, as one outbox target talks to it: keeps the Digest challenge or session token. */
export class NxClient {
  readonly where: string;
  private readonly base: string;
  private readonly client: HttpClient;
  private readonly auth: NxAuth;
  private readonly digest: DigestSession;
  private token: string | null = null;

  constructor(private readonly config: NxServerConfig) {
    this.where = `${config.host}:${config.port}`;
    this.base = `${config.https ? "https" : "http"}://${config.host}:${config.port}`;
    this.client = new HttpClient(config.https, config.verifyTls);
    this.auth = nxAuthOf(config);
    this.digest = new DigestSession(config.username, config.password);
  }

  /**
   * Send one request, answering a 401 once (a new Digest challenge, or a new login). Resolves with a 2xx
   * answer whose JSON reports no error; otherwise rejects with a DeliveryError: retried for network errors,
   * 401/403, 408/425/429 and 5xx (see checkStatus), permanent for other refusals and for a VMS error code.
   * `what` names the request in errors (e.g. "createEvent").
   */
  async send(request: NxRequest, what: string, signal: AbortSignal): Promise<HttpResponse> {
    if (this.auth === "session" && !this.config.https)
      throw new DeliveryError("session (bearer) authentication needs https: the VMS refuses it over HTTP");
    const label = `${what} on ${this.where}`;
    let res = await this.request(request, signal);
    if (res.status === 401) res = await this.reauthenticate(res, request, what, signal);
    checkStatus(res.status, label);
    const error = vmsError(res);
    if (error) throw new DeliveryError(`${label}: the VMS answered ${error}`, true);
    return res;
  }

  close(): void {
    this.client.close();
  }

  private request(request: NxRequest, signal: AbortSignal): Promise<HttpResponse> {
    const headers: Record<string, string> = { "user-agent": "portcullis" };
    if (request.json !== undefined) headers["content-type"] = "application/json";
    const authorization =
      this.auth === "basic"
        ? `Basic ${Buffer.from(`${this.config.username}:${this.config.password}`).toString("base64")}`
        : this.auth === "session"
          ? this.token && `Bearer ${this.token}`
          : this.digest.authorization(request.method, request.path);
    if (authorization) headers.authorization = authorization;
    return this.client.request(new URL(request.path, this.base), {
      method: request.method,
      headers,
      ...(request.json !== undefined ? { body: request.json } : {}),
      signal,
    });
  }

  /** A 401: take the new Digest challenge, or log in again, and try once more. */
  private async reauthenticate(
    res: HttpResponse,
    request: NxRequest,
    what: string,
    signal: AbortSignal,
  ): Promise<HttpResponse> {
    if (this.auth === "basic") return res;
    if (this.auth === "digest") {
      const challenge = digestChallenge(header(res, "www-authenticate"));
      if (typeof challenge === "string")
        throw new DeliveryError(`${what}: ${challenge.replace("camera", "VMS")}`);
      this.digest.adopt(challenge);
    } else await this.login(signal);
    return this.request(request, signal);
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
    checkStatus(res.status, `login on ${this.where}`);
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

/**
 * The VMS's error code and text when its JSON reply reports one other than 0; null when it accepted the
 * request (no JSON body, no `error` field, or error "0").
 */
export function vmsError(res: Pick<HttpResponse, "body">): string | null {
  const reply = parseJson(res.body) as { error?: unknown; errorString?: unknown } | null;
  if (!reply || typeof reply !== "object" || reply.error === undefined) return null;
  if (String(reply.error) === "0") return null;
  return `error ${String(reply.error).slice(0, 16)}: ${String(reply.errorString ?? "").slice(0, 200)}`;
}
