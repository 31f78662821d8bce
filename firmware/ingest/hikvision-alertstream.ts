/**
 * Hikvision ISAPI, arming mode (protocols.md §2.3): the controller holds `GET /ISAPI/Event/notification/
 * alertStream` open on the camera, with HTTP Digest authentication, and the camera writes an endless
 * multipart/mixed stream into it: an `EventNotificationAlert` XML part per event, the pictures of an ANPR
 * alert as the parts after it, and a heartbeat (`videoloss`/`inactive`) about every 10 s when idle
 * (300 ms on firmware before 5.5.0). The documents are read by the listening-mode parser.
 *
 * Failure semantics: a silent link — no byte, heartbeats included, for `heartbeatTimeoutMs` (the vendor
 * says 30 s without a heartbeat is a timeout) — is dead: the request is aborted and made again. Failed
 * attempts back off exponentially with jitter, capped; a refused login waits the cap at once, so a wrong
 * password cannot lock the camera's account. A bad part is reported and skipped; the stream goes on.
 *
 * Pictures: the parts after an ANPR alert's XML, up to the next XML part, are its pictures. The read is
 * reported as soon as its XML is in — the barrier never waits for a picture — and its `laterImages`
 * resolve when the announced pictures have arrived, the next XML part comes, or PICTURE_WAIT_MS has
 * passed, with whatever arrived. A picture with no alert waiting for it is dropped.
 */

import type { ClientRequest, IncomingMessage } from "node:http";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { performance } from "node:perf_hooks";
import { type Static, Type } from "typebox";
import { backoffMs, backoffSettings } from "./backoff.js";
import { MAX_XML_BYTES, parseAlert } from "./hikvision-isapi.js";
import { DigestSession, digestChallenge } from "./http-digest.js";
import { MultipartBody, type MultipartPart } from "./multipart.js";
import { MultipartStreamParser, multipartBoundary, type StreamPart } from "./multipart-stream.js";
import {
  IngestError,
  type LinkAdapter,
  type LinkContext,
  MAX_IMAGE_BYTES,
  NotAPlateRead,
  type PlateRead,
  type ReadImage,
} from "./types.js";

export const ALERT_STREAM_PATH = "/ISAPI/Event/notification/alertStream";
/** The longest a read waits for the pictures its alert announced. */
export const PICTURE_WAIT_MS = 5000;
const HEADER_BLOCK_BYTES = 8 * 1024;

const Settings = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 253, description: "the camera's IP address or host name" }),
    port: Type.Integer({
      minimum: 1,
      maximum: 65535,
      default: 80,
      description: "the camera's HTTP port (its HTTPS port, usually 443, with https)",
    }),
    https: Type.Boolean({
      default: false,
      description: "connect with TLS; the camera's certificate must be trusted by this controller",
    }),
    username: Type.String({
      minLength: 1,
      maxLength: 64,
      description: "a camera user allowed to receive alarms (arming)",
    }),
    password: Type.String({ minLength: 1, maxLength: 128, description: "that user's password (no default)" }),
    heartbeatTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 30_000,
      description:
        "no byte for this long, heartbeats included, means the link is dead: reconnect (the camera sends a heartbeat every 10 s)",
    }),
    connectTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: 10_000,
      description: "connect and get the camera's answer within this long, or try again",
    }),
    ...backoffSettings(60_000),
  },
  { additionalProperties: false },
);

export type AlertStreamSettings = Static<typeof Settings>;

function isPicture(part: StreamPart): boolean {
  return (
    /^(image\/|application\/octet-stream)/i.test(part.contentType) ||
    (part.data[0] === 0xff && part.data[1] === 0xd8)
  );
}

/** The picture as a MultipartPart, so MultipartBody.images() names its kind from its file name. */
function pictureOf(part: StreamPart): MultipartPart {
  const disposition = part.headers.get("content-disposition") ?? "";
  const param = (key: string): string | undefined =>
    new RegExp(`(?:^|;)\\s*${key}\\s*=\\s*"?([^";]*)"?`, "i").exec(disposition)?.[1];
  return {
    name: param("name") ?? part.headers.get("content-id")?.replace(/^<|>$/g, "") ?? "",
    filename: param("filename") ?? null,
    contentType: part.contentType,
    data: part.data,
  };
}

export interface AssemblerOutput {
  onRead(read: PlateRead, receivedMono: number): void;
  onError(problem: string): void;
  /** A document that is valid but no plate read: a heartbeat, or another event type. */
  onOther(message: string): void;
}

