/**
 * VIVOTEK stop-and-go ANPR cameras (specs/003 §4.4, list actions):
 *
 * - `vivotek-socket`: the "Socket Client" action. The camera is the TCP client: it connects to a HOST/PORT
 *   and writes each read as an XML or JSON document, with or without the LPR image as base64 inside it.
 *   The controller listens on `connection.listenPort`; message boundaries are the documents' own ends
 *   (vivotek-framer.ts).
 * - `vivotek-http`: the "HTTP" action. The camera requests a URL; the troubleshooting section has the
 *   installer test that URL from a browser, so it is a GET and the read travels in the query string. A POST
 *   with an XML or JSON body (the same documents as the socket formats) is read too.
 *
 * Field names are matched loosely (vivotek-message.ts): the manual does not print them.
 */
import { createServer, type Server, type Socket } from "node:net";
import { Type } from "typebox";
import { MultipartBody } from "./multipart.js";
import {
  type CameraLink,
  IngestError,
  type LinkAdapter,
  type LinkContext,
  NotAPlateRead,
  type PlateRead,
  type PushAdapter,
} from "./types.js";
import { MAX_NESTING, MessageFramer, type MessageKind } from "./vivotek-framer.js";
import {
  parseVivotekJson,
  parseVivotekJsonText,
  parseVivotekQuery,
  parseVivotekXml,
} from "./vivotek-message.js";

const SocketSettings = Type.Object(
  {
    listenPort: Type.Integer({
      minimum: 1,
      maximum: 65_535,
      description:
        "TCP port the camera's Socket Client action connects to (its PORT; HOST is this controller)",
    }),
    host: Type.String({ minLength: 1, default: "0.0.0.0", description: "local address to listen on" }),
    allowedAddresses: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      maxItems: 16,
      description:
        "source addresses the camera connects from, besides the camera's `addresses`; when both are empty any address is accepted",
    }),
    idleTimeoutMs: Type.Integer({
      minimum: 0,
      maximum: 86_400_000,
      default: 0,
      description:
        "close a camera connection silent this long; 0 = never (TCP keep-alive still finds dead peers)",
    }),
    maxMessageBytes: Type.Integer({
      minimum: 4096,
      maximum: 16 * 1024 * 1024,
      default: 2 * 1024 * 1024,
      description:
        "largest message, base64 image included (the manual estimates ~180 KB); larger ones close the connection",
    }),
    maxConnections: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 4,
      description: "simultaneous connections accepted from the camera",
    }),
  },
  { additionalProperties: false },
);

interface SocketSettings {
  listenPort: number;
  host: string;
  allowedAddresses: string[];
  idleTimeoutMs: number;
  maxMessageBytes: number;
  maxConnections: number;
}

const KEEPALIVE_MS = 30_000;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

/** "::ffff:192.0.2.1" (IPv4 on a dual-stack socket) and "192.0.2.1" are the same camera. */
function plainAddress(address: string | undefined): string {
  return (address ?? "unknown").replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
}

