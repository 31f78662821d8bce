/** Milesight LPR TCP: frame codec and message parsers against the spec's bytes (specs/002 §1). */
import { describe, expect, it } from "vitest";
import {
  Command,
  encodeFrame,
  type Frame,
  FrameDecoder,
  FramingError,
  isFrame,
  type RefusedFrame,
} from "../../firmware/ingest/milesight-tcp/frames.js";
import {
  encodeLogin,
  encodeRegister,
  parseJsonPost,
  parseMetadata,
  parseRecognition,
  replyResult,
} from "../../firmware/ingest/milesight-tcp/messages.js";
import { IngestError, MAX_IMAGE_BYTES, NotAPlateRead } from "../../firmware/ingest/types.js";
import {
  cameraEventBody,
  cameraEventFrame,
  encodeMetadata,
  type MilesightTcpEventKind,
  picture,
  recognitionFrame,
} from "../sim/milesight-tcp.js";

const hexBytes = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ""), "hex");

function decodeAll(chunks: Buffer[], decoder = new FrameDecoder()): Array<Frame | RefusedFrame> {
  return chunks.flatMap((c, i) => decoder.push(c, i));
}

function chunk(id: string, body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt32LE(body.length);
  return Buffer.concat([hexBytes(id), size, body]);
}

/** The spec's packet example, field by field: GUID, time 0x16344D04550, "AB1234", WOB/ZK, BMW… */
const SPEC_METADATA = hexBytes(`
  04f912bbce94654089afe83cd88f70be  5045d04463010000
  414231323334 00000000000000000000  01 01 6400 02 00
  574f422f5a4b 0000000000000000000000000000000000000000000000000000
  01 06 414231323334 01 00000000 03 1e000000 00006040 32000000 0005 d002
  1b02 e002 bb02 6a03 0600`);

