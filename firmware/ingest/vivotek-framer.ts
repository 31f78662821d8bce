/**
 * Finds where one VIVOTEK socket message ends in a TCP byte stream. The camera's Socket Client action sends
 * XML or JSON documents (the "with LPR image" forms carry the picture as base64 text inside the document),
 * with no length prefix and no documented delimiter, so a message ends where its document ends: the close of
 * the XML root element, or the `}` that closes the JSON object. Bytes between documents (whitespace, CR/LF,
 * NUL or junk) are skipped. The scanner is incremental (each byte is looked at once, base64 text is skipped
 * with indexOf) and bounded: a message larger than `maxBytes` loses the framing.
 */

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const BANG = 0x21;
const QMARK = 0x3f;
const DASH = 0x2d;
const LBRACKET = 0x5b;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const RBRACKET = 0x5d;
const QUOTE = 0x22;
const APOS = 0x27;
const BACKSLASH = 0x5c;

/** Deeper documents are refused without parsing: no vendor message nests this far. */
export const MAX_NESTING = 32;

const XML_DECL = Buffer.from("<?xml");
const CDATA = Buffer.from("<![CDATA[");
const END_COMMENT = Buffer.from("-->");
const END_CDATA = Buffer.from("]]>");
const END_PI = Buffer.from("?>");
const END_DECL = Buffer.from(">");

export type MessageKind = "xml" | "json";

export interface FrameSink {
  /** One whole document; `receivedMono` is when its first byte arrived. `tooDeep`: do not parse it. */
  message(kind: MessageKind, data: Buffer, receivedMono: number, tooDeep: boolean): void;
  /** Bytes skipped or a document abandoned; framing continues. */
  problem(text: string): void;
}

type State = "between" | "xml-text" | "xml-tag" | "xml-skip" | "json";

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x00;
}

export class MessageFramer {
  private buf = Buffer.allocUnsafe(16 * 1024);
  private len = 0;
  /** Next byte to scan. */
  private pos = 0;
  /** First byte of the message being scanned. */
  private start = 0;
  private state: State = "between";
  private depth = 0;
  private tooDeep = false;
  private startMono = 0;
  private junk = 0;
  private tagIsClose = false;
  private tagQuote = 0;
  private tagLast = 0;
  private until: Buffer = END_DECL;
  private inString = false;
  private escaped = false;
  private lost = false;

  constructor(
    private readonly maxBytes: number,
    private readonly sink: FrameSink,
  ) {}

  /** Bytes held for a message not yet complete. */
  get buffered(): number {
    return this.len;
  }

  /** Bytes of a started but unfinished message (0 between messages). */
  get pending(): number {
    return this.state === "between" ? 0 : this.len - this.start;
  }

  /**
   * Feed bytes that arrived at `now` (performance.now()). Returns false once a message grew past maxBytes:
   * the framing is lost and the caller should drop the connection; later calls do nothing.
   */
  feed(chunk: Buffer, now: number): boolean {
    if (this.lost) return false;
    this.append(chunk);
    while (!this.lost && this.pos < this.len && this.step(now));
    this.flushJunk();
    if (this.state !== "between" && this.len - this.start > this.maxBytes) this.lost = true;
    if (this.lost) {
      this.len = 0;
      return false;
    }
    this.compact();
    return true;
  }

  private flushJunk(): void {
    if (this.junk === 0) return;
    this.sink.problem(`skipped ${this.junk} bytes that are not part of an XML or JSON message`);
    this.junk = 0;
  }

  /** One scanning step; false when more bytes are needed. */
  private step(now: number): boolean {
    switch (this.state) {
      case "between":
        return this.between(now);
      case "xml-text":
        return this.xmlText(now);
      case "xml-tag":
        return this.xmlTag();
      case "xml-skip":
        return this.xmlSkip();
      case "json":
        return this.json();
    }
  }

  private begin(state: State, now: number): void {
    this.flushJunk();
    this.state = state;
    this.start = this.pos;
    this.depth = 0;
    this.tooDeep = false;
    this.inString = false;
    this.escaped = false;
    this.startMono = now;
  }

  private between(now: number): boolean {
    const { buf, len } = this;
    while (this.pos < len) {
      const c = buf[this.pos] as number;
      if (c === LT) {
        this.begin("xml-text", now);
        return true;
      }
      if (c === LBRACE) {
        this.begin("json", now);
        return true;
      }
      if (!isSpace(c)) this.junk++;
      this.pos++;
    }
    return false;
  }

