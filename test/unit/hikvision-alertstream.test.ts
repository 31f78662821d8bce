/** Hikvision arming mode, piece by piece: Digest answers, the multipart stream parser, alert + picture grouping. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { AlertAssembler, PICTURE_WAIT_MS } from "../../firmware/ingest/hikvision-alertstream.js";
import { parseAlert } from "../../firmware/ingest/hikvision-isapi.js";
import {
  DigestSession,
  digestChallenge,
  digestResponse,
  parseAuthenticate,
} from "../../firmware/ingest/http-digest.js";
import {
  MultipartStreamParser,
  multipartBoundary,
  type StreamLimits,
  type StreamPart,
} from "../../firmware/ingest/multipart-stream.js";
import type { PlateRead } from "../../firmware/ingest/types.js";
import { fakeJpeg, streamPart } from "../sim/hikvision-alertstream.js";
import { hikvisionXml, TINY_JPEG } from "../sim/hikvision-isapi.js";

describe("HTTP Digest", () => {
  // RFC 7616 §3.9.1: the same request answered with MD5 and with SHA-256.
  const rfc7616 = {
    username: "Mufasa",
    password: "Circle of Life",
    realm: "http-auth@example.org",
    nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    nc: "00000001",
    qop: "auth" as const,
    method: "GET",
    uri: "/dir/index.html",
  };

  it("computes RFC 7616's worked example, MD5 and SHA-256", () => {
    expect(digestResponse({ ...rfc7616, algorithm: "MD5" })).toBe("8ca523f5e9506fed4657c9700eebdbec");
    expect(digestResponse({ ...rfc7616, algorithm: "SHA-256" })).toBe(
      "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
    );
  });

  it("computes RFC 2617's worked example", () => {
    expect(
      digestResponse({
        algorithm: "MD5",
        username: "Mufasa",
        password: "Circle Of Life",
        realm: "testrealm@host.com",
        nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        cnonce: "0a4f113b",
        nc: "00000001",
        qop: "auth",
        method: "GET",
        uri: "/dir/index.html",
      }),
    ).toBe("6629fae49393a05397450978507c4ef1");
  });

  it("reads several challenges in one header, quoted commas and escapes included", () => {
    const challenges = parseAuthenticate(
      'Basic realm="cam", Digest realm="IP Camera(C6287), lobby", qop="auth,auth-int", nonce="a\\"b", stale=TRUE',
    );
    expect([...challenges.keys()]).toEqual(["basic", "digest"]);
    expect(Object.fromEntries(challenges.get("digest") ?? [])).toEqual({
      realm: "IP Camera(C6287), lobby",
      qop: "auth,auth-int",
      nonce: 'a"b',
      stale: "TRUE",
    });
    expect(digestChallenge('Digest qop="auth,auth-int", realm="r", nonce="n", stale=TRUE')).toEqual({
      realm: "r",
      nonce: "n",
      opaque: null,
      algorithm: "MD5",
      qop: "auth",
      stale: true,
    });
  });

  it("names what it cannot answer", () => {
    expect(digestChallenge('Basic realm="cam"')).toMatch(/offers no Digest authentication .*basic/);
    expect(digestChallenge(undefined)).toMatch(/offers no Digest authentication/);
    expect(digestChallenge('Digest realm="r", nonce="n", algorithm=SHA-512-256')).toMatch(/SHA-512-256/);
    expect(digestChallenge('Digest realm="r", nonce="n", qop="auth-int"')).toMatch(/auth-int/);
    expect(digestChallenge('Digest realm="r"')).toMatch(/no realm or nonce/);
  });

  it("answers a challenge with a header a server can verify, counting uses of the nonce", () => {
    const session = new DigestSession('Mu"fasa', "Circle of Life");
    expect(session.authorization("GET", "/x")).toBeNull();
    const challenge = digestChallenge('Digest realm="r", qop="auth", nonce="n1", opaque="op"');
    if (typeof challenge === "string") throw new Error(challenge);
    session.adopt(challenge);
    const headers = [session.authorization("GET", "/a"), session.authorization("GET", "/a")];
    for (const [i, header] of headers.entries()) {
      const p = parseAuthenticate(header ?? "").get("digest");
      expect(p?.get("username")).toBe('Mu"fasa');
      expect(p?.get("nc")).toBe(`0000000${i + 1}`);
      expect(p?.get("opaque")).toBe("op");
      expect(p?.get("uri")).toBe("/a");
      expect(p?.get("response")).toBe(
        digestResponse({
          algorithm: "MD5",
          username: 'Mu"fasa',
          password: "Circle of Life",
          realm: "r",
          nonce: "n1",
          cnonce: p?.get("cnonce") ?? "",
          nc: p?.get("nc") ?? "",
          qop: "auth",
          method: "GET",
          uri: "/a",
        }),
      );
    }
    const noQop = digestChallenge('Digest realm="r", nonce="n2"');
    if (typeof noQop === "string") throw new Error(noQop);
    session.adopt(noQop);
    const legacy = parseAuthenticate(session.authorization("GET", "/a") ?? "").get("digest");
    expect(legacy?.has("nc")).toBe(false); // RFC 2069: no qop, no nonce count
  });
});

const LIMITS: StreamLimits = { headerBytes: 8192, documentBytes: 256 * 1024, imageBytes: 8 * 1024 * 1024 };

function collect(limits: StreamLimits = LIMITS) {
  const parts: StreamPart[] = [];
  const problems: string[] = [];
  const parser = new MultipartStreamParser("boundary", limits, {
    onPart: (p) => parts.push(p),
    onProblem: (p) => problems.push(p),
  });
  return { parser, parts, problems };
}

/** A part without Content-Length: it ends at the next boundary. */
function delimitedPart(contentType: string, body: Buffer, eol = "\r\n"): Buffer {
  return Buffer.concat([
    Buffer.from(`--boundary${eol}Content-Type: ${contentType}${eol}${eol}`),
    body,
    Buffer.from(eol),
  ]);
}

