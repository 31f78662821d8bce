/**
 * Milesight LPR cameras, "TCP type" (specs/002 §1, protocols.md §6): the controller connects to the camera,
 * logs in (COMM_LOGIN_REQ), registers every feature (COMM_REGISTER_REQ), then the camera pushes recognition
 * posts (binary metadata + pictures) and JSON event posts on its own.
 *
 * The protocol has no heartbeat. A quiet link is normal (no cars at night), so after `idleTimeoutMs` without
 * a byte the register request is sent again as a probe: a live camera answers it. No byte within
 * `replyTimeoutMs` after that means the link is half-open: it is torn down and reconnected. TCP keepalive
 * catches a dead peer below that. Failed attempts back off exponentially with jitter, capped; a refused
 * login waits the cap at once, so a wrong password cannot lock the camera's account.
 */

import { createConnection, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { type Static, Type } from "typebox";
import { backoffMs, backoffSettings } from "../backoff.js";
import { IngestError, type LinkAdapter, type LinkContext, NotAPlateRead } from "../types.js";
import { Command, type Frame, FrameDecoder, hex, isFrame } from "./frames.js";
import {
  encodeLogin,
  encodeRegister,
  JSON_POSTS,
  parseJsonPost,
  parseRecognition,
  replyResult,
} from "./messages.js";

const Settings = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 253, description: "the camera's IP address or host name" }),
    port: Type.Integer({
      minimum: 1,
      maximum: 65535,
      description: "the camera's LPR TCP port, as set on the camera (the vendor documents no default)",
    }),
    username: Type.String({ minLength: 1, maxLength: 64, description: "camera user for COMM_LOGIN_REQ" }),
    password: Type.String({ minLength: 1, maxLength: 128, description: "that user's password (no default)" }),
    connectTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: 5000,
      description: "connect and log in within this long, or try again",
    }),
    idleTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 3_600_000,
      default: 60_000,
      description: "after this long without a byte, probe the camera with a register request",
    }),
    replyTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: 10_000,
      description: "no byte this long after a probe: the link is half-open; reconnect",
    }),
    tcpKeepAliveMs: Type.Integer({
      minimum: 1000,
      maximum: 3_600_000,
      default: 15_000,
      description: "TCP keepalive delay (detects a dead peer at the socket level)",
    }),
    ...backoffSettings(60_000),
  },
  { additionalProperties: false },
);

export type MilesightTcpSettings = Static<typeof Settings>;

type Phase = "connecting" | "login" | "connected";

class MilesightTcpLink {
  private readonly s: MilesightTcpSettings;
  private socket: Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private failures = 0;
  private phase: Phase = "connecting";
  private lastByteMono = 0;
  private probeSentMono: number | null = null;
  private socketClosed: Promise<void> = Promise.resolve();

  constructor(private readonly context: LinkContext) {
    this.s = context.camera.connection as MilesightTcpSettings;
  }

  start(): void {
    this.connect();
  }

  async close(): Promise<void> {
    if (this.closed) return this.socketClosed;
    this.closed = true;
    this.clearTimer();
    const wasUp = this.socket !== null;
    this.socket?.destroy();
    await this.socketClosed;
    if (wasUp) this.context.onStatus("disconnected", "closed");
  }

  private get where(): string {
    return `${this.s.host}:${this.s.port}`;
  }

  private connect(): void {
    if (this.closed) return;
    this.phase = "connecting";
    this.context.onStatus("connecting", this.where);
    const decoder = new FrameDecoder();
    const socket = createConnection({ host: this.s.host, port: this.s.port });
    this.socket = socket;
    this.socketClosed = new Promise((resolve) => socket.once("close", () => resolve()));
    let reason = "connection closed by the camera";
    let loginRefused = false;
    const fail = (why: string): void => {
      reason = why;
      socket.destroy();
    };
    this.arm(this.s.connectTimeoutMs, () =>
      fail(
        `no ${this.phase === "connecting" ? "connection" : "login reply"} within ${this.s.connectTimeoutMs} ms`,
      ),
    );
    socket.setNoDelay(true);
    socket.setKeepAlive(true, this.s.tcpKeepAliveMs);
    socket.on("connect", () => {
      this.phase = "login";
      socket.write(encodeLogin(this.s.username, this.s.password));
    });
    socket.on("data", (chunk: Buffer) => {
      const now = performance.now();
      this.lastByteMono = now;
      let items: ReturnType<FrameDecoder["push"]>;
      try {
        items = decoder.push(chunk, now);
      } catch (err) {
        // A framing error leaves no safe resynchronisation point (no checksum, pictures in the stream).
        this.context.onError(`${(err as Error).message}; reconnecting`);
        return fail((err as Error).message);
      }
      for (const item of items) {
        if (!isFrame(item)) {
          this.context.onError(item.error.message);
          continue;
        }
        // Each frame on its own: one that cannot be handled costs only itself.
        try {
          if (item.command === Command.LOGIN_REPLY) {
            const refusal = this.loggedIn(item.data, socket);
            if (refusal) {
              loginRefused = true;
              this.context.onError(refusal);
              return fail(refusal);
            }
          } else this.handle(item);
        } catch (err) {
          if (err instanceof NotAPlateRead) this.context.log.debug(err.message);
          else if (err instanceof IngestError) this.context.onError(`${hex(item.command)} ${err.message}`);
          else this.context.onError(`${hex(item.command)} could not be handled: ${(err as Error).message}`);
        }
      }
    });
    socket.on("error", (err) => {
      reason = err.message;
    });
    socket.on("close", () => {
      this.clearTimer();
      if (this.socket === socket) this.socket = null;
      if (this.closed) return;
      // A failed attempt is a problem; the end of a working link (or a refusal, already reported) is a status.
      if (this.phase !== "connected" && !loginRefused) this.context.onError(`${this.where}: ${reason}`);
      this.context.onStatus("disconnected", reason);
      this.retry(loginRefused);
    });
  }

