/**
 * Network peers the outbox delivers to, each a real server on loopback that can go down and come back on the
 * same port: a webhook receiver (node:http), an NVR text channel (TCP) and an Nx Witness server's createEvent
 * API with Digest authentication (or session tokens).
 */
import { createHash, randomBytes } from "node:crypto";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from "node:net";
import { digestResponse, parseAuthenticate } from "../../firmware/ingest/http-digest.js";

interface Listener {
  listen(port: number, host: string, cb: () => void): unknown;
  close(cb: () => void): unknown;
  address(): unknown;
  once(event: "error", cb: (err: Error) => void): unknown;
}

/** A server that can be stopped and started again on the port it first got. */
abstract class Peer<S extends Listener> {
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

/**
 * The createEvent part of an Nx Witness server (protocols.md §3.1): `/api/createEvent` behind Digest (MD5,
 * qop=auth, fresh nonce per server start), and `/rest/v4/login/sessions` for bearer tokens. Answers
 * `{"error":"0"}` like the legacy API; an `errorFor` hook makes it answer an error code instead.
 */
export class NxServerPeer extends Peer<Server> {
  readonly events: NxEvent[] = [];
  unauthorized = 0;
  private nonce = randomBytes(8).toString("hex");
  private readonly tokens = new Set<string>();
  errorFor: (params: URLSearchParams) => string | null = () => null;

  constructor(
    private readonly username: string,
    private readonly password: string,
    readonly realm = "VMS",
  ) {
    super();
  }

  protected create(): Server {
    this.nonce = randomBytes(8).toString("hex");
    return createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => this.handle(req, res, Buffer.concat(chunks)));
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/rest/v4/login/sessions" && req.method === "POST") {
      const login = JSON.parse(body.toString()) as { username: string; password: string };
      if (login.username !== this.username || login.password !== this.password) {
        res.writeHead(401, { "content-type": "application/json" }).end('{"error":"401"}');
        return;
      }
      const token = `vms-${randomBytes(8).toString("hex")}`;
      this.tokens.add(token);
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ token, expiresInS: 3600 }));
      return;
    }
    if (url.pathname !== "/api/createEvent") {
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
    const error = this.errorFor(url.searchParams);
    if (error === null) this.events.push({ params: url.searchParams, method: req.method ?? "" });
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(
        JSON.stringify({ error: error ?? "0", errorString: error ? "Invalid parameter" : "", reply: null }),
      );
  }

  private authorised(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? "";
    if (header.startsWith("Bearer ")) return this.tokens.has(header.slice(7));
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