const xmlA = Buffer.from("<a>first</a>");
const jpeg = fakeJpeg(5000);
const xmlB = Buffer.from("<b>second\r\n--boundar</b>"); // almost a boundary, inside a body
const stream = Buffer.concat([
  Buffer.from("\r\n"),
  streamPart("application/xml", xmlA),
  delimitedPart("image/jpeg", jpeg),
  delimitedPart("application/xml", xmlB),
  streamPart("image/jpeg", TINY_JPEG),
  Buffer.from("--boundary\r\n"), // the next part has begun
]);
// Compared as hex: deep equality of large Buffers is slow.
const hex = (parts: StreamPart[]): string[][] => parts.map((p) => [p.contentType, p.data.toString("hex")]);
const expected = [
  ["application/xml", xmlA.toString("hex")],
  ["image/jpeg", jpeg.toString("hex")],
  ["application/xml", xmlB.toString("hex")],
  ["image/jpeg", TINY_JPEG.toString("hex")],
];

describe("multipart stream parser", () => {
  it("reads the boundary from the content type", () => {
    expect(multipartBoundary("multipart/mixed; boundary=boundary")).toBe("boundary");
    expect(multipartBoundary('multipart/mixed;charset=utf-8; boundary="a b"')).toBe("a b");
    expect(multipartBoundary("application/xml; boundary=x")).toBeNull();
    expect(multipartBoundary("multipart/mixed")).toBeNull();
    expect(multipartBoundary(undefined)).toBeNull();
  });

  it("reads parts with and without Content-Length, the stream in one chunk", () => {
    const { parser, parts, problems } = collect();
    parser.push(stream);
    expect(hex(parts)).toEqual(expected);
    expect(parts[0]?.headers.get("content-length")).toBe(String(xmlA.length));
    expect(problems).toEqual([]);
  });

  it("reads the same parts whatever the chunking: one byte at a time, or cut at every position", () => {
    const bytewise = collect();
    for (const byte of stream) bytewise.parser.push(Buffer.from([byte]));
    expect(hex(bytewise.parts)).toEqual(expected);
    for (let cut = 1; cut < stream.length; cut += 7) {
      const { parser, parts } = collect();
      parser.push(stream.subarray(0, cut));
      parser.push(stream.subarray(cut));
      expect(hex(parts)).toEqual(expected);
    }
  });

  it("accepts bare LF line ends", () => {
    const { parser, parts } = collect();
    parser.push(Buffer.concat([delimitedPart("text/xml", xmlA, "\n"), Buffer.from("--boundary\n")]));
    expect(parts.map((p) => [p.contentType, p.data.toString()])).toEqual([["text/xml", "<a>first</a>"]]);
  });

  it("stamps each part with the time of the chunk that began it", () => {
    const { parser, parts } = collect();
    const first = streamPart("application/xml", xmlA);
    parser.push(first.subarray(0, 20), 100);
    parser.push(first.subarray(20), 200);
    parser.push(streamPart("application/xml", xmlA), 300);
    expect(parts.map((p) => p.startedMono)).toEqual([100, 300]);
  });

  it("skips a part over its limit, declared or found, and an oversized header block, then goes on", () => {
    const small: StreamLimits = { headerBytes: 256, documentBytes: 64, imageBytes: 1024 };
    const { parser, parts, problems } = collect(small);
    parser.push(streamPart("image/jpeg", fakeJpeg(4096)));
    parser.push(streamPart("application/xml", xmlA));
    parser.push(delimitedPart("application/xml", Buffer.alloc(500, 0x3c)));
    parser.push(delimitedPart("application/xml", xmlA));
    parser.push(Buffer.from(`--boundary\r\nX-Junk: ${"j".repeat(400)}\r\n\r\n<never/>\r\n`));
    parser.push(streamPart("application/xml", xmlA));
    parser.push(Buffer.from("--boundary\r\n"));
    expect(parts.map((p) => p.data.toString())).toEqual(["<a>first</a>", "<a>first</a>", "<a>first</a>"]);
    expect(problems).toEqual([
      "part (image/jpeg) declares 4096 bytes, over the limit of 1024 bytes: skipped",
      "part (application/xml) larger than 64 bytes, over the limit of 64 bytes: skipped",
      "part headers larger than 256 bytes",
    ]);
  });

  it("holds no more than its limits, however long a body goes on without a boundary", () => {
    const small: StreamLimits = { headerBytes: 256, documentBytes: 64, imageBytes: 1024 };
    const { parser, problems } = collect(small);
    parser.push(Buffer.from("--boundary\r\nContent-Type: image/jpeg\r\n\r\n"));
    let most = 0;
    for (let i = 0; i < 200; i++) {
      parser.push(Buffer.alloc(100, 0x61));
      most = Math.max(most, parser.buffered);
    }
    expect(most).toBeLessThanOrEqual(1024 + "\n--boundary".length);
    expect(problems).toHaveLength(1);
  });
});