  /** The login reply: null when logged in (then register and watch the link), else why not. */
  private loggedIn(data: Buffer, socket: Socket): string | null {
    if (this.phase !== "login") return null;
    const result = replyResult(data, "login reply");
    if (result !== 200)
      return `login refused by the camera (result ${result}${result === 401 ? ": wrong username or password, or no privileges" : ""})`;
    this.phase = "connected";
    this.failures = 0;
    this.context.onStatus("connected", this.where);
    socket.write(encodeRegister());
    this.watchIdle();
    return null;
  }

  /** Every frame but the login reply; throws IngestError or NotAPlateRead for a bad one. */
  private handle({ command, data, firstByteMono }: Frame): void {
    if (command === Command.REGISTER_REPLY) {
      const result = replyResult(data, "register reply");
      if (result !== 200)
        this.context.onError(`register refused by the camera (result ${result}); plate reads still arrive`);
    } else if (command === Command.RECOG_POST) {
      const read = parseRecognition(data);
      this.context.log.debug({ plate: read.plate.raw }, "milesight-tcp read");
      this.context.onRead(read, firstByteMono);
    } else if (JSON_POSTS.has(command)) {
      const event = parseJsonPost(command, data);
      this.context.onCameraEvent(event.kind, event.data);
    } else {
      this.context.log.debug({ command: hex(command) }, "milesight-tcp: unknown command ignored");
    }
  }

  /** One timer re-armed on expiry: cheaper than resetting it on every chunk. */
  private watchIdle(): void {
    this.probeSentMono = null;
    const check = (): void => {
      const socket = this.socket;
      if (!socket || this.closed) return;
      const now = performance.now();
      if (this.probeSentMono !== null && this.lastByteMono < this.probeSentMono) {
        if (now - this.probeSentMono >= this.s.replyTimeoutMs) {
          // Timers run before waiting socket data is read: after an event-loop stall the reply may be here
          // already. Decide after the poll phase, so that a busy controller does not drop a live link.
          const probe = this.probeSentMono;
          setImmediate(() => {
            if (this.socket !== socket || this.closed) return;
            if (this.lastByteMono >= probe) return check();
            const silence = Math.round(performance.now() - this.lastByteMono);
            this.context.onError(
              `${this.where}: no reply to a probe, silent for ${silence} ms; the link is half-open`,
            );
            socket.destroy();
          });
          return;
        }
        this.arm(this.probeSentMono + this.s.replyTimeoutMs - now, check);
        return;
      }
      const idle = now - this.lastByteMono;
      if (idle < this.s.idleTimeoutMs) {
        this.probeSentMono = null;
        this.arm(this.s.idleTimeoutMs - idle, check);
        return;
      }
      this.probeSentMono = now;
      socket.write(encodeRegister());
      this.arm(this.s.replyTimeoutMs, check);
    };
    this.lastByteMono = performance.now();
    this.arm(this.s.idleTimeoutMs, check);
  }

  private retry(authRefused: boolean): void {
    this.arm(backoffMs(this.failures++, this.s, authRefused), () => this.connect());
  }

  private arm(ms: number, fn: () => void): void {
    this.clearTimer();
    this.timer = setTimeout(fn, Math.max(0, ms));
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

export const adapter: LinkAdapter = {
  kind: "link",
  protocol: "milesight-tcp",
  settings: Settings,
  open(context) {
    const link = new MilesightTcpLink(context);
    link.start();
    return { close: () => link.close() };
  },
};
