/**
 * Milesight LPR "TCP type" framing (specs/002 §1): `CC FF | COMMAND u16 | DATA_SIZE u32 | DATA | FF DD`,
 * little-endian, DATA_SIZE = DATA length + 2 (it counts the end signature). Pure: no sockets, no timers.
 *
 * The frames carry JPEG bytes and have no checksum, so after a framing error there is no safe way to find
 * the next frame (a "CC FF" inside a picture looks like a header): the decoder stops and the connection must
 * be dropped; a fresh connection starts on a frame boundary. A well-formed frame that is merely too large is
 * skipped without buffering it, which keeps the stream in sync.
 */
import { IngestError } from "../types.js";

export const Command = {
  LOGIN_REQ: 0x0001,
  LOGIN_REPLY: 0x8001,
  REGISTER_REQ: 0x0002,
  REGISTER_REPLY: 0x8002,
  RECOG_POST: 0x8801,
  PARKING_POST: 0x8802,
  COUNTING_POST: 0x8803,
  LIST_EVENT_POST: 0x8804,
  ATTRIBUTES_POST: 0x8805,
  VIOLATION_POST: 0x8806,
} as const;

const SIG = 0xffcc; // bytes CC FF read as a little-endian u16
const SIG_END = 0xddff; // bytes FF DD
export const HEADER_BYTES = 8;
const TRAILER_BYTES = 2;

/** A recognition post holds metadata and a few pictures of at most MAX_IMAGE_BYTES each; JSON posts base64. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Declared sizes above this are not a frame we could skip but a corrupt stream. */
const MAX_SKIP_BYTES = 256 * 1024 * 1024;

export interface Frame {
  command: number;
  data: Buffer;
  /** performance.now() when the frame's first byte arrived. */
  firstByteMono: number;
}

/** A frame that was well formed but refused (too large); the stream is still in sync. */
export interface RefusedFrame {
  command: number;
  error: IngestError;
}

/** The stream is corrupt: nothing after this can be trusted, drop the connection. */
export class FramingError extends IngestError {}

export function encodeFrame(command: number, data: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const frame = Buffer.allocUnsafe(HEADER_BYTES + body.length + TRAILER_BYTES);
  frame.writeUInt16LE(SIG, 0);
  frame.writeUInt16LE(command, 2);
  frame.writeUInt32LE(body.length + TRAILER_BYTES, 4);
  body.copy(frame, HEADER_BYTES);
  frame.writeUInt16LE(SIG_END, HEADER_BYTES + body.length);
  return frame;
}

export const hex = (n: number): string => `0x${n.toString(16).padStart(4, "0")}`;

/**
 * Incremental decoder: feed it TCP chunks as they come (split or coalesced anywhere). It holds at most one
 * unfinished frame: `buffered` stays below HEADER_BYTES + maxFrameBytes + 2 after every push.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private size = 0;
  private header: { command: number; dataLength: number; skip: boolean } | null = null;
  private frameStart: number | null = null;
  private failed: FramingError | null = null;
  private readonly maxFrameBytes: number;

  constructor(limits: { maxFrameBytes?: number } = {}) {
    this.maxFrameBytes = limits.maxFrameBytes ?? MAX_FRAME_BYTES;
  }

  get buffered(): number {
    return this.size;
  }

  /**
   * Returns the frames (and refused frames) completed by this chunk, in order. Throws FramingError when the
   * stream is corrupt, and again on every later push: the caller drops the connection.
   */
  push(chunk: Buffer, now: number): Array<Frame | RefusedFrame> {
    if (this.failed) throw this.failed;
    if (chunk.length === 0) return [];
    if (this.frameStart === null) this.frameStart = now;
    this.chunks.push(chunk);
    this.size += chunk.length;
    const out: Array<Frame | RefusedFrame> = [];
    try {
      for (;;) {
        if (!this.header) {
          if (this.size < HEADER_BYTES) break;
          this.header = this.readHeader(this.take(HEADER_BYTES));
        }
        const { command, dataLength, skip } = this.header;
        if (skip) {
          // Discard the oversized body as it arrives; only its trailer is checked.
          const n = Math.min(this.size, this.header.dataLength);
          this.take(n);
          this.header.dataLength -= n;
          if (this.header.dataLength > 0 || this.size < TRAILER_BYTES) break;
          this.checkTrailer(this.take(TRAILER_BYTES), command);
          out.push({
            command,
            error: new IngestError(
              `frame ${hex(command)}`,
              `larger than ${this.maxFrameBytes} bytes; skipped`,
            ),
          });
        } else {
          if (this.size < dataLength + TRAILER_BYTES) break;
          const data = this.take(dataLength);
          this.checkTrailer(this.take(TRAILER_BYTES), command);
          out.push({ command, data, firstByteMono: this.frameStart ?? now });
        }
        this.header = null;
        // Bytes left over arrived with this chunk, so the next frame started now.
        this.frameStart = this.size > 0 ? now : null;
      }
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      this.failed = err;
      this.chunks = [];
      this.size = 0;
      throw err;
    }
    return out;
  }

  private readHeader(head: Buffer): { command: number; dataLength: number; skip: boolean } {
    if (head.readUInt16LE(0) !== SIG)
      throw new FramingError(
        "frame",
        `expected the start signature CC FF, got ${head.subarray(0, 2).toString("hex")}`,
      );
    const command = head.readUInt16LE(2);
    const declared = head.readUInt32LE(4);
    if (declared < TRAILER_BYTES)
      throw new FramingError(`frame ${hex(command)}`, `DATA_SIZE ${declared} is below 2 (it counts FF DD)`);
    if (declared > MAX_SKIP_BYTES)
      throw new FramingError(`frame ${hex(command)}`, `DATA_SIZE ${declared} is not plausible`);
    const dataLength = declared - TRAILER_BYTES;
    return { command, dataLength, skip: dataLength > this.maxFrameBytes };
  }

  private checkTrailer(trailer: Buffer, command: number): void {
    if (trailer.readUInt16LE(0) !== SIG_END)
      throw new FramingError(
        `frame ${hex(command)}`,
        `expected the end signature FF DD after DATA_SIZE bytes, got ${trailer.toString("hex")}`,
      );
  }

  /** Remove and return the first n buffered bytes (n ≤ size); copies only when n spans chunks. */
  private take(n: number): Buffer {
    this.size -= n;
    const first = this.chunks[0];
    if (first && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0] as Buffer;
      const used = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, used);
      filled += used;
      if (used === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(used);
    }
    return out;
  }
}

export function isFrame(item: Frame | RefusedFrame): item is Frame {
  return "data" in item;
}
