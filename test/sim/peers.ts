/**
 * Network peers the outbox delivers to, each a real server on loopback that can go down and come back on the
 * same port: a webhook receiver (node:http), an NVR text channel (TCP) and an Nx Witness server's createEvent
 * and bookmark APIs with Digest authentication or session tokens (over HTTPS when given a certificate).
 */
import { createHash, randomBytes } from "node:crypto";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from "node:net";
import { digestResponse, parseAuthenticate } from "../../firmware/ingest/http-digest.js";
import type { TestCert } from "./tls-cert.js";

interface Listener {
  listen(port: number, host: string, cb: () => void): unknown;
  close(cb: () => void): unknown;
  address(): unknown;
  once(event: "error", cb: (err: Error) => void): unknown;
}

/** A server that can be stopped and started again on the port it first got. */
export abstract class Peer<S extends Listener> {
  port = 0;
  protected server: S | null = null;
  private readonly sockets = new Set<Socket>();

  protected abstract create(): S;

  async up(): Promise<this> {
    const server = this.create();
    (server as unknown as TcpServer).on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.once("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
    return this;
  }

  /** Stop listening and cut every open connection (a peer that is down refuses connections). */
  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

/** Answers every request with `respond` (default 200); records what it accepted (2xx) in `received`. */
export class WebhookPeer extends Peer<Server> {
  readonly received: ReceivedRequest[] = [];
  readonly refused: ReceivedRequest[] = [];
  /** Requests received while `hang` is set: never answered (an attempt in flight, for ever). */
  readonly hung: ReceivedRequest[] = [];
  hang = false;
  respond: (req: ReceivedRequest) => number = () => 200;

  protected create(): Server {
    return createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const r = {
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks),
        };
        if (this.hang) {
          this.hung.push(r);
          return;
        }
        const status = this.respond(r);
        (status >= 200 && status < 300 ? this.received : this.refused).push(r);
        res.writeHead(status, { "content-type": "application/json" }).end("{}");
      });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }
}

/** An NVR text device: records each connection's bytes as text (US-ASCII) once the sender closes. */
export class NvrTextPeer extends Peer<TcpServer> {
  readonly received: string[] = [];

  protected create(): TcpServer {
    return createTcpServer((socket) => {
      const chunks: Buffer[] = [];
      socket.on("data", (c: Buffer) => chunks.push(c));
      socket.on("end", () => {
        this.received.push(Buffer.concat(chunks).toString("latin1"));
        socket.end();
      });
      socket.on("error", () => {});
    });
  }
}

export interface NxEvent {
  params: URLSearchParams;
  method: string;
}

/** A bookmark the Nx server stored, by either API. */
export interface NxBookmark {
  api: "rest" | "legacy";
  /** The VMS camera (REST: the path's device id; legacy: `cameraId`). */
  deviceId: string;
  name: string;
  description: string;
  startTimeMs: number;
  durationMs: number;
  tags: string[];
  /** Legacy only: the client's bookmark id. */
  guid?: string;
  /** Legacy only: the query string as received. */
  params?: URLSearchParams;
}

export interface NxServerOptions {
  /** Serve HTTPS with this certificate (bearer tokens are accepted over HTTPS only, as Nx does). */
  tls?: TestCert;
  /** The VMS's camera ids: a REST bookmark on another device is answered 404. Default: any id. */
  devices?: readonly string[];
}

const JSON_TYPE = { "content-type": "application/json" };

/**
 * An Nx Witness server (protocols.md §3.1, §3.2): `/api/createEvent`, `POST /rest/v3/devices/{id}/bookmarks`
 * and `GET /ec2/bookmarks/add`, behind Digest (MD5, qop=auth, fresh nonce per server start) or a bearer token
 * from `POST /rest/v4/login/sessions` (HTTPS only; sessions are forgotten at a server start). createEvent
 * answers `{"error":"0"}` like the legacy API (an `errorFor` hook makes it answer an error code instead);
 * a REST bookmark answers the stored bookmark, a REST refusal `{"error","errorId","errorString"}` with a 4xx;
 * the legacy bookmark call answers an empty 200 and replaces a bookmark with the same guid.
 */
export class NxServerPeer extends Peer<Server | HttpsServer> {
  readonly events: NxEvent[] = [];
  readonly bookmarks: NxBookmark[] = [];
  unauthorized = 0;
  logins = 0;
  private nonce = randomBytes(8).toString("hex");
  private readonly tokens = new Set<string>();
  errorFor: (params: URLSearchParams) => string | null = () => null;

  constructor(
    private readonly username: string,
    private readonly password: string,
    readonly realm = "VMS",
    private readonly options: NxServerOptions = {},
  ) {
    super();
  }