  private xmlText(now: number): boolean {
    const view = this.buf.subarray(0, this.len);
    const lt = view.indexOf(LT, this.pos);
    if (lt < 0) {
      this.pos = this.len;
      return false;
    }
    this.pos = lt;
    const next = view[lt + 1];
    if (next === undefined) return false;
    if (next === SLASH || next === QMARK || next === BANG) {
      if (next === QMARK) {
        if (lt + XML_DECL.length > this.len) return false;
        // A new XML declaration inside a message: the previous document never ended. Start again here.
        if (lt !== this.start && view.subarray(lt, lt + XML_DECL.length).equals(XML_DECL)) {
          this.sink.problem(
            `incomplete XML message (${lt - this.start} bytes) abandoned: a new document started`,
          );
          this.begin("xml-text", now);
        }
        return this.skipUntil(lt + 2, END_PI);
      }
      if (next === BANG) {
        if (lt + 4 > this.len) return false;
        if (view[lt + 2] === DASH && view[lt + 3] === DASH) return this.skipUntil(lt + 4, END_COMMENT);
        if (view[lt + 2] === LBRACKET) {
          if (lt + CDATA.length > this.len) return false;
          if (view.subarray(lt, lt + CDATA.length).equals(CDATA))
            return this.skipUntil(lt + CDATA.length, END_CDATA);
        }
        return this.skipUntil(lt + 2, END_DECL);
      }
      this.tagIsClose = true;
      this.pos = lt + 2;
    } else {
      this.tagIsClose = false;
      this.pos = lt + 1;
    }
    this.state = "xml-tag";
    this.tagQuote = 0;
    this.tagLast = 0;
    return true;
  }

  private skipUntil(from: number, until: Buffer): boolean {
    this.pos = from;
    this.until = until;
    this.state = "xml-skip";
    return true;
  }

  private xmlSkip(): boolean {
    const view = this.buf.subarray(0, this.len);
    const end = view.indexOf(this.until, this.pos);
    if (end < 0) {
      // Keep the last bytes: the terminator may be split across chunks.
      this.pos = Math.max(this.pos, this.len - this.until.length + 1);
      return false;
    }
    this.pos = end + this.until.length;
    this.state = "xml-text";
    return true;
  }

  private xmlTag(): boolean {
    const { buf, len } = this;
    for (let i = this.pos; i < len; i++) {
      const c = buf[i] as number;
      if (this.tagQuote !== 0) {
        if (c === this.tagQuote) this.tagQuote = 0;
        continue;
      }
      if (c === QUOTE || c === APOS) {
        this.tagQuote = c;
        continue;
      }
      if (c !== GT) {
        if (!isSpace(c)) this.tagLast = c;
        continue;
      }
      this.pos = i + 1;
      this.state = "xml-text";
      if (this.tagIsClose) this.depth--;
      else if (this.tagLast !== SLASH) {
        this.depth++;
        if (this.depth > MAX_NESTING) this.tooDeep = true;
      }
      // The root element closed (or a stray close tag: the parser will say what is wrong).
      if (this.depth <= 0) this.complete("xml");
      return true;
    }
    this.pos = len;
    return false;
  }

  private json(): boolean {
    const { buf, len } = this;
    for (let i = this.pos; i < len; i++) {
      const c = buf[i] as number;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (c === QUOTE) this.inString = true;
      else if (c === LBRACE || c === LBRACKET) {
        this.depth++;
        if (this.depth > MAX_NESTING) this.tooDeep = true;
      } else if (c === RBRACE || c === RBRACKET) {
        this.depth--;
        if (this.depth <= 0) {
          this.pos = i + 1;
          this.complete("json");
          return true;
        }
      }
    }
    this.pos = len;
    return false;
  }

  private complete(kind: MessageKind): void {
    if (this.pos - this.start > this.maxBytes) {
      this.lost = true;
      return;
    }
    const data = Buffer.from(this.buf.subarray(this.start, this.pos));
    this.state = "between";
    this.start = this.pos;
    this.sink.message(kind, data, this.startMono, this.tooDeep);
  }

  /** Drop what is scanned and not part of an unfinished message. */
  private compact(): void {
    const keep = this.state === "between" ? this.pos : this.start;
    if (keep === 0) return;
    this.buf.copyWithin(0, keep, this.len);
    this.len -= keep;
    this.pos -= keep;
    this.start -= keep;
  }

  private append(chunk: Buffer): void {
    if (this.len + chunk.length > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + chunk.length));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    chunk.copy(this.buf, this.len);
    this.len += chunk.length;
  }
}
