/**
 * Milesight TCP decoder and parsers under random and mutated input: nothing but IngestError (or
 * NotAPlateRead) ever escapes, every push returns, and the decoder never holds more than one frame's worth.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Command,
  encodeFrame,
  FrameDecoder,
  HEADER_BYTES,
  isFrame,
} from "../../firmware/ingest/milesight-tcp/frames.js";
import {
  JSON_POSTS,
  parseJsonPost,
  parseRecognition,
  replyResult,
} from "../../firmware/ingest/milesight-tcp/messages.js";
import { IngestError, NotAPlateRead } from "../../firmware/ingest/types.js";
import { cameraEventFrame, recognitionFrame } from "../sim/milesight-tcp.js";

const MAX_FRAME = 4096;

/** What the adapter does with a decoded frame, minus the socket. */
function dispatch(command: number, data: Buffer): void {
  if (command === Command.LOGIN_REPLY || command === Command.REGISTER_REPLY) replyResult(data, "reply");
  else if (command === Command.RECOG_POST) parseRecognition(data);
  else if (JSON_POSTS.has(command)) parseJsonPost(command, data);
}

const expected = (err: unknown): boolean => err instanceof IngestError || err instanceof NotAPlateRead;

/** Feed `stream` in the given chunk sizes; check the bound after each push; parse every frame. */
function feed(stream: Buffer, cuts: number[]): void {
  const decoder = new FrameDecoder({ maxFrameBytes: MAX_FRAME });
  let at = 0;
  let i = 0;
  while (at < stream.length) {
    const size = Math.max(1, cuts[i++ % Math.max(1, cuts.length)] ?? 1);
    let items: ReturnType<FrameDecoder["push"]>;
    try {
      items = decoder.push(stream.subarray(at, at + size), at);
    } catch (err) {
      if (!(err instanceof IngestError)) throw err;
      return; // the adapter drops the connection here
    }
    at += size;
    expect(decoder.buffered).toBeLessThan(HEADER_BYTES + MAX_FRAME + 2);
    for (const item of items) {
      if (!isFrame(item)) continue;
      try {
        dispatch(item.command, item.data);
      } catch (err) {
        if (!expected(err)) throw err;
      }
    }
  }
}

const validFrames = fc.constantFrom(
  recognitionFrame({ plate: "AB123CD", confidence: 91, direction: "in", evidence: 1 }),
  recognitionFrame({ plate: "부산02가1234", images: false }),
  cameraEventFrame("parking"),
  cameraEventFrame("counting"),
  encodeFrame(Command.LOGIN_REPLY, '{"result":"200"}'),
  encodeFrame(Command.REGISTER_REPLY, '{"result":"401"}'),
);

/** A valid frame with byte flips, insertions and deletions. */
const mutated = fc
  .tuple(
    validFrames,
    fc.array(
      fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("set", "insert", "delete")),
      {
        minLength: 1,
        maxLength: 6,
      },
    ),
  )
  .map(([frame, edits]) => {
    let bytes = Buffer.from(frame);
    for (const [pos, value, op] of edits) {
      const at = pos % (bytes.length + 1);
      if (op === "set" && at < bytes.length) bytes[at] = value;
      else if (op === "insert")
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([value]), bytes.subarray(at)]);
      else bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
    }
    return bytes;
  });

/** A valid header with a random command and body, so the parsers see garbage behind a good frame. */
const garbageBody = fc
  .tuple(
    fc.constantFrom(0x8001, 0x8002, 0x8801, 0x8802, 0x8803, 0x8804, 0x8805, 0x8806, 0x1234),
    fc.uint8Array({ maxLength: 600 }),
  )
  .map(([command, body]) => encodeFrame(command, Buffer.from(body)));

/** A recognition post whose metadata chunk is random bytes of plausible sizes. */
const garbageMetadata = fc.uint8Array({ minLength: 0, maxLength: 200 }).map((meta) => {
  const head = Buffer.from([0x11, 0xff, 0, 0, 0, 0, 0, 0]);
  head.writeUInt32LE(meta.length, 4);
  return encodeFrame(Command.RECOG_POST, Buffer.concat([head, Buffer.from(meta)]));
});

const cuts = fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 });

describe("Milesight TCP decoder and parsers, fuzzed", () => {
  it("random bytes in random chunks", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), cuts, (bytes, c) => feed(Buffer.from(bytes), c)),
      { numRuns: 500 },
    );
  });

  it("streams of valid, mutated and garbage-bodied frames in random chunks", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(validFrames, mutated, garbageBody, garbageMetadata), {
          minLength: 1,
          maxLength: 6,
        }),
        cuts,
        (frames, c) => feed(Buffer.concat(frames), c),
      ),
      { numRuns: 1000 },
    );
  });

  it("mutated frames behind a good one: the good one is always decoded and read", () => {
    fc.assert(
      fc.property(mutated, cuts, (bad, c) => {
        const good = recognitionFrame({ plate: "KA777" });
        const decoder = new FrameDecoder({ maxFrameBytes: MAX_FRAME });
        const items = decoder.push(good.subarray(0, c[0]), 0);
        items.push(...decoder.push(good.subarray(c[0]), 1));
        try {
          decoder.push(bad, 2);
        } catch (err) {
          if (!(err instanceof IngestError)) throw err;
        }
        const [first] = items;
        expect(first && isFrame(first) && parseRecognition(first.data).plate.normalised).toBe("KA777");
      }),
      { numRuns: 300 },
    );
  });

  it("parsers alone: random recognition bodies and JSON posts", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.constantFrom(...JSON_POSTS.keys()),
        (body, command) => {
          for (const run of [
            () => parseRecognition(Buffer.from(body)),
            () => parseJsonPost(command, Buffer.from(body)),
            () => replyResult(Buffer.from(body), "reply"),
          ]) {
            try {
              run();
            } catch (err) {
              if (!expected(err)) throw err;
            }
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