describe("Milesight TCP frames", () => {
  it("encodes the login request as the spec shows: CC FF, 0x0001, DATA_SIZE = JSON + 2, FF DD", () => {
    const json = '{"id":"admin","password":"1234"}';
    const frame = encodeLogin("admin", "1234");
    expect(frame.subarray(0, 8)).toEqual(
      hexBytes(`ccff 0100 ${(json.length + 2).toString(16).padStart(2, "0")}000000`),
    );
    expect(frame.subarray(8, -2).toString()).toBe(json);
    expect(frame.subarray(-2)).toEqual(hexBytes("ffdd"));
    expect(encodeRegister().subarray(2, 4)).toEqual(hexBytes("0200"));
    expect(JSON.parse(encodeRegister().subarray(8, -2).toString())).toEqual({ registerAll: 1 });
  });

  it("round-trips frames fed one byte at a time and coalesced in one chunk", () => {
    const frames = [
      encodeFrame(Command.LOGIN_REPLY, '{"result":"200"}'),
      recognitionFrame({ plate: "AB123CD" }),
      encodeFrame(Command.REGISTER_REPLY),
    ];
    const stream = Buffer.concat(frames);
    const bytewise = decodeAll([...stream].map((b) => Buffer.from([b])));
    const whole = decodeAll([stream]);
    for (const decoded of [bytewise, whole]) {
      expect(decoded.map((f) => (f as Frame).command)).toEqual([0x8001, 0x8801, 0x8002]);
      expect((decoded[1] as Frame).data).toEqual(frames[1]?.subarray(8, -2));
      expect((decoded[2] as Frame).data.length).toBe(0);
    }
  });

  it("stamps each frame with the time its first byte arrived", () => {
    const a = encodeFrame(Command.LOGIN_REPLY, '{"result":"200"}');
    const b = recognitionFrame({ plate: "AB123CD" });
    const decoder = new FrameDecoder();
    // a whole and b's first 3 bytes at t=10; b's rest at t=20 and t=30.
    expect(
      decoder.push(Buffer.concat([a, b.subarray(0, 3)]), 10).map((f) => (f as Frame).firstByteMono),
    ).toEqual([10]);
    expect(decoder.push(b.subarray(3, 50), 20)).toEqual([]);
    expect(decoder.push(b.subarray(50), 30).map((f) => (f as Frame).firstByteMono)).toEqual([10]);
    expect(decoder.buffered).toBe(0);
    expect(decoder.push(a, 40).map((f) => (f as Frame).firstByteMono)).toEqual([40]);
  });

  it.each([
    ["a bad start signature", hexBytes("ccfe 0100 02000000 ffdd"), /start signature CC FF/],
    ["a bad end signature", hexBytes("ccff 0100 03000000 41 ffdc"), /end signature FF DD/],
    ["a DATA_SIZE below 2", hexBytes("ccff 0100 01000000 ff"), /below 2/],
    ["an absurd DATA_SIZE", hexBytes("ccff 0100 ffffffff"), /not plausible/],
  ])("refuses %s for good: the connection must go", (_name, bytes, message) => {
    const decoder = new FrameDecoder();
    expect(() => decoder.push(bytes, 0)).toThrow(message);
    expect(() => decoder.push(encodeRegister(), 1)).toThrow(FramingError);
    expect(decoder.buffered).toBe(0);
  });

  it("skips a well-formed frame above the size limit without buffering it and stays in sync", () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 1000 });
    const big = encodeFrame(Command.RECOG_POST, Buffer.alloc(5000, 0xcc));
    const next = encodeFrame(Command.LOGIN_REPLY, '{"result":"200"}');
    const out: Array<Frame | RefusedFrame> = [];
    for (let at = 0; at < big.length; at += 700) {
      out.push(...decoder.push(big.subarray(at, at + 700), at));
      expect(decoder.buffered).toBeLessThan(1000 + 10);
    }
    out.push(...decoder.push(next, 9999));
    expect(out).toHaveLength(2);
    expect(isFrame(out[0] as Frame | RefusedFrame)).toBe(false);
    expect((out[0] as RefusedFrame).error.message).toMatch(/frame 0x8801: larger than 1000 bytes; skipped/);
    expect(out[1]).toMatchObject({ command: Command.LOGIN_REPLY });
  });
});

describe("Milesight TCP replies", () => {
  it("reads the result code as a string or a number, and from the spec's not-quite-JSON examples", () => {
    expect(replyResult(Buffer.from('{"result":"200"}'), "login")).toBe(200);
    expect(replyResult(Buffer.from('{"result":401}'), "login")).toBe(401);
    expect(replyResult(Buffer.from("{\n“result”: “200”\n“registerAll”: 1,\n}"), "register")).toBe(200);
    expect(replyResult(Buffer.from('{ "result": "200" "registerAll": 1, }'), "register")).toBe(200);
    expect(() => replyResult(Buffer.from("{}"), "login")).toThrow(/login.result: missing/);
    expect(() => replyResult(Buffer.from("\u0000\u0001"), "login")).toThrow(IngestError);
  });
});

