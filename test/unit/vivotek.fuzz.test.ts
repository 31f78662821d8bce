/** Random and mutated VIVOTEK messages: nothing throws past the parser or the link, nothing hangs or grows. */
import { type AddressInfo, createServer } from "node:net";
import fc from "fast-check";
import { Compile } from "typebox/compile";
import { describe, expect, it } from "vitest";
import type { CameraConfig } from "../../firmware/config/site.js";
import { IngestError, NotAPlateRead, type PlateRead } from "../../firmware/ingest/types.js";
import { httpAdapter, socketAdapter } from "../../firmware/ingest/vivotek.js";
import { MessageFramer } from "../../firmware/ingest/vivotek-framer.js";
import { parseVivotekJsonText, parseVivotekXml } from "../../firmware/ingest/vivotek-message.js";
import { createLogger } from "../../firmware/util/log.js";
import { connectVivotekSocketCamera, type VivotekFormat, vivotekMessage } from "../sim/vivotek.js";

const format = fc.constantFrom<VivotekFormat>("xml", "xml-image", "json", "json-image");
const plate = fc.stringMatching(/^[A-Z0-9][A-Z0-9 -]{0,8}[A-Z0-9]$/);
const message = fc
  .record({ plate, confidence: fc.integer({ min: 1, max: 100 }), format })
  .map(({ format: f, ...read }) => vivotekMessage(read, f));
const separator = fc.constantFrom("", "\r\n", "\n", "\0", " \t ");

/** Apply random byte edits: overwrite, insert, delete. */
const mutated = fc
  .tuple(
    message,
    fc.array(
      fc.tuple(fc.nat(), fc.constantFrom("set", "insert", "delete"), fc.integer({ min: 0, max: 255 })),
      {
        minLength: 1,
        maxLength: 6,
      },
    ),
  )
  .map(([text, edits]) => {
    const bytes = [...Buffer.from(text)];
    for (const [at, op, value] of edits) {
      const i = at % (bytes.length + 1);
      if (op === "set" && i < bytes.length) bytes[i] = value;
      else if (op === "insert") bytes.splice(i, 0, value);
      else bytes.splice(i, 1);
    }
    return Buffer.from(bytes);
  });

/** Cut bytes into chunks at the given (sorted, deduplicated) offsets. */
function chunks(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...points, data.length]) {
    out.push(data.subarray(from, p));
    from = p;
  }
  return out;
}

function parseText(text: string): PlateRead {
  return text.startsWith("<") ? parseVivotekXml(text, "UTC") : parseVivotekJsonText(text, "UTC", "message");
}

/** A parse either gives a read or throws one of the two documented errors. */
function expectContained(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err instanceof IngestError || err instanceof NotAPlateRead, String(err)).toBe(true);
  }
}

describe("VIVOTEK framing and parsing, fuzzed", () => {
  it("any valid stream, cut anywhere, yields exactly its documents and reads", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(message, separator), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat()),
        (docs, cuts) => {
          const stream = Buffer.from(docs.map(([m, s]) => m + s).join(""));
          const got: string[] = [];
          const problems: string[] = [];
          const framer = new MessageFramer(1 << 20, {
            message: (_kind, data) => got.push(data.toString()),
            problem: (p) => problems.push(p),
          });
          for (const chunk of chunks(stream, cuts)) expect(framer.feed(chunk, 0)).toBe(true);
          expect(got).toEqual(docs.map(([m]) => m));
          expect(problems).toEqual([]);
          expect(framer.buffered).toBe(0);
          for (const text of got) expect(parseText(text).plate.raw.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("random and mutated bytes never throw, never buffer past the limit, and emit only input bytes", () => {
    const maxBytes = 4096;
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            mutated,
            fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
            message.map((m) => Buffer.from(m)),
          ),
          {
            maxLength: 6,
          },
        ),
        fc.array(fc.nat()),
        (parts, cuts) => {
          const stream = Buffer.concat(parts);
          const framer = new MessageFramer(maxBytes, {
            message: (_kind, data, _mono, tooDeep) => {
              expect(stream.includes(data)).toBe(true);
              if (!tooDeep) expectContained(() => parseText(data.toString("utf8")));
            },
            problem: () => {},
          });
          for (const chunk of chunks(stream, cuts)) {
            const ok = framer.feed(chunk, 0);
            expect(framer.buffered).toBeLessThanOrEqual(maxBytes);
            if (!ok) break;
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("the HTTP action's parser takes any query, JSON value or text and throws only IngestError", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string(), fc.string())), (pairs) => {
        expectContained(() => httpAdapter.parse(new URLSearchParams(pairs), "UTC"));
      }),
    );
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expectContained(() => httpAdapter.parse(value, "UTC"));
      }),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          mutated.map((b) => b.toString("utf8")),
        ),
        (text) => {
          expectContained(() => httpAdapter.parse(text, "UTC"));
        },
      ),
    );
  });
});

describe("VIVOTEK Socket Client link, fuzzed over a real socket", () => {
  it("survives any bytes from a connection and still reads from the next one", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as AddressInfo;
    await new Promise((resolve) => blocker.close(resolve));
    const reads: string[] = [];
    let listening!: () => void;
    const ready = new Promise<void>((resolve) => {
      listening = resolve;
    });
    let onRead: () => void = () => {};
    const link = socketAdapter.open({
      camera: {
        id: "viv1",
        protocol: "vivotek-socket",
        lane: "1",
        addresses: [],
        connection: Compile(socketAdapter.settings).Default({
          listenPort: port,
          host: "127.0.0.1",
          maxMessageBytes: 8192,
        }),
      } as unknown as CameraConfig,
      siteTimeZone: "UTC",
      log: createLogger("silent"),
      onRead: (read) => {
        reads.push(read.plate.normalised);
        onRead();
      },
      onCameraEvent: () => {},
      onStatus: (_state, detail) => {
        if (detail?.startsWith("listening")) listening();
      },
      onError: () => {},
    });
    try {
      await ready;
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.oneof(
              mutated,
              fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)),
            ),
            { maxLength: 4 },
          ),
          async (parts) => {
            const noisy = await connectVivotekSocketCamera({ host: "127.0.0.1", port, format: "xml" });
            for (const part of parts) await noisy.sendRaw(part).catch(() => {});
            await noisy.close();
            // A fresh connection is always heard, whatever the last one sent.
            const before = reads.length;
            const got = new Promise<void>((resolve) => {
              onRead = () => {
                if (reads.at(-1) === "FUZZ1") resolve();
              };
            });
            const camera = await connectVivotekSocketCamera({ host: "127.0.0.1", port, format: "json" });
            await camera.sendPlate({ plate: "FUZZ1" });
            await got;
            expect(reads.length).toBeGreaterThan(before);
            await camera.close();
          },
        ),
        { numRuns: 25 },
      );
    } finally {
      await link.close();
    }
  });
});