  protected create(): Server | HttpsServer {
    this.nonce = randomBytes(8).toString("hex");
    this.tokens.clear();
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => this.handle(req, res, Buffer.concat(chunks)));
    };
    const tls = this.options.tls;
    return tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, handler) : createHttpServer(handler);
  }

  private handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/rest/v4/login/sessions" && req.method === "POST") {
      const login = JSON.parse(body.toString()) as { username: string; password: string };
      if (login.username !== this.username || login.password !== this.password) {
        res.writeHead(401, JSON_TYPE).end('{"error":"401"}');
        return;
      }
      this.logins++;
      const token = `vms-${randomBytes(8).toString("hex")}`;
      this.tokens.add(token);
      res.writeHead(200, JSON_TYPE).end(JSON.stringify({ token, expiresInS: 3600 }));
      return;
    }
    const rest = /^\/rest\/v3\/devices\/([^/]+)\/bookmarks$/.exec(url.pathname);
    const route =
      url.pathname === "/api/createEvent"
        ? "event"
        : url.pathname === "/ec2/bookmarks/add" && req.method === "GET"
          ? "legacy"
          : rest && req.method === "POST"
            ? "rest"
            : null;
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    if (!this.authorised(req)) {
      this.unauthorized++;
      res
        .writeHead(401, {
          "www-authenticate": `Digest realm="${this.realm}", nonce="${this.nonce}", algorithm=MD5, qop="auth"`,
        })
        .end();
      return;
    }
    if (route === "rest") this.restBookmark(decodeURIComponent(rest?.[1] ?? ""), body, res);
    else if (route === "legacy") this.legacyBookmark(url.searchParams, res);
    else {
      const error = this.errorFor(url.searchParams);
      if (error === null) this.events.push({ params: url.searchParams, method: req.method ?? "" });
      res
        .writeHead(200, JSON_TYPE)
        .end(
          JSON.stringify({ error: error ?? "0", errorString: error ? "Invalid parameter" : "", reply: null }),
        );
    }
  }

  private restBookmark(deviceId: string, body: Buffer, res: ServerResponse): void {
    const result = this.restBookmarkOf(deviceId, body);
    if ("status" in result) {
      const { status, errorId, errorString } = result;
      res.writeHead(status, JSON_TYPE).end(JSON.stringify({ error: String(status), errorId, errorString }));
      return;
    }
    this.bookmarks.push(result);
    const { api: _api, ...stored } = result;
    res.writeHead(200, JSON_TYPE).end(JSON.stringify({ id: randomBytes(8).toString("hex"), ...stored }));
  }

  /** The bookmark a REST request asks for, or why the server refuses it. */
  private restBookmarkOf(
    deviceId: string,
    body: Buffer,
  ): NxBookmark | { status: number; errorId: string; errorString: string } {
    if (this.options.devices && !this.options.devices.includes(deviceId))
      return { status: 404, errorId: "notFound", errorString: `Device '${deviceId}' not found` };
    let b: Record<string, unknown>;
    try {
      b = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
    } catch {
      return { status: 400, errorId: "invalidParameter", errorString: "Invalid JSON" };
    }
    const tags = b.tags ?? [];
    if (
      typeof b.name !== "string" ||
      !b.name ||
      typeof b.startTimeMs !== "number" ||
      typeof b.durationMs !== "number" ||
      (b.description !== undefined && typeof b.description !== "string") ||
      !Array.isArray(tags) ||
      !tags.every((t) => typeof t === "string")
    )
      return { status: 400, errorId: "invalidParameter", errorString: "Invalid bookmark" };
    return {
      api: "rest",
      deviceId,
      name: b.name,
      description: (b.description as string | undefined) ?? "",
      startTimeMs: b.startTimeMs,
      durationMs: b.durationMs,
      tags: tags as string[],
    };
  }

  private legacyBookmark(params: URLSearchParams, res: ServerResponse): void {
    const guid = params.get("guid");
    const cameraId = params.get("cameraId");
    const name = params.get("name");
    const start = params.get("startTime") ?? params.get("startTimeMs");
    const duration = params.get("duration") ?? params.get("durationMs");
    if (!guid || !cameraId || !name || start === null || duration === null) {
      res
        .writeHead(400, JSON_TYPE)
        .end(JSON.stringify({ error: "3", errorString: "Missing required parameter" }));
      return;
    }
    const bookmark: NxBookmark = {
      api: "legacy",
      deviceId: cameraId,
      name,
      description: params.get("description") ?? "",
      startTimeMs: Number(start),
      durationMs: Number(duration),
      tags: params.getAll("tag"),
      guid,
      params,
    };
    const same = this.bookmarks.findIndex((x) => x.guid === guid);
    if (same >= 0) this.bookmarks[same] = bookmark;
    else this.bookmarks.push(bookmark);
    res.writeHead(200).end();
  }

  private authorised(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? "";
    if (header.startsWith("Bearer ")) return !!this.options.tls && this.tokens.has(header.slice(7));
    const digest = parseAuthenticate(header).get("digest");
    if (!digest) return false;
    if (digest.get("username") !== this.username || digest.get("nonce") !== this.nonce) return false;
    if (digest.get("uri") !== req.url) return false;
    const expected = digestResponse({
      algorithm: "MD5",
      username: this.username,
      password: this.password,
      realm: this.realm,
      nonce: this.nonce,
      cnonce: digest.get("cnonce") ?? "",
      nc: digest.get("nc") ?? "",
      qop: "auth",
      method: req.method ?? "GET",
      uri: req.url ?? "",
    });
    return digest.get("response") === expected;
  }
}

/** sha256 of a buffer, for comparing pictures. */
export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