describe("Milesight TCP recognition post", () => {
  it("lays out the spec's example metadata exactly: 112 bytes + the plate", () => {
    const meta = encodeMetadata({ plate: "AB1234", speed: 100, direction: "unknown", confidence: 0 });
    expect(meta.length).toBe(112 + 6);
    expect(meta).toEqual(SPEC_METADATA);
    expect(parseMetadata(SPEC_METADATA)).toMatchObject({
      deviceId: "04f912bbce94654089afe83cd88f70be",
      time: 1525867890000n,
      carNumber: "AB1234",
      vehicleColor: 1,
      plateColor: 1,
      speed: 100,
      imageCount: 2,
      direction: 0,
      region: "WOB/ZK",
      roi: 1,
      plate: "AB1234",
      vehicleType: 1,
      plateType: 3,
      distance: 30,
      azimuth: 3.5,
      vehicleCount: 50,
      width: 1280,
      height: 720,
      box: [539, 736, 699, 874],
      brand: 6,
    });
  });

  it("turns a post into a PlateRead with pictures in the spec's order and the vendor fields", () => {
    const frame = recognitionFrame({
      plate: "MÜ-PC 1234",
      confidence: 93.5,
      direction: "in",
      evidence: 1,
      time: 1_700_000_000_123,
      vehicleColor: 6,
      plateColor: 7,
      vehicleType: 6,
      brand: 12,
      speed: 17,
      region: "DEU",
      roi: 2,
      plateType: 2,
    });
    const read = parseRecognition(frame.subarray(8, -2));
    expect(read).toMatchObject({
      plate: { raw: "MÜ-PC 1234", normalised: "MÜPC1234" },
      confidence: 93.5,
      direction: "in",
      cameraTimeRaw: "1700000000123",
      cameraTime: 1_700_000_000_123,
      cameraHint: "04f912bbce94654089afe83cd88f70be",
      phase: null,
      extras: {
        deviceId: "04f912bbce94654089afe83cd88f70be",
        vehicleColor: "Red",
        plateColor: "White",
        vehicleType: "suv",
        vehicleBrand: "Volkswagen",
        cameraListType: "White",
        speed: 17,
        region: "DEU",
        detectionRegion: 2,
        resolutionWidth: 1280,
        resolutionHeight: 720,
        distance: 30,
        azimuth: 3.5,
        vehicleCount: 50,
      },
    });
    expect(read.images.map((i) => [i.kind, i.ext])).toEqual([
      ["plate", "jpg"],
      ["full", "jpg"],
      ["evidence", "jpg"],
    ]);
    expect(read.images.map((i) => i.data)).toEqual([picture(0), picture(1), picture(2)]);
  });

  it("scales a fractional confidence, maps out/unknown directions, and leaves out unknown codes", () => {
    const read = (p: Parameters<typeof recognitionFrame>[0]) =>
      parseRecognition(recognitionFrame(p).subarray(8, -2));
    expect(read({ plate: "AB123CD", confidence: 0.935, direction: "out" })).toMatchObject({
      confidence: 93.5,
      direction: "out",
    });
    const unknown = read({
      plate: "AB123CD",
      direction: "unknown",
      vehicleColor: 0,
      brand: 200,
      images: false,
    });
    expect(unknown.direction).toBeNull();
    expect(unknown.images).toEqual([]);
    expect(unknown.extras).not.toHaveProperty("vehicleColor");
    expect(unknown.extras.vehicleBrand).toBe(200);
  });

  it("reads the other edition's layout (no fixed car number) and firmware that stops after the plate", () => {
    const full = encodeMetadata({ plate: "KA777", confidence: 80 });
    const withoutCarNumber = Buffer.concat([full.subarray(0, 24), full.subarray(40)]);
    expect(withoutCarNumber.length).toBe(96 + 5);
    expect(parseMetadata(withoutCarNumber)).toMatchObject({
      plate: "KA777",
      region: "WOB/ZK",
      confidence: 80,
      brand: 6,
    });
    const shortTail = full.subarray(0, 80 + 5);
    const read = parseRecognition(chunk("11ff0000", shortTail));
    expect(read).toMatchObject({
      plate: { normalised: "KA777" },
      confidence: null,
      extras: { region: "WOB/ZK" },
    });
    expect(read.extras).not.toHaveProperty("vehicleBrand");
  });

  it("a post without a plate is not a read; a bad plate or bad chunks are IngestErrors naming the place", () => {
    const meta = encodeMetadata({ plate: "" });
    expect(() => parseRecognition(chunk("11ff0000", meta))).toThrow(NotAPlateRead);
    const bad = encodeMetadata({ plate: "AB<>1" });
    expect(() => parseRecognition(chunk("11ff0000", bad))).toThrow(/metadata.plate: plate may contain only/);
    const good = chunk("11ff0000", encodeMetadata({ plate: "AB123CD" }));
    expect(() => parseRecognition(chunk("22ff0000", picture(0)))).toThrow(/no metadata chunk/);
    expect(() => parseRecognition(Buffer.concat([good, good]))).toThrow(
      /chunk\[1\]: a second metadata chunk/,
    );
    expect(() => parseRecognition(Buffer.concat([good, hexBytes("22ff0000 ff000000 ffd8")]))).toThrow(
      /chunk\[1\]: chunk size 255 runs past the message/,
    );
    expect(() => parseRecognition(Buffer.concat([good, hexBytes("22ff00")]))).toThrow(/chunk header needs 8/);
    const nine = Array.from({ length: 9 }, (_, i) => chunk("22ff0000", picture(i)));
    expect(() => parseRecognition(Buffer.concat([good, ...nine]))).toThrow(/more than 8 pictures/);
    expect(() => parseRecognition(chunk("11ff0000", meta.subarray(0, 60)))).toThrow(/metadata: 60 bytes/);
    const plateTooLong = Buffer.from(meta);
    plateTooLong[79] = 200;
    expect(() => parseRecognition(chunk("11ff0000", plateTooLong))).toThrow(/plate length 200 runs past/);
  });

  it("refuses a picture above MAX_IMAGE_BYTES and skips chunks of an unknown id", () => {
    const good = chunk("11ff0000", encodeMetadata({ plate: "AB123CD" }));
    const huge = chunk("22ff0000", Buffer.alloc(MAX_IMAGE_BYTES + 1));
    expect(() => parseRecognition(Buffer.concat([good, huge]))).toThrow(/chunk\[1\]: picture larger than/);
    const read = parseRecognition(
      Buffer.concat([good, chunk("33ff0000", Buffer.alloc(10)), chunk("22ff0000", picture(5))]),
    );
    expect(read.images).toEqual([{ kind: "plate", ext: "jpg", data: picture(5) }]);
  });
});