/** The listening side of the Socket Client action, for one camera. */
class VivotekListener implements CameraLink {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly allowed: Set<string>;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = RETRY_MIN_MS;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly context: LinkContext,
    private readonly settings: SocketSettings,
  ) {
    this.allowed = new Set([...settings.allowedAddresses, ...context.camera.addresses].map(plainAddress));
  }

  start(): this {
    if (this.allowed.size === 0)
      this.context.log.warn(
        { camera: this.context.camera.id, port: this.settings.listenPort },
        "vivotek socket: no allowed addresses configured; any host may connect",
      );
    this.listen();
    return this;
  }

  private get where(): string {
    return `${this.settings.host}:${this.settings.listenPort}`;
  }

  private listen(): void {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    server.on("error", (err: NodeJS.ErrnoException) => {
      this.context.onError(`cannot listen on ${this.where}: ${err.code ?? err.message}`);
      if (server.listening) return;
      // Port taken or address missing (yet): try again with backoff until closed.
      this.server = null;
      server.close();
      if (this.closing) return;
      this.context.onStatus("disconnected", `not listening: ${err.code ?? err.message}`);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        if (!this.closing) this.listen();
      }, this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    });
    server.listen({ port: this.settings.listenPort, host: this.settings.host }, () => {
      if (this.closing) return;
      this.retryMs = RETRY_MIN_MS;
      this.context.onStatus("disconnected", `listening on ${this.where}; no camera connected`);
    });
  }

  private accept(socket: Socket): void {
    const remote = plainAddress(socket.remoteAddress);
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (this.allowed.size > 0 && !this.allowed.has(remote)) {
      this.context.onError(`refused a connection from ${remote}: not an address of this camera`);
      socket.destroy();
      return;
    }
    if (this.sockets.size >= this.settings.maxConnections) {
      this.context.onError(
        `refused a connection from ${remote}: already ${this.sockets.size} open (maxConnections)`,
      );
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    if (this.sockets.size === 1) this.context.onStatus("connected", `camera connected from ${remote}`);
    socket.setKeepAlive(true, KEEPALIVE_MS);
    if (this.settings.idleTimeoutMs > 0)
      socket.setTimeout(this.settings.idleTimeoutMs, () => {
        this.context.onError(`connection from ${remote} idle for ${this.settings.idleTimeoutMs} ms: closed`);
        socket.destroy();
      });
    const framer = new MessageFramer(this.settings.maxMessageBytes, {
      message: (kind, data, receivedMono, tooDeep) => this.handle(remote, kind, data, receivedMono, tooDeep),
      problem: (text) => this.context.onError(`connection from ${remote}: ${text}`),
    });
    socket.on("data", (chunk: Buffer) => {
      if (framer.feed(chunk, performance.now())) return;
      this.context.onError(
        `message from ${remote} larger than ${this.settings.maxMessageBytes} bytes: connection closed`,
      );
      socket.destroy();
    });
    socket.on("error", (err) => this.context.onError(`connection from ${remote}: ${err.message}`));
    socket.on("close", () => {
      if (framer.pending > 0)
        this.context.onError(
          `connection from ${remote} closed in the middle of a message (${framer.pending} bytes lost)`,
        );
      this.sockets.delete(socket);
      if (this.sockets.size === 0 && !this.closing)
        this.context.onStatus("disconnected", `listening on ${this.where}; no camera connected`);
    });
  }

  /** One whole document: a read, a non-read event, or an error; the connection goes on either way. */
  private handle(
    remote: string,
    kind: MessageKind,
    data: Buffer,
    receivedMono: number,
    tooDeep: boolean,
  ): void {
    let read: PlateRead;
    try {
      if (tooDeep) throw new IngestError("message", `nested deeper than ${MAX_NESTING} levels`);
      const text = data.toString("utf8");
      read =
        kind === "xml"
          ? parseVivotekXml(text, this.context.siteTimeZone)
          : parseVivotekJsonText(text, this.context.siteTimeZone, "message");
    } catch (err) {
      if (err instanceof NotAPlateRead) this.context.onCameraEvent("vivotek", { message: err.message });
      else
        this.context.onError(
          `${kind.toUpperCase()} message from ${remote} rejected: ${(err as Error).message}`,
        );
      return;
    }
    try {
      this.context.onRead(read, receivedMono);
    } catch (err) {
      // Callbacks must not throw; if one does, it must not take the socket's event loop down with it.
      this.context.onError(`read from ${remote} could not be handed on: ${(err as Error).message}`);
    }
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (this.retryTimer) clearTimeout(this.retryTimer);
      for (const socket of this.sockets) socket.destroy();
      const server = this.server;
      if (!server) return resolve();
      // Resolves once the listening socket and every accepted connection are closed.
      if (server.listening) return void server.close(() => resolve());
      // Still binding: close as soon as it listens, or stop at its error.
      server.once("listening", () => server.close(() => resolve()));
      server.once("error", () => resolve());
    });
    return this.closing;
  }
}

export const socketAdapter: LinkAdapter = {
  kind: "link",
  protocol: "vivotek-socket",
  settings: SocketSettings,
  open(context: LinkContext): CameraLink {
    return new VivotekListener(context, context.camera.connection as unknown as SocketSettings).start();
  },
};

/** A document in a POST body or multipart part: XML or JSON, told apart by its first character. */
function parseDocumentText(text: string, root: string, timeZone: string): PlateRead {
  const first = text.trimStart()[0];
  if (first === "<") return parseVivotekXml(text, timeZone);
  if (first === "{") return parseVivotekJsonText(text, timeZone, root);
  throw new IngestError(root, "expected an XML or JSON document");
}

export const httpAdapter: PushAdapter = {
  kind: "push",
  protocol: "vivotek-http",
  acceptsGet: true,
  parse(body: unknown, siteTimeZone: string): PlateRead {
    if (body instanceof URLSearchParams) return parseVivotekQuery(body, siteTimeZone);
    if (body instanceof MultipartBody) {
      const part = body.xmlPart() ?? body.jsonPart();
      if (!part) throw new IngestError("body", "multipart body has no XML or JSON part");
      const read = parseDocumentText(part.data.toString("utf8"), `body.${part.name}`, siteTimeZone);
      read.images.push(...body.images());
      return read;
    }
    if (typeof body === "string") return parseDocumentText(body, "body", siteTimeZone);
    return parseVivotekJson(body, siteTimeZone, "body");
  },
};
