import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCameraTime } from "../../firmware/ingest/fields.js";
import { adapter as generic } from "../../firmware/ingest/generic.js";
import { adapter as milesight } from "../../firmware/ingest/milesight-http.js";
import { IngestError, NotAPlateRead } from "../../firmware/ingest/types.js";
import { milesightPayload } from "../sim/milesight-http.js";

describe("Milesight HTTP POST JSON", () => {
  it("reads the snake_case generation (before 45.8.0.3-LPR_XX-r1)", () => {
    const read = milesight.parse(
      milesightPayload({ plate: "NSC 5870", confidence: 93, time: new Date("2023-09-15T06:19:57.267Z") }),
      "UTC",
    );
    expect(read.plate).toEqual({ raw: "NSC 5870", normalised: "NSC5870" });
    expect(read).toMatchObject({
      confidence: 93,
      direction: "approach",
      cameraTimeRaw: "2023-09-15 06:19:57.267",
      cameraTime: Date.parse("2023-09-15T06:19:57.267Z"),
    });
    expect(read.extras).toMatchObject({
      plateColor: "White",
      vehicleType: "Car",
      vehicleBrand: "Volkswagen",
      region: "NLD",
      cameraListType: "Visitor",
    });
  });

  it("reads the Title Case generation and decodes its base64 images", () => {
    const read = milesight.parse(
      milesightPayload({
        plate: "BD925RA",
        generation: "title",
        direction: "Away",
        plateImage: Buffer.from([0xff, 0xd8, 0xff]),
      }),
      "UTC",
    );
    expect(read).toMatchObject({
      direction: "away",
      extras: { vehicleColor: "Red", vehicleType: "Car" },
    });
    expect(read.images).toEqual([{ kind: "plate", ext: "jpg", data: Buffer.from([0xff, 0xd8, 0xff]) }]);
  });

  it("refuses an image that is not base64, naming the field", () => {
    expect(() => milesight.parse({ plate: "AB1", "Full Image": "not base64!" }, "UTC")).toThrow(
      "body.Full Image: not valid base64",
    );
    expect(() => milesight.parse({ plate: "AB1", full_image: 42 }, "UTC")).toThrow(
      "body.full_image: expected a base64 string",
    );
  });

  it("reads a zone-less camera time in the site's time zone", () => {
    expect(parseCameraTime("2023-09-15 06:19:57.267", "Europe/Amsterdam")).toBe(
      Date.parse("2023-09-15T04:19:57.267Z"),
    );
    expect(parseCameraTime("2023-01-15 06:19:57", "Europe/Amsterdam")).toBe(
      Date.parse("2023-01-15T05:19:57Z"),
    );
    expect(parseCameraTime("not a time", "UTC")).toBeNull();
  });

  it("treats '-' and 'xx%' confidences as the camera means them", () => {
    expect(milesight.parse({ plate: "AB1", confidence: "-" }, "UTC").confidence).toBeNull();
    expect(milesight.parse({ plate: "AB1", confidence: "87%" }, "UTC").confidence).toBe(87);
    expect(milesight.parse({ plate: "AB1", confidence: 0.91 }, "UTC").confidence).toBeCloseTo(91);
  });

  it("refuses parking and counting events as plate reads", () => {
    expect(() => milesight.parse({ event: "Parking Detection", "License Plate": "BD925RA" }, "UTC")).toThrow(
      NotAPlateRead,
    );
  });

  it("names the field in every error", () => {
    expect(() => milesight.parse([], "UTC")).toThrow("body: expected a JSON object, got an array");
    expect(() => milesight.parse({}, "UTC")).toThrow("body.plate: missing");
    expect(() => milesight.parse({ plate: "" }, "UTC")).toThrow("body.plate: plate is empty");
    expect(() => milesight.parse({ plate: "AB1", plate_image: 42 }, "UTC")).toThrow(
      "body.plate_image: expected a base64 string",
    );
  });
});

describe("generic webhook", () => {
  it("reads every documented field", () => {
    const read = generic.parse(
      {
        plate: "ab-1",
        camera: "cam9",
        confidence: 77,
        direction: "out",
        time: 1_700_000_000_000,
        country: "DE",
        extras: { colour: "blue", axles: 2 },
      },
      "UTC",
    );
    expect(read).toMatchObject({
      plate: { normalised: "AB1" },
      cameraHint: "cam9",
      confidence: 77,
      direction: "out",
      cameraTime: 1_700_000_000_000,
      extras: { country: "DE", colour: "blue", axles: 2 },
    });
  });

  it("rejects unknown fields, bad directions, bad times and nested extras", () => {
    expect(() => generic.parse({ plate: "AB1", speed: 3 }, "UTC")).toThrow("body.speed: unknown field");
    expect(() => generic.parse({ plate: "AB1", direction: "sideways" }, "UTC")).toThrow(/body.direction/);
    expect(() => generic.parse({ plate: "AB1", time: "soon" }, "UTC")).toThrow(/body.time/);
    expect(() => generic.parse({ plate: "AB1", extras: { a: { b: 1 } } }, "UTC")).toThrow(/body.extras.a/);
  });
});

describe("fuzzing the parsers", () => {
  const jsonish = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.string(),
      fc.double(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 12 }), tie("value"), { maxKeys: 6 }),
    ),
  })).value;
  const fieldNames = fc.constantFrom(
    "plate",
    "Plate",
    "License Plate",
    "confidence",
    "Confidence",
    "direction",
    "time",
    "time_msec",
    "event",
    "extras",
    "camera",
    "plate_image",
    "country",
    "type",
  );
  const plausible = fc.dictionary(fieldNames, jsonish, { maxKeys: 8 });

  for (const adapter of [generic, milesight]) {
    it(`${adapter.protocol}: any JSON value yields a read or an IngestError/NotAPlateRead, never anything else`, () => {
      fc.assert(
        fc.property(fc.oneof(jsonish, plausible), (body) => {
          try {
            const read = adapter.parse(body, "UTC");
            expect(read.plate.normalised.length).toBeGreaterThan(0);
          } catch (err) {
            if (!(err instanceof IngestError || err instanceof NotAPlateRead)) throw err;
            expect((err as Error).message.length).toBeGreaterThan(0);
          }
        }),
        { numRuns: 5000 },
      );
    });
  }

  it("mutated real payloads never escape the boundary", () => {
    const base = milesightPayload({ plate: "AB123CD" });
    const keys = Object.keys(base);
    fc.assert(
      fc.property(fc.constantFrom(...keys), jsonish, (key, value) => {
        try {
          milesight.parse({ ...base, [key]: value }, "UTC");
        } catch (err) {
          if (!(err instanceof IngestError || err instanceof NotAPlateRead)) throw err;
        }
      }),
      { numRuns: 5000 },
    );
  });
});
