/**
 * The live socket (/api/v1/live): one JSON message per decision, per I/O transition, per camera status
 * change, and per outbox target state change (up/down; never per message).
 * The first message is the hello, `{ type: "hello", site, lanes, io, cameras, zones, approvals }`: `site` is
 * `{ name, timeZone }` from the site file — the IANA zone the controller writes the times in its reasons in
 * ("… entered zone 'Car park' at 08:15 …"), in which the panel shows every time.
 * Authentication: `Authorization: Bearer …` on the upgrade, or — for browsers, which cannot set headers on
 * a WebSocket — a first message `{"type":"auth","token":"…"}` within 5 s. Failure closes with code 4401.
 * Each barrier's state change is a `barrier` message: `{ type, lane, state, position, fault?, since }`.
 * Zones (topic `occupancy`): a change of a zone's count or plates inside is an `occupancy` message
 * `{ type, zone, count, capacity, full, inside }`; a zone created or changed through the API is
 * `{ type: "zone", zone: <as GET /api/v1/zones/{name}> }`, a deleted one `{ type: "zone-removed", zone }`. The
 * hello carries `zones: [{ zone, count, capacity, full, inside }]`.
 * Operator approval requests are `approval` messages `{ type: "approval", id, lane, plate, reason, eventId,
 * askedAt, expiresAt, passHours }` and `{ type: "approval-resolved", id, outcome, by }` (topic `approval`); the hello
 * carries the pending ones as `approvals`.
 * `?topics=decision,io,camera,outbox,barrier,occupancy,approval` limits what a client receives.
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import type { Logger } from "../util/log.js";
import { bearerToken } from "./auth.js";

export const LIVE_PATH = "/api/v1/live";
export const TOPICS = ["decision", "io", "camera", "outbox", "barrier", "occupancy", "approval"] as const;
export type Topic = (typeof TOPICS)[number];
const AUTH_TIMEOUT_MS = 5000;
/** A client that stops reading is dropped rather than buffering without bound. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

interface Client {
  socket: WebSocket;
  topics: ReadonlySet<Topic>;
}

/** ws keeps its TCP socket private; corking it lets one write carry every frame of an event-loop turn. */
function tcpOf(ws: WebSocket): Socket | undefined {
  return (ws as unknown as { _socket?: Socket })._socket;
}

export class LiveHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly clients = new Set<Client>();
  /** Sockets corked during this turn of the event loop, uncorked together when it ends. */
  private readonly corked = new Set<Socket>();

  constructor(
    private readonly checkToken: (token: string | null) => boolean,
    private readonly hello: () => Record<string, unknown>,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Handle an HTTP upgrade for the live path; returns false if the request is not ours. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== LIVE_PATH) return false;
    const topics = parseTopics(url.searchParams.get("topics"));
    if (topics === null) {
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\nunknown topic\r\n");
      return true;
    }
    const headerToken = bearerToken(req.headers.authorization);
    if (headerToken !== null && !this.checkToken(headerToken)) {
      socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n");
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const client: Client = { socket: ws, topics };
      if (headerToken !== null) this.admit(client);
      else this.awaitAuth(client);
    });
    return true;
  }

  broadcast(topic: Topic, message: Record<string, unknown>): void {
    let text: string | null = null;
    for (const client of this.clients) {
      if (!client.topics.has(topic)) continue;
      text ??= JSON.stringify(message);
      if (client.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        client.socket.terminate();
        continue;
      }
      client.socket.send(text);
      this.cork(client.socket);
    }
  }

  /**
   * Under load many decisions land in one turn of the event loop; one syscall per frame was the largest
   * single cost per decision. A socket's first frame of a turn goes out at once (a lone read's relay
   * message is not held back by the rest of its turn); the socket is then corked, and its later frames
   * go out together as soon as the turn's I/O callbacks are done.
   */
  private cork(ws: WebSocket): void {
    const tcp = tcpOf(ws);
    if (!tcp || this.corked.has(tcp)) return;
    if (this.corked.size === 0) setImmediate(() => this.uncorkAll());
    tcp.cork();
    this.corked.add(tcp);
  }

  private uncorkAll(): void {
    for (const tcp of this.corked) tcp.uncork();
    this.corked.clear();
  }

  close(): void {
    this.uncorkAll();
    for (const client of this.clients) client.socket.close(1001, "controller stopping");
    this.clients.clear();
    this.wss.close();
  }

  private awaitAuth(client: Client): void {
    const timer = setTimeout(() => client.socket.close(4401, "authentication required"), AUTH_TIMEOUT_MS);
    client.socket.once("message", (data) => {
      clearTimeout(timer);
      let token: string | null = null;
      try {
        const msg = JSON.parse(data.toString());
        if (msg?.type === "auth" && typeof msg.token === "string") token = msg.token;
      } catch {
        // Not JSON: treated as a failed authentication below.
      }
      if (this.checkToken(token)) this.admit(client);
      else client.socket.close(4401, "invalid token");
    });
  }

  private admit(client: Client): void {
    this.clients.add(client);
    client.socket.on("close", () => this.clients.delete(client));
    client.socket.on("error", (err) => this.log.debug({ err }, "live client error"));
    client.socket.send(JSON.stringify({ type: "hello", ...this.hello() }));
  }
}

function parseTopics(text: string | null): ReadonlySet<Topic> | null {
  if (text === null || text === "") return new Set(TOPICS);
  const wanted = text.split(",").map((t) => t.trim());
  if (!wanted.every((t): t is Topic => (TOPICS as readonly string[]).includes(t))) return null;
  return new Set(wanted as Topic[]);
}
