import { describe, expect, it } from "vitest";
import { MultipartBody } from "../../firmware/ingest/multipart.js";
import { IngestError } from "../../firmware/ingest/types.js";
import { httpAdapter } from "../../firmware/ingest/vivotek.js";
import { MessageFramer, type MessageKind } from "../../firmware/ingest/vivotek-framer.js";
import { parseVivotekJsonText, parseVivotekXml } from "../../firmware/ingest/vivotek-message.js";
import { VIVOTEK_JPEG, type VivotekFormat, vivotekMessage } from "../sim/vivotek.js";

const FORMATS: VivotekFormat[] = ["xml", "xml-image", "json", "json-image"];

function parse(text: string): ReturnType<typeof parseVivotekXml> {
  return text.trimStart().startsWith("<")
    ? parseVivotekXml(text, "Europe/Berlin")
    : parseVivotekJsonText(text, "Europe/Berlin", "message");
}

/** A framer that records what it emits. */
function framer(maxBytes = 1 << 20) {
  const messages: Array<{ kind: MessageKind; text: string; mono: number; tooDeep: boolean }> = [];
  const problems: string[] = [];
  const f = new MessageFramer(maxBytes, {
    message: (kind, data, mono, tooDeep) => messages.push({ kind, text: data.toString(), mono, tooDeep }),
    problem: (text) => problems.push(text),
  });
  return { f, messages, problems };
}

function errorOf(fn: () => unknown): IngestError {
  try {
    fn();
  } catch (err) {
    if (err instanceof IngestError) return err;
    throw err;
  }
  throw new Error("expected an IngestError");
}

describe("VIVOTEK messages", () => {
  it.each(FORMATS)("reads the %s format with the vendor fields", (format) => {
    const read = parse(
      vivotekMessage(
        { plate: "B-MW 1234", confidence: 87, list: "whitelist", direction: "approach" },
        format,
      ),
    );
    expect(read).toMatchObject({
      plate: { raw: "B-MW 1234", normalised: "BMW1234" },
      confidence: 87,
      direction: "approach",
      cameraTimeRaw: "2025-03-01T08:15:02.250",
      // A zone-less camera time is site time: Berlin is UTC+1 in March.
      cameraTime: Date.parse("2025-03-01T07:15:02.250Z"),
      cameraHint: "IB9387-LPR",
      phase: null,
      extras: {
        country: "DEU",
        cameraListType: "whitelist",
        cameraName: "IB9387-LPR",
        direction: "approach",
        mode: "MOTION",
      },
    });
    // XML values stay text, JSON numbers stay numbers; both are kept.
    expect(String(read.extras.cameraListId)).toBe("2");
    expect(String(read.extras.lane)).toBe("1");
    expect(String(read.extras.charHeight)).toBe("27");
    expect(String(read.extras.readId)).toBe("4711");
    if (format.endsWith("-image"))
      expect(read.images).toEqual([{ kind: "full", ext: "jpg", data: VIVOTEK_JPEG }]);
    else expect(read.images).toEqual([]);
  });

  it("finds fields in attributes, in nested elements and in any letter case", () => {
    const attr = parseVivotekXml(
      `<Result><Plate NumberPlate="KA 777" Confidence="0.75"/><List_Name>VIP</List_Name><PlateImage>${VIVOTEK_JPEG.toString("base64")}</PlateImage></Result>`,
      "UTC",
    );
    expect(attr).toMatchObject({
      plate: { normalised: "KA777" },
      confidence: 75,
      extras: { cameraListType: "VIP" },
    });
    expect(attr.images).toEqual([{ kind: "plate", ext: "jpg", data: VIVOTEK_JPEG }]);
    const nested = parseVivotekJsonText(
      '{"result":{"lpr":{"NumberPlate":"XY999ZZ","reliability":"77%"}}}',
      "UTC",
      "message",
    );
    expect(nested).toMatchObject({ plate: { normalised: "XY999ZZ" }, confidence: 77 });
  });

  it("names the bad field by its path", () => {
    expect(errorOf(() => parseVivotekJsonText('{"numberplate":1234}', "UTC", "message")).message).toBe(
      "message.numberplate: expected a string, got number",
    );
    expect(
      errorOf(() =>
        parseVivotekXml("<lpr><numberplate>AB1</numberplate><confidence>high</confidence></lpr>", "UTC"),
      ).message,
    ).toBe("lpr.confidence: expected a confidence between 0 and 100");
    expect(
      errorOf(() => parseVivotekXml("<lpr><numberplate>AB1</numberplate><image>***</image></lpr>", "UTC"))
        .message,
    ).toBe("lpr.image: not valid base64");
    expect(errorOf(() => parseVivotekJsonText('{"data":{"plate":"!!"}}', "UTC", "message")).path).toBe(
      "message.data.plate",
    );
    expect(errorOf(() => parseVivotekXml("<lpr><country>DEU</country></lpr>", "UTC")).message).toMatch(
      /^lpr\.numberplate: missing: no plate field/,
    );
    expect(errorOf(() => parseVivotekXml("<lpr><numberplate>AB1</lpr>", "UTC")).message).toMatch(
      /^message: malformed XML/,
    );
    expect(errorOf(() => parseVivotekJsonText("[1,2]", "UTC", "message")).message).toBe(
      "message: expected a JSON object, got an array",
    );
  });
});

