/**
 * An incremental parser for an endless multipart/mixed stream (RFC 2046 §5.1), as a camera's event stream
 * sends it: bytes go in as they arrive, split or coalesced anywhere; whole parts come out. A part's body ends
 * after its Content-Length when it has one, else at the next boundary. Hard limits keep what it holds small
 * whatever the camera sends: a header block of at most `headerBytes`, a part of at most `imageBytes` (images)
 * or `documentBytes` (anything else); a part over its limit is reported and skipped up to the next boundary,
 * never buffered. Nothing in here throws on any input.
 */

export interface StreamPart {
  /** Header names in lower case. */
  headers: ReadonlyMap<string, string>;
  contentType: string;
  data: Buffer;
  /** performance.now() of the chunk that completed the part's boundary line: when the part began to arrive. */
  startedMono: number;
}

export interface StreamLimits {
  headerBytes: number;
  documentBytes: number;
  imageBytes: number;
}

export interface StreamHandlers {
  onPart(part: StreamPart): void;
  /** A part that was refused (too large, headers malformed); parsing goes on at the next boundary. */
  onProblem(problem: string): void;
}

/** The boundary parameter of a multipart Content-Type, or null when it is not a multipart type. */
export function multipartBoundary(contentType: string | undefined): string | null {
  const [type = "", ...params] = (contentType ?? "").split(";");
  if (!/^\s*multipart\//i.test(type)) return null;
  for (const param of params) {
    const match = /^\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s"]{1,70}))\s*$/i.exec(param);
    if (match) return match[1] ?? match[2] ?? null;
  }
  return null;
}

/**
 * seek: looking for `--boundary`, discarding what comes before; boundary-line: the rest of that line;
 * headers; counted: a body of known length; delimited: a body that ends at the next boundary.
 */
type State = "seek" | "boundary-line" | "headers" | "counted" | "delimited";

const EMPTY = Buffer.alloc(0);
/** The most bytes a boundary line may carry after the boundary (transport padding, `--`). */
const MAX_BOUNDARY_LINE = 256;

export class MultipartStreamParser {
  private readonly dashBoundary: Buffer;
  /** A body ends at LF + dash-boundary (the CR before the LF, when there is one, is removed). */
  private readonly delimiter: Buffer;
  private state: State = "seek";
  /** Bytes kept between pushes: a possible partial boundary, or an unfinished header block. */
  private pending: Buffer = EMPTY;
  private headers: Map<string, string> = new Map();
  private contentType = "";
  private body: Buffer[] = [];
  private bodyBytes = 0;
  private remaining = 0;
  private limit = 0;
  private startedMono = 0;

  constructor(
    boundary: string,
    private readonly limits: StreamLimits,
    private readonly handlers: StreamHandlers,
  ) {
    this.dashBoundary = Buffer.from(`--${boundary}`, "latin1");
    this.delimiter = Buffer.from(`\n--${boundary}`, "latin1");
  }

  /** Bytes held right now (for tests of the bound). */
  get buffered(): number {
    return this.pending.length + this.bodyBytes;
  }

  push(chunk: Buffer, now: number = performance.now()): void {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = EMPTY;
    while (data.length > 0) {
      const used = this.step(data, now);
      if (used === null) {
        this.pending = data;
        return;
      }
      data = data.subarray(used);
    }
  }

  /** Consume from `data`; returns how many bytes were used, or null to wait for more (keeping `data`). */
  private step(data: Buffer, now: number): number | null {
    switch (this.state) {
      case "seek": {
        const at = data.indexOf(this.dashBoundary);
        if (at < 0) return keepTail(data, this.dashBoundary.length - 1);
        this.state = "boundary-line";
        return at + this.dashBoundary.length;
      }
      case "boundary-line": {
        const end = data.indexOf(0x0a);
        if (end < 0) {
          if (data.length <= MAX_BOUNDARY_LINE) return null;
          this.handlers.onProblem("boundary line too long");
          this.state = "seek";
          return data.length;
        }
        // `--boundary--` closes a message; an endless stream may start another, so look on.
        const closing = data[0] === 0x2d && data[1] === 0x2d;
        this.state = closing ? "seek" : "headers";
        this.startedMono = now;
        return end + 1;
      }
      case "headers":
        return this.readHeaders(data);
      case "counted": {
        const take = Math.min(this.remaining, data.length);
        this.body.push(data.subarray(0, take));
        this.bodyBytes += take;
        this.remaining -= take;
        if (this.remaining === 0) this.finishPart();
        return take;
      }
      case "delimited": {
        const at = data.indexOf(this.delimiter);
        const bodyEnd = at < 0 ? Math.max(0, data.length - (this.delimiter.length - 1)) : at;
        if (this.bodyBytes + bodyEnd > this.limit) {
          this.refusePart(`larger than ${this.limit} bytes`);
          return 0;
        }
        if (bodyEnd > 0) {
          this.body.push(data.subarray(0, bodyEnd));
          this.bodyBytes += bodyEnd;
        }
        if (at < 0) return bodyEnd === 0 ? null : bodyEnd;
        this.finishPart();
        this.state = "boundary-line";
        return at + this.delimiter.length;
      }
    }
  }

  private readHeaders(data: Buffer): number | null {
    // An empty header block is just the blank line.
    const blank = data[0] === 0x0a ? 1 : data[0] === 0x0d && data[1] === 0x0a ? 2 : 0;
    let end = -1;
    let used = blank;
    if (blank === 0) {
      const crlf = data.indexOf("\r\n\r\n");
      const lf = data.indexOf("\n\n");
      end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
      used = end < 0 ? 0 : end + (end === crlf ? 4 : 2);
    }
    if (used === 0) {
      if (data.length <= this.limits.headerBytes) return null;
      this.handlers.onProblem(`part headers larger than ${this.limits.headerBytes} bytes`);
      this.state = "seek";
      return Math.max(0, data.length - (this.dashBoundary.length - 1));
    }
    if (used - blank > this.limits.headerBytes) {
      this.handlers.onProblem(`part headers larger than ${this.limits.headerBytes} bytes`);
      this.state = "seek";
      return used;
    }
    this.startPart(end < 0 ? "" : data.toString("latin1", 0, end));
    return used;
  }

  private startPart(headerBlock: string): void {
    this.headers = new Map();
    for (const line of headerBlock.split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon > 0)
        this.headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    this.contentType = this.headers.get("content-type") ?? "";
    this.limit = /^(image\/|application\/octet-stream)/i.test(this.contentType)
      ? this.limits.imageBytes
      : this.limits.documentBytes;
    this.body = [];
    this.bodyBytes = 0;
    const length = this.headers.get("content-length");
    if (length !== undefined && /^\d{1,15}$/.test(length)) {
      this.remaining = Number(length);
      if (this.remaining > this.limit) this.refusePart(`declares ${this.remaining} bytes`);
      else if (this.remaining === 0) this.finishPart();
      else this.state = "counted";
    } else this.state = "delimited";
  }

  private finishPart(): void {
    let data = this.body.length === 1 ? (this.body[0] as Buffer) : Buffer.concat(this.body);
    // A delimited body's line break before the boundary belongs to the boundary.
    if (this.state === "delimited" && data[data.length - 1] === 0x0d) data = data.subarray(0, -1);
    const part = {
      headers: this.headers,
      contentType: this.contentType,
      data,
      startedMono: this.startedMono,
    };
    this.body = [];
    this.bodyBytes = 0;
    this.state = "seek";
    this.handlers.onPart(part);
  }

  /** Report the part and drop it: its bytes are discarded up to the next boundary, never held. */
  private refusePart(why: string): void {
    const type = this.contentType || "no content type";
    this.handlers.onProblem(`part (${type}) ${why}, over the limit of ${this.limit} bytes: skipped`);
    this.body = [];
    this.bodyBytes = 0;
    this.state = "seek";
  }
}

/** Consume all of `data` but its last `keep` bytes (a boundary may begin there); null when nothing can go. */
function keepTail(data: Buffer, keep: number): number | null {
  return data.length > keep ? data.length - keep : null;
}