interface PendingPictures {
  announced: number;
  pictures: MultipartPart[];
  deliver(images: ReadImage[]): void;
}

/** Turns the stream's parts into reads: an ANPR alert and the pictures after it become one read. */
export class AlertAssembler {
  /** Heartbeats and other alerts that are no plate read: a camera that sends none cannot be told from a dead one. */
  heartbeats = 0;
  private pending: PendingPictures | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly out: AssemblerOutput,
    private readonly pictureWaitMs = PICTURE_WAIT_MS,
  ) {}

  part(part: StreamPart): void {
    if (isPicture(part)) {
      const pending = this.pending;
      if (!pending) {
        this.out.onOther("picture with no alert waiting for it: dropped");
        return;
      }
      pending.pictures.push(pictureOf(part));
      if (pending.pictures.length >= pending.announced) this.flush();
      return;
    }
    this.flush(); // the next document ends the pictures of the alert before it
    let alert: ReturnType<typeof parseAlert>;
    try {
      alert = parseAlert(part.data.toString("utf8"), []);
    } catch (err) {
      if (err instanceof NotAPlateRead) {
        this.heartbeats++;
        this.out.onOther(err.message);
      } else if (err instanceof IngestError) this.out.onError(`alert part: ${err.message}`);
      else throw err;
      return;
    }
    if (alert.pictures === 0) {
      this.out.onRead(alert.read, part.startedMono);
      return;
    }
    // Decide now; the pictures (a large scene picture takes a while) join the event when they are in.
    let deliver: (images: ReadImage[]) => void = () => {};
    alert.read.laterImages = new Promise((resolve) => {
      deliver = resolve;
    });
    this.pending = { announced: alert.pictures, pictures: [], deliver };
    this.timer = setTimeout(() => this.flush(), this.pictureWaitMs);
    this.out.onRead(alert.read, part.startedMono);
  }

  /** Hand the waiting read its pictures (all announced ones in, the next XML, the wait over, or the end). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    pending.deliver(new MultipartBody(pending.pictures).images());
  }
}

const STATUS_HINTS: Record<number, string> = {
  403: " (the user may not receive alarms: check its remote permissions)",
  404: " (no alertStream here: is this a Hikvision ISAPI device, and the right port?)",
};

/** How one request ended: the first reason given wins (a destroyed socket's errors come after it). */
class Outcome {
  reason: string | null = null;
  refused = false;
  /** Answer the camera's new Digest challenge with another request. */
  again = false;

  fail(reason: string, refused = false): void {
    if (this.reason !== null) return;
    this.reason = reason;
    this.refused = refused;
  }
}

class AlertStreamLink {
  private readonly s: AlertStreamSettings;
  private digest: DigestSession;
  private request: ClientRequest | null = null;
  private requestClosed: Promise<void> = Promise.resolve();
  private assembler: AlertAssembler | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private connected = false;
  private failures = 0;
  /** 401 answers in this connection cycle: the second one means the credentials are wrong. */
  private challenges = 0;

  constructor(private readonly context: LinkContext) {
    this.s = context.camera.connection as AlertStreamSettings;
    this.digest = new DigestSession(this.s.username, this.s.password);
  }

  private get where(): string {
    return `${this.s.https ? "https" : "http"}://${this.s.host}:${this.s.port}`;
  }

