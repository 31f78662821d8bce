/**
 * The arming-mode stream path fuzzed: whatever bytes a camera (or something pretending to be one) sends, in
 * whatever chunks, the parser and the alert assembler never throw past their boundary, finish every push,
 * and hold no more than their limits; a valid stream gives the same reads however it is cut.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AlertAssembler } from "../../firmware/ingest/hikvision-alertstream.js";
import { digestChallenge, parseAuthenticate } from "../../firmware/ingest/http-digest.js";
import { MultipartStreamParser, type StreamLimits } from "../../firmware/ingest/multipart-stream.js";
import { fakeJpeg, streamPart } from "../sim/hikvision-alertstream.js";
import { hikvisionXml, TINY_JPEG } from "../sim/hikvision-isapi.js";

const LIMITS: StreamLimits = { headerBytes: 512, documentBytes: 4096, imageBytes: 8192 };
/** What the parser may hold at most: a full body plus the largest unfinished header block. */
const BOUND = LIMITS.imageBytes + LIMITS.headerBytes;
const SCENE = fakeJpeg(3000);

/** A part framed either way a camera may: with Content-Length, or ended by the next boundary. */
function frame(contentType: string, body: Buffer, counted: boolean, filename?: string): Buffer {
  const extra = filename ? [`Content-Disposition: attachment; filename="${filename}"`] : [];
  if (counted) return streamPart(contentType, body, extra);
  const head = ["--boundary", `Content-Type: ${contentType}`, ...extra].join("\r\n");
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`), body, Buffer.from("\r\n")]);
}

const event = fc.oneof(
  fc.record({ kind: fc.constant("heartbeat" as const), counted: fc.boolean() }),
  fc.record({
    kind: fc.constant("plate" as const),
    plate: fc.stringMatching(/^[A-Z]{2}[0-9]{3}[A-Z]{2}$/),
    images: fc.boolean(),
    counted: fc.boolean(),
  }),
);
type Event = typeof event extends fc.Arbitrary<infer T> ? T : never;

function encode(events: Event[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of events) {
    if (e.kind === "heartbeat") {
      const xml = hikvisionXml({ plate: "", eventType: "videoloss", eventState: "inactive" });
      parts.push(frame("application/xml", Buffer.from(xml), e.counted));
      continue;
    }
    parts.push(
      frame("application/xml", Buffer.from(hikvisionXml({ plate: e.plate, pictures: e.images })), e.counted),
    );
    if (e.images)
      parts.push(
        frame("image/jpeg", TINY_JPEG, e.counted, "licensePlatePicture.jpg"),
        frame("image/jpeg", SCENE, !e.counted, "detectionPicture.jpg"),
      );
  }
  // The stream never ends: the next boundary is all a delimited last part needs.
  return Buffer.concat([...parts, Buffer.from("--boundary\r\n")]);
}

/** Feed `bytes` cut into chunks of the given sizes (cycled); returns the reads and whether the bound held. */
function run(bytes: Buffer, cuts: number[]) {
  const reads: Promise<string>[] = [];
  const problems: string[] = [];
  const assembler = new AlertAssembler({
    onRead: (read) =>
      reads.push(
        (read.laterImages ?? Promise.resolve(read.images)).then(
          (images) => `${read.plate.normalised}/${images.map((i) => i.kind).join("+")}`,
        ),
      ),
    onError: (p) => problems.push(p),
    onOther: () => {},
  });
  const parser = new MultipartStreamParser("boundary", LIMITS, {
    onPart: (part) => assembler.part(part),
    onProblem: (p) => problems.push(p),
  });
  let most = 0;
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = cuts.length ? (cuts[i % cuts.length] ?? 1) : bytes.length;
    parser.push(bytes.subarray(at, at + size));
    at += size;
    most = Math.max(most, parser.buffered);
  }
  assembler.flush(); // a read still waiting for pictures, and its timer
  return { reads, problems, most };
}

const cuts = fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 20 });

describe("arming-mode stream, fuzzed", () => {
  it("a valid stream gives the same reads, pictures included, however it is cut", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 8 }), cuts, async (events, sizes) => {
        const expected = events
          .filter((e) => e.kind === "plate")
          .map((e) => `${e.plate}/${e.images ? "plate+full" : ""}`);
        const { reads, problems } = run(encode(events), sizes);
        expect(problems).toEqual([]);
        expect(await Promise.all(reads)).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it("a mutated stream never throws and never holds more than the limits", async () => {
    const mutation = fc.record({
      kind: fc.constantFrom("delete", "insert", "duplicate", "flip", "boundary", "lengthLie"),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: 3000 }),
      bytes: fc.uint8Array({ maxLength: 64 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(event, { minLength: 1, maxLength: 6 }),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        cuts,
        async (events, mutations, sizes) => {
          let bytes = encode(events);
          for (const m of mutations) {
            const at = m.at % (bytes.length + 1);
            const head = bytes.subarray(0, at);
            const tail = bytes.subarray(at);
            const insert = (b: Buffer | Uint8Array): Buffer => Buffer.concat([head, b, tail]);
            if (m.kind === "delete") bytes = Buffer.concat([head, tail.subarray(m.length)]);
            else if (m.kind === "insert") bytes = insert(m.bytes);
            else if (m.kind === "duplicate") bytes = insert(tail.subarray(0, m.length));
            else if (m.kind === "boundary") bytes = insert(Buffer.from("\r\n--boundary\r\n"));
            else if (m.kind === "lengthLie")
              bytes = insert(Buffer.from(`Content-Length: ${m.length * 1000}\r\n`));
            else if (at < bytes.length) bytes[at] = (bytes[at] ?? 0) ^ (m.bytes[0] ?? 0xff);
          }
          const { reads, most } = run(bytes, sizes);
          expect(most).toBeLessThanOrEqual(BOUND);
          for (const read of await Promise.all(reads)) expect(read).toMatch(/^[^/]+\//);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("random bytes, with boundaries and header fragments strewn in, never throw", () => {
    const piece = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.constantFrom(
        "--boundary\r\n",
        "--boundary--\r\n",
        "\r\n\r\n",
        "\n--boundary",
        "Content-Length: 5\r\n",
        "Content-Length: 99999999999\r\n",
        "Content-Type: image/jpeg\r\n",
        "<EventNotificationAlert><eventType>ANPR</eventType>",
      ),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), cuts, (pieces, sizes) => {
        const bytes = Buffer.concat(
          pieces.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.from(p))),
        );
        expect(run(bytes, sizes).most).toBeLessThanOrEqual(BOUND);
      }),
      { numRuns: 400 },
    );
  });

  it("any WWW-Authenticate text yields a challenge or a named problem", () => {
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc
        .array(
          fc.constantFrom("Digest ", "Basic ", 'realm="r"', "nonce=n", ", ", '"', "\\", "qop=auth", "=", " "),
          {
            maxLength: 20,
          },
        )
        .map((a) => a.join("")),
    );
    fc.assert(
      fc.property(text, (header) => {
        expect(parseAuthenticate(header)).toBeInstanceOf(Map);
        const challenge = digestChallenge(header);
        if (typeof challenge !== "string") expect(challenge.nonce.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });
});
