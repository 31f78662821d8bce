import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { adapter } from "../../firmware/ingest/hikvision-isapi.js";
import { MultipartBody } from "../../firmware/ingest/multipart.js";
import { IngestError, NotAPlateRead } from "../../firmware/ingest/types.js";
import { hikvisionXml, TINY_JPEG } from "../sim/hikvision-isapi.js";

describe("Hikvision ISAPI EventNotificationAlert", () => {
  it.each(["isapi", "hikvision", "prefixed"] as const)(
    "reads an ANPR alert in the %s namespace",
    (namespace) => {
      const read = adapter.parse(hikvisionXml({ plate: "AB-123-CD", confidence: 91, namespace }), "UTC");
      expect(read).toMatchObject({
        plate: { raw: "AB-123-CD", normalised: "AB123CD" },
        confidence: 91,
        direction: "approach",
        cameraTimeRaw: "2025-03-01T08:15:02+01:00",
        cameraTime: Date.parse("2025-03-01T07:15:02Z"),
        extras: {
          country: "7",
          line: "1",
          plateColor: "white",
          vehicleType: "SUVMPV",
          vehicleColor: "white",
          speed: "12",
        },
      });
      expect(read.extras).not.toHaveProperty("plateType"); // "unknown" carries nothing
    },
  );

  it("reads the XML part of a multipart body and its pictures", () => {
    const body = new MultipartBody([
      {
        name: "anpr.xml",
        filename: "anpr.xml",
        contentType: "application/xml",
        data: Buffer.from(hikvisionXml({ plate: "XY999ZZ", direction: "reverse" })),
      },
      {
        name: "licensePlatePicture.jpg",
        filename: "licensePlatePicture.jpg",
        contentType: "image/jpeg",
        data: TINY_JPEG,
      },
      {
        name: "detectionPicture.jpg",
        filename: "detectionPicture.jpg",
        contentType: "application/octet-stream",
        data: TINY_JPEG,
      },
    ]);
    const read = adapter.parse(body, "UTC");
    expect(read).toMatchObject({
      plate: { normalised: "XY999ZZ" },
      direction: "away",
    });
    expect(read.images.map((i) => [i.kind, i.ext, i.data.length])).toEqual([
      ["plate", "jpg", TINY_JPEG.length],
      ["full", "jpg", TINY_JPEG.length],
    ]);
  });

  it("reads the vehicleDetection alarm of specs/004 as a plate read", () => {
    const read = adapter.parse(hikvisionXml({ plate: "KA777", eventType: "vehicleDetection" }), "UTC");
    expect(read.plate.normalised).toBe("KA777");
  });

  it("treats heartbeats and other events as not plate reads", () => {
    expect(() => adapter.parse(hikvisionXml({ plate: "AB1", eventType: "videoloss" }), "UTC")).toThrow(
      NotAPlateRead,
    );
  });

  it("names the problem in every rejection", () => {
    expect(() => adapter.parse("<EventNotificationAlert><eventType>ANPR", "UTC")).toThrow(
      /^body: malformed XML/,
    );
    expect(() => adapter.parse("<Other/>", "UTC")).toThrow(
      "body: expected an EventNotificationAlert document",
    );
    expect(() => adapter.parse(hikvisionXml({ plate: "" }), "UTC")).toThrow("ANPR.licensePlate: missing");
    expect(() => adapter.parse(hikvisionXml({ plate: "AB1", confidence: 250 }), "UTC")).toThrow(
      /ANPR.confidenceLevel/,
    );
    expect(() => adapter.parse({ plate: "AB1" }, "UTC")).toThrow(/expected an XML document/);
    expect(() => adapter.parse(new MultipartBody([]), "UTC")).toThrow(/no XML part/);
  });

  it("does not expand entities (no billion laughs)", () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<EventNotificationAlert><eventType>ANPR</eventType><ANPR><licensePlate>&lol2;</licensePlate></ANPR></EventNotificationAlert>`;
    expect(() => adapter.parse(bomb, "UTC")).toThrow(IngestError);
  });

  it("any text or mutated alert yields a read or a named rejection, never anything else (fuzzed)", () => {
    const base = hikvisionXml({ plate: "AB123CD" });
    const mutated = fc
      .tuple(fc.nat(base.length), fc.nat(40), fc.string({ maxLength: 20 }))
      .map(([at, cut, insert]) => base.slice(0, at) + insert + base.slice(at + cut));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), mutated), (text) => {
        try {
          adapter.parse(text, "UTC");
        } catch (err) {
          if (!(err instanceof IngestError || err instanceof NotAPlateRead)) throw err;
        }
      }),
      { numRuns: 3000 },
    );
  });
});
