/**
 * A barrier controller on RS-485/RS-232, driven by configurable hex frames (protocols.md §9.3): open and
 * close commands with an optional acknowledgement, and an optional status poll that reports the arm's
 * position like limit switches would. The frames, checksum and timings come from the site file, so a new
 * controller model is configuration, not code.
 *
 * Failure semantics: nothing here throws to the caller. Every exchange ends in `onExchange` with ok, or with
 * the reason the device was not understood after `1 + retries` attempts (no reply, wrong checksum, link down).
 * A newer command supersedes an exchange still running (the latest command is the one that matters for a
 * barrier); status polls never supersede a command. A link that fails is closed and reopened on the next
 * attempt.
 */
import { type Static, Type } from "typebox";
import type { Clock, TimerHandle } from "../../hal/clock.js";
import type { SerialLink } from "../../hal/types.js";
import {
  buildFrame,
  CHECKSUMS,
  findReply,
  HEX_FRAME,
  HEX_PATTERN,
  type Pattern,
  parseFrame,
  parsePattern,
} from "./frames.js";

const Frame = (description: string) => Type.String({ pattern: HEX_FRAME, description });
const Reply = (description: string) => Type.String({ pattern: HEX_PATTERN, description });

const Command = Type.Object(
  {
    send: Frame("bytes to send, without the checksum (appended as `checksum` says), e.g. 'EB 01 43 00'"),
    reply: Type.Optional(
      Reply(
        "the acknowledgement to wait for, without its checksum; '??' matches any byte. Absent: do not wait",
      ),
    ),
  },
  { additionalProperties: false },
);

export const SerialBarrierSchema = Type.Object(
  {
    path: Type.String({ minLength: 1, description: "serial device, e.g. /dev/ttyUSB0 (RS-485 adapter)" }),
    baudRate: Type.Integer({ minimum: 300, maximum: 921_600, default: 9600 }),
    dataBits: Type.Union([Type.Literal(7), Type.Literal(8)], { default: 8 }),
    parity: Type.Union([Type.Literal("none"), Type.Literal("even"), Type.Literal("odd")], {
      default: "none",
    }),
    stopBits: Type.Union([Type.Literal(1), Type.Literal(2)], { default: 1 }),
    checksum: Type.Enum(CHECKSUMS, {
      default: "none",
      description:
        "appended to every frame sent and checked on every reply: none, xor, sum8 (one byte) or crc16-modbus (two bytes, low first)",
    }),
    open: Command,
    close: Type.Optional(Command),
    status: Type.Optional(
      Type.Object(
        {
          send: Frame("status request"),
          open: Reply("status reply meaning the arm is fully open"),
          closed: Reply("status reply meaning the arm is fully closed"),
          pollMs: Type.Integer({ minimum: 20, maximum: 60_000, default: 1000, description: "poll interval" }),
        },
        { additionalProperties: false },
      ),
    ),
    replyTimeoutMs: Type.Integer({
      minimum: 10,
      maximum: 10_000,
      default: 300,
      description: "how long to wait for a reply before trying again",
    }),
    retries: Type.Integer({
      minimum: 0,
      maximum: 10,
      default: 2,
      description: "further attempts after a missing or corrupt reply, before a fault is raised",
    }),
  },
  {
    additionalProperties: false,
    description: "a barrier controller on RS-485/RS-232 instead of or beside relays",
  },
);

export type SerialBarrierConfig = Static<typeof SerialBarrierSchema>;

export type SerialCommand = "open" | "close";
export type Outcome = { ok: true } | { ok: false; reason: string };

export interface SerialBarrierEvents {
  /** An exchange ended: acknowledged (or sent, when no reply is configured), or failed after every attempt. */
  onExchange(what: SerialCommand | "status", outcome: Outcome): void;
  /** A status reply said where the arm is. */
  onStatus(position: "open" | "closed"): void;
}

interface Compiled {
  frame: Buffer;
  replies: Pattern[];
}

interface Pending {
  patterns: readonly Pattern[];
  badChecksum: boolean;
  settle(result: number | "superseded" | "timeout"): void;
}

/** Bytes kept while waiting for a reply; a chattering line cannot grow the buffer without bound. */
const MAX_BUFFER = 1024;

export class SerialBarrier {
  readonly #config: SerialBarrierConfig;
  readonly #link: SerialLink;
  readonly #clock: Clock;
  readonly #events: SerialBarrierEvents;
  readonly #commands: Partial<Record<SerialCommand | "status", Compiled>> = {};
  #linkOpen = false;
  #buffer = Buffer.alloc(0);
  #pending: Pending | null = null;
  /** Id of the exchange allowed to run; 0 when none runs. */
  #current = 0;
  #seq = 0;
  #pollTimer: TimerHandle | undefined;
  #stopped = false;
  #offData: (() => void) | null = null;

