import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MultipartBody } from "../../firmware/ingest/multipart.js";
import { adapter } from "../../firmware/ingest/numberok-edge.js";
import { IngestError, NotAPlateRead } from "../../firmware/ingest/types.js";
import { TINY_JPEG } from "../sim/hikvision-isapi.js";
import { edgeDocument } from "../sim/numberok-edge.js";

const multipart = (json: string) =>
  new MultipartBody([
    { name: "json", filename: "event.json", contentType: "application/json", data: Buffer.from(json) },
    { name: "image", filename: "plate.jpg", contentType: "image/jpeg", data: TINY_JPEG },
  ]);

describe("NumberOk EDGE JSON over HTTP", () => {
  it("reads the spec's example document from a multipart body", () => {
    const read = adapter.parse(multipart(edgeDocument({ plate: "19ZFZL" })), "UTC");
    expect(read).toMatchObject({
      plate: { raw: "19ZFZL", normalised: "19ZFZL" },
      confidence: 71.96,
      direction: "in",
      cameraTimeRaw: "2018-12-12T16:34:19+0200",
      cameraTime: Date.parse("2018-12-12T14:34:19Z"),
      extras: {
        country: "DEU",
        plateAscii: "19ZFZL",
        carState: "new",
        sensorProviderId: "CAM_00166CC39D44",
      },
    });
    expect(read.images).toHaveLength(1);
    expect(read.images[0]?.kind).toBe("plate");
  });

  it("takes the Unicode plate (umlauts intact) and keeps the ASCII form beside it", () => {
    for (const doubleEscaped of [false, true]) {
      const read = adapter.parse(
        multipart(edgeDocument({ plate: "MÜ PC 1234", ascii: "MUEPC1234", doubleEscaped })),
        "UTC",
      );
      expect(read.plate).toEqual({ raw: "MÜ PC 1234", normalised: "MÜPC1234" });
      expect(read.extras.plateAscii).toBe("MUEPC1234");
    }
  });

  it("reads the EDGE 'YYYYMMDD HHMMSSmmm' time and 1.0 as full confidence", () => {
    const doc = JSON.parse(edgeDocument({ plate: "AB1", confidence: 1 }));
    delete doc.datetimezone;
    const read = adapter.parse(doc, "UTC");
    expect(read.confidence).toBe(100);
    expect(read.cameraTime).toBe(Date.parse("2018-12-12T16:34:19.000Z"));
  });

  it("names the problem in every rejection", () => {
    expect(() => adapter.parse(new MultipartBody([]), "UTC")).toThrow(
      "body: multipart body has no JSON part",
    );
    expect(() => adapter.parse({ plateCountry: "NLD" }, "UTC")).toThrow("body.plateUnicode: missing");
    expect(() => adapter.parse({ plateUnicode: "AB1", plateConfidence: "71" }, "UTC")).toThrow(
      /plateConfidence/,
    );
    expect(() => adapter.parse(multipart("{not json"), "UTC")).toThrow(/^body.json: not valid JSON/);
  });

  it("any JSON document or mutated example yields a read or a named rejection (fuzzed)", () => {
    const base = JSON.parse(edgeDocument({ plate: "AB123CD" }));
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(base)), fc.jsonValue(), (key, value) => {
        try {
          adapter.parse({ ...base, [key]: value }, "UTC");
        } catch (err) {
          if (!(err instanceof IngestError || err instanceof NotAPlateRead)) throw err;
        }
      }),
      { numRuns: 3000 },
    );
  });
});
