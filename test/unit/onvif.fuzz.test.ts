/** Hostile and broken PullMessages replies: the parser and the HTTP reader fail cleanly, fast and bounded. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePullMessages, plateReadOf } from "../../firmware/ingest/onvif-events.js";
import { MAX_RESPONSE_BYTES, OnvifError, post } from "../../firmware/ingest/onvif-soap.js";
import { IngestError } from "../../firmware/ingest/types.js";
import { notificationXml, PLATE_TOPIC, plateNotificationXml, pullMessagesXml } from "../sim/onvif.js";

const TIMES = { current: "2025-03-01T08:15:03Z", termination: "2025-03-01T08:16:03Z" };
const VALID = pullMessagesXml(
  [
    plateNotificationXml(
      { plate: "AB-123-CD", confidence: 91, country: "DE", direction: "in" },
      "2025-03-01T08:15:02Z",
    ),
    notificationXml("tns1:RuleEngine/CellMotionDetector/Motion", {
      utcTime: "2025-03-01T08:15:02Z",
      data: { IsMotion: "true" },
    }),
  ],
  TIMES,
);

/** What the link does with a reply: parse it and read every plate. Only OnvifError/IngestError may escape. */
function consume(text: string): void {
  const started = performance.now();
  try {
    for (const n of parsePullMessages(text).notifications) {
      try {
        const read = plateReadOf(n);
        expect(Object.keys(read.extras).length).toBeLessThanOrEqual(16);
        for (const v of Object.values(read.extras)) expect(String(v).length).toBeLessThanOrEqual(128);
      } catch (err) {
        if (!(err instanceof IngestError)) throw err;
      }
    }
  } catch (err) {
    if (!(err instanceof OnvifError)) throw err;
  }
  expect(performance.now() - started).toBeLessThan(500);
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat(), length: fc.nat(200) }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    text: fc.string({ unit: "binary", maxLength: 40 }),
  }),
  fc.record({
    kind: fc.constant("tag" as const),
    at: fc.nat(),
    text: fc.constantFrom(
      "<",
      ">",
      "</",
      "/>",
      "&",
      "&amp;",
      "&#0;",
      "&#x110000;",
      '"',
      "<![CDATA[",
      "<!--",
      '<!DOCTYPE x [<!ENTITY a "aaaa">]>',
      "&a;",
      'xmlns:tt=""',
      '<tt:SimpleItem Name="LicensePlate" Value=""/>',
    ),
  }),
  fc.record({
    kind: fc.constant("repeat" as const),
    at: fc.nat(),
    length: fc.nat(300),
    times: fc.integer({ min: 2, max: 50 }),
  }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(text: string, ops: readonly Mutation[]): string {
  let out = text;
  for (const op of ops) {
    const at = op.at % (out.length + 1);
    if (op.kind === "cut") out = out.slice(0, at) + out.slice(at + op.length);
    else if (op.kind === "insert" || op.kind === "tag") out = out.slice(0, at) + op.text + out.slice(at);
    else out = out.slice(0, at) + out.slice(at, at + op.length).repeat(op.times) + out.slice(at + op.length);
  }
  return out;
}

describe("PullMessages parsing under fuzzing", () => {
  it("the unmutated reply reads one plate", () => {
    const result = parsePullMessages(VALID);
    expect(result.notifications.map((n) => n.topic)).toEqual([
      PLATE_TOPIC,
      "tns1:RuleEngine/CellMotionDetector/Motion",
    ]);
    expect(plateReadOf(result.notifications[0] as any).plate.normalised).toBe("AB123CD");
  });

  it("never throws anything but OnvifError/IngestError for random text", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 2000 }), consume), { numRuns: 500 });
  });

  it("never throws anything but OnvifError/IngestError for mutated replies", () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), (ops) => consume(mutate(VALID, ops))),
      {
        numRuns: 1000,
      },
    );
  });

  it("stays bounded for pathological shapes: deep nesting, thousands of items, oversize", () => {
    consume(pullMessagesXml([`${"<a>".repeat(20_000)}${"</a>".repeat(20_000)}`], TIMES));
    const items = Array.from({ length: 5000 }, (_, i) => [`Item${i}`, "x".repeat(40)]);
    const many = notificationXml(PLATE_TOPIC, {
      utcTime: "2025-03-01T08:15:02Z",
      data: { LicensePlate: "AB1", ...Object.fromEntries(items) },
    });
    const result = parsePullMessages(pullMessagesXml([many], TIMES));
    expect(Object.keys(result.notifications[0]?.items ?? {}).length).toBeLessThanOrEqual(32);
    const huge = pullMessagesXml(
      [
        notificationXml(PLATE_TOPIC, {
          utcTime: "x",
          data: { LicensePlate: "A".repeat(MAX_RESPONSE_BYTES) },
        }),
      ],
      TIMES,
    );
    expect(() => parsePullMessages(huge)).toThrow(/larger than/);
  });
});

describe("the HTTP reply reader", () => {
  let body: (res: import("node:http").ServerResponse) => void = (res) => res.end();
  let url: URL;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => body(res));
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/onvif/subscription/1`);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const call = () =>
    post(url, "<x/>", {
      action: "a",
      timeoutMs: 1000,
      signal: new AbortController().signal,
      verifyTls: true,
    });

  it("rejects mutated replies with OnvifError only, over a real socket", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.constantFrom(200, 400, 500),
        async (ops, status) => {
          body = (res) => {
            res.writeHead(status, { "content-type": "application/soap+xml" });
            res.end(mutate(VALID, ops));
          };
          try {
            await call();
          } catch (err) {
            expect(err).toBeInstanceOf(OnvifError);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("stops reading an endless reply at the size limit, and a silent camera at the timeout", async () => {
    body = (res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, "a");
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once("drain", pump);
      };
      pump();
    };
    await expect(call()).rejects.toThrow(`reply larger than ${MAX_RESPONSE_BYTES} bytes`);
    body = () => {};
    const started = performance.now();
    await expect(call()).rejects.toMatchObject({ kind: "timeout" });
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