  constructor(config: SerialBarrierConfig, link: SerialLink, clock: Clock, events: SerialBarrierEvents) {
    this.#config = config;
    this.#link = link;
    this.#clock = clock;
    this.#events = events;
    const compile = (send: string, replies: (string | undefined)[]): Compiled => ({
      frame: buildFrame(parseFrame(send), config.checksum),
      replies: replies.filter((r): r is string => r !== undefined).map(parsePattern),
    });
    this.#commands.open = compile(config.open.send, [config.open.reply]);
    if (config.close) this.#commands.close = compile(config.close.send, [config.close.reply]);
    if (config.status)
      this.#commands.status = compile(config.status.send, [config.status.open, config.status.closed]);
  }

  get canClose(): boolean {
    return this.#commands.close !== undefined;
  }

  get reportsPosition(): boolean {
    return this.#commands.status !== undefined;
  }

  /** Open the link (a failure is reported, and the link retried on the next exchange) and start polling. */
  async start(): Promise<void> {
    this.#offData = this.#link.onData((chunk) => this.#onData(chunk));
    const opened = await this.#openLink();
    if (!opened.ok) this.#events.onExchange("status", opened);
    this.#schedulePoll(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#current = 0;
    this.#pending?.settle("superseded");
    if (this.#pollTimer !== undefined) this.#clock.clearTimeout(this.#pollTimer);
    this.#offData?.();
    await this.#link.close().catch(() => undefined);
  }

  /** Send a command; the outcome arrives through `onExchange`. Supersedes any exchange still running. */
  command(what: SerialCommand): void {
    const compiled = this.#commands[what];
    if (!compiled) throw new Error(`this serial barrier has no '${what}' frame`);
    void this.#exchange(what, compiled);
  }

  #schedulePoll(ms: number): void {
    if (this.#stopped || !this.#commands.status) return;
    this.#pollTimer = this.#clock.setTimeout(() => {
      const status = this.#commands.status;
      // A command in flight owns the line; the poll waits for the next turn.
      const run = this.#current === 0 && status ? this.#exchange("status", status) : Promise.resolve();
      void run.then(() => this.#schedulePoll(this.#config.status?.pollMs ?? 1000));
    }, ms);
  }

  async #exchange(what: SerialCommand | "status", compiled: Compiled): Promise<void> {
    const id = ++this.#seq;
    this.#current = id;
    this.#pending?.settle("superseded");
    const attempts = 1 + this.#config.retries;
    let reason = "";
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const result = await this.#attempt(compiled);
      if (this.#current !== id || this.#stopped) return; // superseded: the newer exchange reports
      if (result.ok) {
        this.#current = 0;
        if (what === "status" && result.index >= 0)
          this.#events.onStatus(result.index === 0 ? "open" : "closed");
        this.#events.onExchange(what, { ok: true });
        return;
      }
      reason = result.reason;
    }
    this.#current = 0;
    this.#events.onExchange(what, { ok: false, reason: `${reason} (${attempts} attempts)` });
  }

  async #attempt(compiled: Compiled): Promise<{ ok: true; index: number } | { ok: false; reason: string }> {
    const opened = await this.#openLink();
    if (!opened.ok) return opened;
    this.#buffer = Buffer.alloc(0);
    const reply =
      compiled.replies.length === 0
        ? null
        : new Promise<number | "superseded" | "timeout">((resolve) => {
            const timer = this.#clock.setTimeout(
              () => pending.settle("timeout"),
              this.#config.replyTimeoutMs,
            );
            const pending: Pending = {
              patterns: compiled.replies,
              badChecksum: false,
              settle: (result) => {
                this.#clock.clearTimeout(timer);
                if (this.#pending === pending) this.#pending = null;
                resolve(result);
              },
            };
            this.#pending = pending;
          });
    const pending = reply === null ? null : this.#pending;
    try {
      await this.#link.write(compiled.frame);
    } catch (err) {
      pending?.settle("superseded");
      this.#linkOpen = false;
      await this.#link.close().catch(() => undefined);
      return { ok: false, reason: `write failed: ${(err as Error).message}` };
    }
    if (reply === null) return { ok: true, index: -1 };
    const result = await reply;
    if (typeof result === "number") return { ok: true, index: result };
    if (result === "superseded") return { ok: false, reason: "superseded" };
    return {
      ok: false,
      reason: pending?.badChecksum
        ? "reply with a wrong checksum"
        : `no reply within ${this.#config.replyTimeoutMs} ms`,
    };
  }

  async #openLink(): Promise<Outcome> {
    if (this.#linkOpen) return { ok: true };
    try {
      await this.#link.open();
      this.#linkOpen = true;
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  }

  #onData(chunk: Buffer): void {
    const pending = this.#pending;
    if (!pending) return; // unsolicited bytes: nobody asked, nothing to match
    this.#buffer = Buffer.concat([this.#buffer, chunk]).subarray(-MAX_BUFFER);
    for (;;) {
      const found = findReply(this.#buffer, pending.patterns, this.#config.checksum);
      if (found.kind === "none") return;
      this.#buffer = this.#buffer.subarray(found.end);
      if (found.kind === "match") {
        pending.settle(found.index);
        return;
      }
      pending.badChecksum = true;
    }
  }
}