describe("Milesight TCP JSON posts", () => {
  it.each([
    ["parking", 0x8802],
    ["counting", 0x8803],
    ["list-event", 0x8804],
    ["attributes", 0x8805],
    ["violation", 0x8806],
  ] as const)("%s (command 0x%s) becomes a bounded camera event", (kind, command) => {
    const frame = cameraEventFrame(kind as MilesightTcpEventKind);
    expect(frame.readUInt16LE(2)).toBe(command);
    const [decoded] = decodeAll([frame]) as Frame[];
    const event = parseJsonPost(command, (decoded as Frame).data);
    expect(event.kind).toBe(kind);
    const body = cameraEventBody(kind as MilesightTcpEventKind);
    expect(event.data.event).toBe(body.event);
    expect(event.data.time).toBe("2023-01-02 23:46:24");
    expect(JSON.stringify(event.data).length).toBeLessThan(2000); // base64 snapshots are not kept
    if (kind === "parking") expect(event.data.bkgSnap).toBe("[4000 characters omitted]");
  });

  it("bounds nesting, arrays and keys; refuses what is not a JSON object", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < 10; i++) deep = { a: deep };
    const big = { deep, list: Array.from({ length: 100 }, (_, i) => i) };
    const { data } = parseJsonPost(0x8803, Buffer.from(JSON.stringify(big)));
    expect(JSON.stringify(data)).toContain("[nested too deep]");
    expect((data.list as number[]).length).toBe(16);
    expect(() => parseJsonPost(0x8802, Buffer.from("[1,2]"))).toThrow(/parking: expected a JSON object/);
    expect(() => parseJsonPost(0x8806, Buffer.from("{"))).toThrow(/violation: not valid JSON/);
    expect(() => parseJsonPost(0x8801, Buffer.from("{}"))).toThrow(IngestError);
  });
});