  start(): void {
    this.connect();
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      // A read already received is not lost because its pictures were still on the way.
      this.assembler?.flush();
      this.request?.destroy();
    }
    await this.requestClosed;
    if (this.connected) {
      this.connected = false;
      this.context.onStatus("disconnected", "closed");
    }
  }

  private connect(): void {
    if (this.closed) return;
    this.challenges = 0;
    this.context.onStatus("connecting", this.where);
    this.attempt();
  }

  /** One request; a 401 answer leads to one more with the camera's new challenge. */
  private attempt(): void {
    const authorization = this.digest.authorization("GET", ALERT_STREAM_PATH);
    const req = (this.s.https ? httpsRequest : httpRequest)({
      host: this.s.host,
      port: this.s.port,
      path: ALERT_STREAM_PATH,
      method: "GET",
      // Its own connection: a long-lived stream has nothing to share with a pool.
      agent: false,
      headers: { accept: "multipart/mixed", ...(authorization ? { authorization } : {}) },
    });
    this.request = req;
    this.requestClosed = new Promise((resolve) => req.once("close", () => resolve()));
    const outcome = new Outcome();
    const connectTimer = setTimeout(() => {
      outcome.fail(`no answer within ${this.s.connectTimeoutMs} ms`);
      req.destroy();
    }, this.s.connectTimeoutMs);
    let deadTimer: NodeJS.Timeout | null = null;
    req.on("error", (err) => outcome.fail(err.message));
    req.on("response", (res) => {
      clearTimeout(connectTimer);
      res.on("error", (err) => outcome.fail(err.message));
      deadTimer = this.answer(res, outcome);
      if (!deadTimer) req.destroy(); // the headers said all there is to know
    });
    req.on("close", () => {
      clearTimeout(connectTimer);
      if (deadTimer) clearTimeout(deadTimer);
      this.assembler?.flush();
      this.assembler = null;
      if (this.request === req) this.request = null;
      if (this.closed) return;
      if (outcome.again) return this.attempt();
      const reason = outcome.reason ?? "the camera closed the connection";
      // A stream that was up reported its own end (dead link) or simply ended: the status says which.
      if (!this.connected) this.context.onError(`${this.where}: ${reason}`);
      this.connected = false;
      this.retry(reason, outcome.refused);
    });
    req.end();
  }

  /** Handle the camera's answer; returns the dead-link timer when the stream is up, else null. */
  private answer(res: IncomingMessage, outcome: Outcome): NodeJS.Timeout | null {
    const status = res.statusCode ?? 0;
    if (status === 401) {
      const challenge = digestChallenge(res.headers["www-authenticate"]);
      this.challenges += 1;
      if (typeof challenge === "string") outcome.fail(`digest authentication impossible: ${challenge}`, true);
      else if (this.challenges > 2 || (this.challenges > 1 && !challenge.stale)) {
        outcome.fail("digest authentication refused (HTTP 401): check the username and password", true);
        // Start the next cycle without credentials: one wrong login per cycle, not two.
        this.digest = new DigestSession(this.s.username, this.s.password);
      } else {
        this.digest.adopt(challenge);
        outcome.again = true;
      }
      return null;
    }
    const boundary = multipartBoundary(res.headers["content-type"]);
    if (status !== 200 || boundary === null) {
      outcome.fail(
        status === 200
          ? `expected a multipart stream, got content type '${res.headers["content-type"] ?? "none"}'`
          : `the camera answered HTTP ${status}${STATUS_HINTS[status] ?? ""}`,
      );
      return null;
    }
    this.connected = true;
    this.context.onStatus("connected", this.where);
    const assembler = new AlertAssembler({
      onRead: (read, receivedMono) => {
        this.context.log.debug({ plate: read.plate.raw }, "hikvision-alertstream read");
        this.context.onRead(read, receivedMono);
      },
      onError: (problem) => this.context.onError(problem),
      onOther: (message) => this.context.log.debug(message),
    });
    this.assembler = assembler;
    const parser = new MultipartStreamParser(
      boundary,
      { headerBytes: HEADER_BLOCK_BYTES, documentBytes: MAX_XML_BYTES, imageBytes: MAX_IMAGE_BYTES },
      {
        onPart: (part) => {
          this.failures = 0; // a part, heartbeat or read, proves the link works
          assembler.part(part);
        },
        onProblem: (problem) => this.context.onError(`alert stream: ${problem}`),
      },
    );
    const deadTimer = setTimeout(() => {
      const beats = `${assembler.heartbeats} heartbeats or other alerts before`;
      outcome.fail(
        `no data for ${this.s.heartbeatTimeoutMs} ms, not even a heartbeat (${beats}): the link is dead`,
      );
      this.context.onError(`${this.where}: ${outcome.reason}`);
      res.destroy();
    }, this.s.heartbeatTimeoutMs);
    res.on("data", (chunk: Buffer) => {
      const now = performance.now();
      deadTimer.refresh();
      // The boundary for everything a camera sends: a bad part costs that part, never the process.
      try {
        parser.push(chunk, now);
      } catch (err) {
        this.context.onError(`alert stream handling failed: ${(err as Error).message}`);
      }
    });
    res.on("end", () => outcome.fail("the camera ended the alert stream"));
    return deadTimer;
  }

  private retry(reason: string, refused: boolean): void {
    const delay = backoffMs(this.failures++, this.s, refused);
    this.context.onStatus("disconnected", `${reason}; retrying in ${Math.round(delay)} ms`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }
}

export const adapter: LinkAdapter = {
  kind: "link",
  protocol: "hikvision-alertstream",
  settings: Settings,
  open(context) {
    const link = new AlertStreamLink(context);
    link.start();
    return { close: () => link.close() };
  },
};