describe("alert and picture grouping", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const xmlPart = (xml: string, startedMono = 1): StreamPart => ({
    headers: new Map([["content-type", "application/xml"]]),
    contentType: "application/xml",
    data: Buffer.from(xml),
    startedMono,
  });
  const picturePart = (filename: string, data: Buffer): StreamPart => ({
    headers: new Map([["content-disposition", `attachment; filename="${filename}"`]]),
    contentType: "image/jpeg",
    data,
    startedMono: 99,
  });
  function assembler() {
    const reads: { read: PlateRead; mono: number }[] = [];
    const errors: string[] = [];
    const other: string[] = [];
    const a = new AlertAssembler({
      onRead: (read, mono) => reads.push({ read, mono }),
      onError: (p) => errors.push(p),
      onOther: (m) => other.push(m),
    });
    return { a, reads, errors, other };
  }
  const scene = fakeJpeg(3000);

  it("counts the pictures an alert announces: its pictureInfoList, else picNum", () => {
    const bare = hikvisionXml({ plate: "AB123CD", pictures: false });
    expect(parseAlert(hikvisionXml({ plate: "AB123CD" }), []).pictures).toBe(2);
    expect(parseAlert(bare, []).pictures).toBe(0);
    const withPicNum = bare.replace(
      "</EventNotificationAlert>",
      "<picNum>1</picNum></EventNotificationAlert>",
    );
    expect(parseAlert(withPicNum, []).pictures).toBe(1);
  });

  it("reports an alert that announces no pictures at once", () => {
    const { a, reads } = assembler();
    a.part(xmlPart(hikvisionXml({ plate: "AB123CD", pictures: false }), 42));
    expect(reads.map((r) => [r.read.plate.normalised, r.mono, r.read.images])).toEqual([["AB123CD", 42, []]]);
  });

  it("reports the read as soon as its XML is in; its pictures follow once the announced ones are in", async () => {
    const { a, reads } = assembler();
    a.part(xmlPart(hikvisionXml({ plate: "AB123CD" }), 7));
    expect(reads).toHaveLength(1);
    expect(reads[0]?.mono).toBe(7);
    expect(reads[0]?.read.images).toEqual([]);
    let delivered = false;
    void reads[0]?.read.laterImages?.then(() => {
      delivered = true;
    });
    a.part(picturePart("licensePlatePicture.jpg", TINY_JPEG));
    await Promise.resolve();
    expect(delivered).toBe(false);
    a.part(picturePart("detectionPicture.jpg", scene));
    const later = (await reads[0]?.read.laterImages) ?? [];
    expect(later.map((i) => [i.kind, i.ext, i.data.length])).toEqual([
      ["plate", "jpg", TINY_JPEG.length],
      ["full", "jpg", scene.length],
    ]);
  });

  it("ends an alert's pictures at the next XML part", async () => {
    const { a, reads } = assembler();
    a.part(xmlPart(hikvisionXml({ plate: "AB123CD" })));
    a.part(picturePart("licensePlatePicture.jpg", TINY_JPEG));
    a.part(xmlPart(hikvisionXml({ plate: "XY999ZZ", pictures: false })));
    expect(reads.map((r) => r.read.plate.normalised)).toEqual(["AB123CD", "XY999ZZ"]);
    expect((await reads[0]?.read.laterImages)?.length).toBe(1);
    expect(reads[1]?.read.laterImages).toBeUndefined();
  });

  it("stops waiting for announced pictures after PICTURE_WAIT_MS; a late one is dropped", async () => {
    vi.useFakeTimers();
    const { a, reads } = assembler();
    a.part(xmlPart(hikvisionXml({ plate: "AB123CD" })));
    expect(reads).toHaveLength(1);
    let later: unknown[] | null = null;
    void reads[0]?.read.laterImages?.then((images) => {
      later = images;
    });
    await vi.advanceTimersByTimeAsync(PICTURE_WAIT_MS - 1);
    expect(later).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(later).toEqual([]);
    a.part(picturePart("detectionPicture.jpg", scene)); // late: dropped, not a second read
    expect(reads).toHaveLength(1);
  });

  it("ignores heartbeats and pictures without an alert; names a malformed alert", () => {
    const { a, reads, errors, other } = assembler();
    a.part(xmlPart(hikvisionXml({ plate: "", eventType: "videoloss", eventState: "inactive" })));
    a.part(picturePart("detectionPicture.jpg", scene));
    a.part(xmlPart("<EventNotificationAlert><eventType>ANPR</eventType><ANPR>"));
    expect(reads).toEqual([]);
    expect(a.heartbeats).toBe(1);
    expect(other).toEqual([
      "Hikvision 'videoloss' event is not a plate read",
      "picture with no alert waiting for it: dropped",
    ]);
    expect(errors).toEqual([expect.stringMatching(/^alert part: body: malformed XML/)]);
  });
});
