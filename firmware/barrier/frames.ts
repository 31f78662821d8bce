/**
 * Serial barrier frames: hex frames from the site file, checksums, and reply matching. Pure functions.
 *
 * One rule for every frame, sent or received: the configured bytes, then the checksum of those bytes
 * (nothing for `none`, one byte for `xor`/`sum8`, two bytes low-first for `crc16-modbus`).
 */

export const CHECKSUMS = ["none", "xor", "sum8", "crc16-modbus"] as const;
export type ChecksumType = (typeof CHECKSUMS)[number];

/** A reply pattern: each byte a value, or null for a `??` wildcard. */
export type Pattern = readonly (number | null)[];

/** Hex bytes, optionally separated by single spaces: `EB 01 43 00` or `EB014300`. */
export const HEX_FRAME = "^[0-9A-Fa-f]{2}( ?[0-9A-Fa-f]{2})*$";
/** Like HEX_FRAME, with `??` for a byte that may have any value. */
export const HEX_PATTERN = "^([0-9A-Fa-f]{2}|\\?\\?)( ?([0-9A-Fa-f]{2}|\\?\\?))*$";

/** Parse a reply pattern (or a frame: a pattern without wildcards). Throws on anything but hex pairs and `??`. */
export function parsePattern(text: string): Pattern {
  if (!new RegExp(HEX_PATTERN).test(text)) throw new Error(`'${text}' is not hex bytes (e.g. 'EB 01 ?? 00')`);
  const compact = text.replaceAll(" ", "");
  const bytes: (number | null)[] = [];
  for (let i = 0; i < compact.length; i += 2) {
    const pair = compact.slice(i, i + 2);
    bytes.push(pair === "??" ? null : Number.parseInt(pair, 16));
  }
  return bytes;
}

export function parseFrame(text: string): Buffer {
  const pattern = parsePattern(text);
  if (pattern.includes(null)) throw new Error(`'${text}': a frame to send cannot contain '??'`);
  return Buffer.from(pattern as number[]);
}

/** CRC-16/MODBUS: poly 0xA001 (reflected 0x8005), init 0xFFFF. Check value for "123456789" is 0x4B37. */
export function crc16Modbus(data: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

export function checksumLength(type: ChecksumType): number {
  return type === "none" ? 0 : type === "crc16-modbus" ? 2 : 1;
}

export function checksum(type: ChecksumType, data: Uint8Array): Buffer {
  switch (type) {
    case "none":
      return Buffer.alloc(0);
    case "xor":
      return Buffer.of(data.reduce((a, b) => a ^ b, 0));
    case "sum8":
      return Buffer.of(data.reduce((a, b) => (a + b) & 0xff, 0));
    case "crc16-modbus": {
      const crc = crc16Modbus(data);
      return Buffer.of(crc & 0xff, crc >>> 8); // Modbus sends the low byte first
    }
  }
}

/** The bytes to put on the wire: the frame and its checksum. */
export function buildFrame(frame: Uint8Array, type: ChecksumType): Buffer {
  return Buffer.concat([frame, checksum(type, frame)]);
}

export type MatchResult =
  | { kind: "match"; index: number; end: number }
  | { kind: "bad-checksum"; end: number }
  | { kind: "none" };

/**
 * Look in `buffer` for the first frame matching one of `patterns` followed by a valid checksum.
 * `index` says which pattern; `end` is where the matched frame ends (bytes before it are consumed).
 * A frame that matches a pattern but carries a wrong checksum is reported as `bad-checksum`, so the caller
 * can drop it and say why the device is not understood.
 */
export function findReply(buffer: Uint8Array, patterns: readonly Pattern[], type: ChecksumType): MatchResult {
  const sumLength = checksumLength(type);
  for (let start = 0; start < buffer.length; start++) {
    for (const [index, pattern] of patterns.entries()) {
      const end = start + pattern.length + sumLength;
      if (end > buffer.length) continue;
      if (!pattern.every((b, i) => b === null || b === buffer[start + i])) continue;
      const body = buffer.subarray(start, start + pattern.length);
      if (checksum(type, body).equals(buffer.subarray(start + pattern.length, end)))
        return { kind: "match", index, end };
      return { kind: "bad-checksum", end };
    }
  }
  return { kind: "none" };
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes)
    .toString("hex")
    .toUpperCase()
    .replace(/(..)(?=.)/g, "$1 ");
}
