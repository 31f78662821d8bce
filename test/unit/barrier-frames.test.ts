/** Serial barrier frames: checksums against published values, hex parsing, reply matching. */
import { describe, expect, it } from "vitest";
import {
  buildFrame,
  checksum,
  crc16Modbus,
  findReply,
  parseFrame,
  parsePattern,
} from "../../firmware/barrier/frames.js";

describe("checksums", () => {
  it("CRC-16/MODBUS gives the catalogue check value and a known Modbus request's CRC, low byte first", () => {
    expect(crc16Modbus(Buffer.from("123456789"))).toBe(0x4b37);
    // Read holding registers, slave 1, address 0, count 1: the well-known frame 01 03 00 00 00 01 84 0A.
    expect(buildFrame(parseFrame("01 03 00 00 00 01"), "crc16-modbus")).toEqual(
      Buffer.from("01030000000184 0A".replace(" ", ""), "hex"),
    );
  });

  it("XOR reproduces the Mach Power frames of protocols.md §9.3 (with the corrected A8/A9)", () => {
    const frame = (cmd: string) => buildFrame(parseFrame(`EB 01 ${cmd} 00`), "xor").toString("hex");
    expect([frame("40"), frame("41"), frame("42"), frame("43"), frame("4A"), frame("4B")]).toEqual([
      "eb014000aa",
      "eb014100ab",
      "eb014200a8",
      "eb014300a9",
      "eb014a00a0",
      "eb014b00a1",
    ]);
  });

  it("Digicon's BCC example (02 02 00 48 → 48) and sum8 wrap-around", () => {
    expect(checksum("xor", Buffer.from("02020048", "hex"))).toEqual(Buffer.of(0x48));
    expect(checksum("sum8", Buffer.of(0xff, 0x02, 0x10))).toEqual(Buffer.of(0x11));
    expect(checksum("none", Buffer.of(1, 2))).toHaveLength(0);
  });
});

describe("hex frames and reply patterns", () => {
  it("parses spaced and compact hex, wildcards only in patterns", () => {
    expect(parseFrame("eb014300")).toEqual(Buffer.of(0xeb, 0x01, 0x43, 0x00));
    expect(parsePattern("EB ?? C3")).toEqual([0xeb, null, 0xc3]);
    expect(() => parseFrame("EB ?? 00")).toThrow(/cannot contain/);
    expect(() => parsePattern("EB 1")).toThrow(/not hex bytes/);
  });

  it("finds a reply after noise, names the pattern, and rejects a wrong checksum", () => {
    const patterns = [parsePattern("EB 01 ?? 00"), parsePattern("EB 01 D0")];
    const ack = buildFrame(Buffer.of(0xeb, 0x01, 0xc3, 0x00), "xor");
    expect(findReply(Buffer.concat([Buffer.of(0x00, 0x55), ack]), patterns, "xor")).toEqual({
      kind: "match",
      index: 0,
      end: 2 + ack.length,
    });
    const corrupt = Buffer.from(ack);
    corrupt.writeUInt8(corrupt.readUInt8(4) ^ 0xff, 4);
    expect(findReply(corrupt, patterns, "xor")).toEqual({ kind: "bad-checksum", end: 5 });
    expect(findReply(ack.subarray(0, 4), patterns, "xor")).toEqual({ kind: "none" }); // checksum not here yet
    const closed = buildFrame(Buffer.of(0xeb, 0x01, 0xd0), "crc16-modbus");
    expect(findReply(closed, patterns, "crc16-modbus")).toMatchObject({ kind: "match", index: 1 });
  });
});