describe("VIVOTEK socket framing", () => {
  const docs: [string, string, string, string, string] = [
    vivotekMessage({ plate: "AB123CD" }, "xml-image"),
    vivotekMessage({ plate: "XY999ZZ" }, "json-image"),
    "<lpr id=\"a>b\" note='</lpr>'><!-- </lpr> --><x><![CDATA[</lpr>}]]></x><numberplate>KA777</numberplate><e/></lpr>",
    '{"numberplate":"MU1234","note":"} { \\" }","nested":{"a":[1,{"b":2}]}}',
    '<lpr numberplate="SELF1"/>',
  ];

  it("finds each document whether split at any byte or coalesced, with or without delimiters", () => {
    const stream = Buffer.from(`${docs[0]}\r\n${docs[1]}${docs[2]}\0${docs[3]}\n\n${docs[4]}`);
    for (let cut = 1; cut < stream.length; cut += 7) {
      const { f, messages, problems } = framer();
      expect(f.feed(stream.subarray(0, cut), 1)).toBe(true);
      expect(f.feed(stream.subarray(cut), 2)).toBe(true);
      expect(messages.map((m) => m.text)).toEqual(docs);
      expect(problems).toEqual([]);
      expect(f.buffered).toBe(0);
    }
    const byByte = framer();
    for (const byte of stream) byByte.f.feed(Buffer.from([byte]), 0);
    expect(byByte.messages.map((m) => m.text)).toEqual(docs);
    expect(byByte.messages.map((m) => m.kind)).toEqual(["xml", "json", "xml", "json", "xml"]);
  });

  it("stamps each message with the arrival of its first byte", () => {
    const { f, messages } = framer();
    f.feed(Buffer.from(`  ${docs[1]}${docs[1].slice(0, 5)}`), 10);
    f.feed(Buffer.from(docs[1].slice(5)), 20);
    expect(messages.map((m) => m.mono)).toEqual([10, 10]);
    f.feed(Buffer.from("\r\n"), 30);
    f.feed(Buffer.from(docs[4]), 40);
    expect(messages.map((m) => m.mono)).toEqual([10, 10, 40]);
  });

  it("skips junk between documents and restarts at a new XML declaration", () => {
    const { f, messages, problems } = framer();
    f.feed(Buffer.from(`GARBAGE\r\n${docs[4]}<?xml version="1.0"?><lpr><numberplate>A`), 0);
    f.feed(Buffer.from(docs[0]), 0);
    expect(messages.map((m) => m.text)).toEqual([docs[4], docs[0]]);
    expect(problems).toEqual([
      "skipped 7 bytes that are not part of an XML or JSON message",
      expect.stringMatching(/^incomplete XML message \(\d+ bytes\) abandoned/),
    ]);
  });

  it("marks documents nested too deep and loses the framing past maxBytes", () => {
    const deep = framer();
    deep.f.feed(Buffer.from(`${"[".repeat(40)}`.replace(/^\[/, "{")), 0);
    deep.f.feed(Buffer.from(`${"]".repeat(39)}}`), 0);
    expect(deep.messages).toEqual([expect.objectContaining({ kind: "json", tooDeep: true })]);
    const big = framer(4096);
    expect(big.f.feed(Buffer.from(`<lpr>${"A".repeat(4000)}`), 0)).toBe(true);
    expect(big.f.feed(Buffer.from("A".repeat(200)), 0)).toBe(false);
    expect(big.f.buffered).toBe(0);
    expect(big.f.feed(Buffer.from(docs[4]), 0)).toBe(false);
    expect(big.messages).toEqual([]);
  });
});

describe("VIVOTEK HTTP action", () => {
  it("reads the GET query, ignoring the secret", () => {
    const params = new URLSearchParams({
      secret: "vivotek-http-secret-0123",
      numberplate: "AB123CD",
      confidence: "91",
      listdescription: "whitelist",
      date: "2025-03-01T08:15:02.250",
    });
    const read = httpAdapter.parse(params, "UTC");
    expect(read).toMatchObject({
      plate: { normalised: "AB123CD" },
      confidence: 91,
      cameraTime: Date.parse("2025-03-01T08:15:02.250Z"),
      extras: { cameraListType: "whitelist" },
    });
    expect(JSON.stringify(read.extras)).not.toContain("vivotek-http-secret");
    expect(errorOf(() => httpAdapter.parse(new URLSearchParams({ numberplate: "" }), "UTC")).message).toMatch(
      /^query\.plate: missing/,
    );
    expect(errorOf(() => httpAdapter.parse(new URLSearchParams({ plate: "AB 12#" }), "UTC")).path).toBe(
      "query.plate",
    );
  });

  it.each(FORMATS)("reads a POST body in the %s format", (format) => {
    const text = vivotekMessage({ plate: "XY999ZZ", confidence: 64 }, format);
    const body = format.startsWith("json") ? JSON.parse(text) : text;
    const read = httpAdapter.parse(body, "UTC");
    expect(read).toMatchObject({ plate: { normalised: "XY999ZZ" }, confidence: 64 });
    expect(read.images).toHaveLength(format.endsWith("-image") ? 1 : 0);
  });

  it("reads a multipart body with its picture; refuses a body that is no document", () => {
    const body = new MultipartBody([
      {
        name: "lpr",
        filename: null,
        contentType: "application/xml",
        data: Buffer.from(vivotekMessage({ plate: "KA777" }, "xml")),
      },
      { name: "plate.jpg", filename: "plate.jpg", contentType: "image/jpeg", data: VIVOTEK_JPEG },
    ]);
    const read = httpAdapter.parse(body, "UTC");
    expect(read.plate.normalised).toBe("KA777");
    expect(read.images).toEqual([{ kind: "plate", ext: "jpg", data: VIVOTEK_JPEG }]);
    expect(errorOf(() => httpAdapter.parse("plate=AB123", "UTC")).message).toBe(
      "body: expected an XML or JSON document",
    );
  });
});
