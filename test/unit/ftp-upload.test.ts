/**
 * ftp-upload without a server: the schema (defaults, what it refuses), template checks, file and folder
 * naming (safe names, time zones, no way out of the folder), the XML and JSON documents, what compose
 * stores, and which failures are permanent.
 */

import { FTPError } from "basic-ftp";
import { XMLParser } from "fast-xml-parser";
import { Compile } from "typebox/compile";
import { describe, expect, it } from "vitest";
import {
  type Config,
  eventJson,
  eventXml,
  fillDirectory,
  fillName,
  ftpFailure,
  messageFiles,
  network,
  pictureFileName,
  safeName,
  schema,
  templateProblems,
} from "../../firmware/actions/ftp-upload.js";
import type { EventView } from "../../firmware/events.js";
import type { OutboxRow } from "../../firmware/outbox/repo.js";
import { eventView } from "../helpers/event-view.js";
import { TINY_JPEG } from "../sim/hikvision-isapi.js";

const check = Compile(schema);
const config = (over: Record<string, unknown> = {}): Config =>
  check.Default({ type: "ftp-upload", host: "nas.local", ...over }) as Config;

/** The shared event, late in the evening (so local dates cross midnight) and with an explanation. */
const event = (over: Partial<EventView> = {}): EventView =>
  eventView({
    explanation: { steps: ["exact"] },
    receivedAt: "2025-03-01T23:15:02.120Z",
    relayAt: "2025-03-01T23:15:02.121Z",
    ...over,
  });

function compose(c: Config, ctx: Partial<Parameters<ReturnType<typeof network>["compose"]>[0]> = {}) {
  const draft = network(c).compose({ event: event(), images: [], laterPictures: false, ...ctx });
  if (!draft) throw new Error("no message");
  return { ...draft, payload: JSON.parse(JSON.stringify(draft.payload)) };
}

describe("ftp-upload schema", () => {
  it("defaults: port 21, plain, certificates checked, {yyyy}/{mm}/{dd}/{time}_{lane}_{plate}, xml + jpg, atomic", () => {
    const c = config();
    expect(check.Check(c)).toBe(true);
    expect(c).toMatchObject({
      port: 21,
      secure: false,
      verifyTls: true,
      username: "anonymous",
      password: "",
      directory: "{yyyy}/{mm}/{dd}",
      fileName: "{time}_{lane}_{plate}",
      files: ["xml", "jpg"],
      picture: "full",
      atomic: true,
      timeZone: "UTC",
    });
  });

  it("refuses what would not work: unknown keys, other secure values, slashes in file names, empty file lists", () => {
    for (const bad of [
      { extra: 1 },
      { secure: "explicit" },
      { fileName: "a/b" },
      { fileName: "" },
      { directory: "a\\b" },
      { files: [] },
      { files: ["xml", "xml"] },
      { files: ["png"] },
      { port: 0 },
    ])
      expect(check.Check(config(bad)), JSON.stringify(bad)).toBe(false);
    for (const good of [
      { secure: true },
      { secure: "implicit" },
      { directory: "" },
      { directory: "/lpr/{camera}" },
    ])
      expect(check.Check(config(good)), JSON.stringify(good)).toBe(true);
  });

  it("template problems: unknown placeholders, '..', unknown zones — network() refuses them all at once", () => {
    expect(templateProblems(config())).toEqual([]);
    const bad = config({ directory: "../{year}", fileName: "{plate}{nope}", timeZone: "Mars/Base" });
    expect(templateProblems(bad)).toEqual([
      "directory: unknown placeholder {year}",
      "directory: '.' and '..' are not allowed as folder names",
      "fileName: unknown placeholder {nope}",
      "timeZone: 'Mars/Base' is not a known time zone",
    ]);
    expect(() => network(bad)).toThrow(/ftp-upload: directory: unknown placeholder \{year\}; .*Mars\/Base/);
  });
});

describe("ftp-upload naming", () => {
  it("safeName: ASCII letters, digits, . _ -; no leading dots; never empty; at most 64 characters", () => {
    expect(safeName("MÜ-PC 1234")).toBe("MU-PC-1234");
    expect(safeName("straße")).toBe("strasse");
    expect(safeName("../../etc/passwd")).toBe("etc-passwd");
    expect(safeName("a\\b:c*d?e|f")).toBe("a-b-c-d-e-f");
    expect(safeName("")).toBe("_");
    expect(safeName("..")).toBe("_");
    expect(safeName("x".repeat(100))).toHaveLength(64);
  });

  it("file names: {time} compact, date parts in the zone (crossing midnight), values made safe", () => {
    const e = event({ plate: "MÜPC1234", laneId: "north/gate" });
    expect(fillName("{time}_{lane}_{plate}", e, "UTC")).toBe("20250301231502120_north-gate_MUPC1234");
    expect(fillName("{time}_{lane}_{plate}", e, "Europe/Berlin")).toBe(
      "20250302001502120_north-gate_MUPC1234",
    );
    expect(
      fillName("{yyyy}-{mm}-{dd}T{hh}{min}{ss}_{event}_{decision}_{camera}", e, "America/New_York"),
    ).toBe("2025-03-01T181502_42_allow_cam1");
    expect(pictureFileName(e, "jpg")).toBe("20250301231502120_north-gate_MUPC1234.jpg");
  });

  it("folders: from the template only — a value can neither add a folder nor climb out of one", () => {
    const e = event({ cameraId: "../cam", laneId: "a/b" });
    expect(fillDirectory("{yyyy}/{mm}/{dd}", e, "Europe/Berlin")).toBe("2025/03/02");
    expect(fillDirectory("/lpr/{camera}/{lane}", e, "UTC")).toBe("/lpr/cam/a-b");
    expect(fillDirectory("", e, "UTC")).toBe("");
    expect(fillDirectory("x//{list}/", event({ listName: null }), "UTC")).toBe("x/_");
  });
});

describe("ftp-upload documents", () => {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@", parseTagValue: false });

  it("XML: versioned root, one element per field, markup escaped, forbidden characters dropped, extras", () => {
    const e = event({
      reason: 'on <list> "A&B"\u0001',
      plate: "MÜPC1234",
      direction: null,
      extras: { country: "DEU", nested: { x: 1 }, charHeight: 31 },
    });
    const text = eventXml(e, "Europe/Berlin", "p.jpg");
    expect(
      text.startsWith(
        '<?xml version="1.0" encoding="utf-8"?>\n<event format="portcullis-event" version="1">',
      ),
    ).toBe(true);
    expect(text).toContain("&lt;list&gt;");
    const doc = parser.parse(text).event;
    expect(doc).toMatchObject({
      id: "42",
      plate: "MÜPC1234",
      reason: 'on <list> "A&B"',
      lane: "1",
      time: "2025-03-01T23:15:02.120Z",
      localTime: "2025-03-02T00:15:02.120+01:00",
      picture: "p.jpg",
      extras: {
        extra: [
          { "@name": "country", "#text": "DEU" },
          { "@name": "charHeight", "#text": "31" },
        ],
      },
    });
    expect(doc.direction).toBe("");
  });

  it("JSON: the same fields, typed, plus extras and explanation; picture null when there is none", () => {
    const doc = JSON.parse(eventJson(event({ extras: { country: "DEU" } }), "UTC", null));
    expect(doc).toMatchObject({
      format: "portcullis-event",
      version: 1,
      id: 42,
      plate: "AB123CD",
      confidence: 94,
      localTime: "2025-03-01T23:15:02.120+00:00",
      picture: null,
      extras: { country: "DEU" },
      explanation: { steps: ["exact"] },
    });
  });
});

describe("ftp-upload compose and files", () => {
  const plate = { kind: "plate" as const, ext: "jpg", data: TINY_JPEG };
  const full = { kind: "full" as const, ext: "png", data: Buffer.from("full") };
  const row = (draft: { payload: unknown; attachment?: Buffer | null }): [unknown, Buffer | null] => [
    draft.payload,
    draft.attachment ?? null,
  ];

  it("the wanted picture, else any; held for a later one; none when jpg is not wanted", () => {
    const c = config({ files: ["jpg", "json", "xml"] });
    expect(compose(c, { images: [plate, full] })).toMatchObject({
      attachment: full.data,
      payload: { pictureExt: "png", directory: "2025/03/01", name: "20250301231502120_1_AB123CD" },
    });
    expect(compose(c, { images: [plate] }).attachment).toBe(TINY_JPEG);
    expect(compose(config({ picture: "plate" }), { images: [plate, full] }).attachment).toBe(TINY_JPEG);
    const held = compose(c, { laterPictures: true });
    expect(held).toMatchObject({ awaitPicture: "full", payload: { pictureExt: "jpg" } });
    expect(held.attachment).toBeUndefined();
    const noJpg = compose(config({ files: ["xml"] }), { images: [plate], laterPictures: true });
    expect(noJpg.attachment).toBeUndefined();
    expect(noJpg.awaitPicture).toBeUndefined();
  });

  it("files in upload order: picture, JSON, XML; the documents name the picture only when it goes too", () => {
    const c = config({ files: ["xml", "json", "jpg"] });
    const [payload, attachment] = row(compose(c, { images: [plate] }));
    const files = messageFiles(payload as never, attachment, "UTC");
    const base = "20250301231502120_1_AB123CD";
    expect(files.map(([n]) => n)).toEqual([`${base}.jpg`, `${base}.json`, `${base}.xml`]);
    expect(files[0]?.[1]).toBe(TINY_JPEG);
    expect(JSON.parse(files[1]?.[1].toString() ?? "").picture).toBe(`${base}.jpg`);
    // The awaited picture never came: the documents go alone and say so.
    const [held] = row(compose(c, { laterPictures: true }));
    const alone = messageFiles(held as never, null, "UTC");
    expect(alone.map(([n]) => n)).toEqual([`${base}.json`, `${base}.xml`]);
    expect(JSON.parse(alone[0]?.[1].toString() ?? "").picture).toBeNull();
  });

  it("a message with only a wanted picture that never came is delivered as nothing", async () => {
    const c = config({ files: ["jpg"], host: "127.0.0.1", port: 9 });
    const draft = compose(c);
    const message = { id: 1, payload: JSON.stringify(draft.payload), attachment: null } as OutboxRow;
    await expect(
      network(c)
        .sender(undefined as never)
        .send(message, new AbortController().signal),
    ).resolves.toBe(undefined);
  });
});

describe("ftp-upload failures", () => {
  const ftpError = (code: number, message: string) => new FTPError({ code, message });

  it("553 and 501 refuse the message for good; 530, 550, 552, 4xx and network errors are retried", () => {
    for (const [code, permanent] of [
      [553, true],
      [501, true],
      [530, false],
      [550, false],
      [552, false],
      [421, false],
      [451, false],
    ] as const)
      expect(
        ftpFailure(ftpError(code, `${code} no`), "FTP h:21", "store a.xml", "pw").permanent,
        String(code),
      ).toBe(permanent);
    const refused = Object.assign(new Error("connect ECONNREFUSED 10.0.0.9:21"), { code: "ECONNREFUSED" });
    expect(ftpFailure(refused, "FTP 10.0.0.9:21", "connect", "").message).toBe(
      "FTP 10.0.0.9:21 connect: connect ECONNREFUSED 10.0.0.9:21",
    );
    const tls = Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" });
    expect(ftpFailure(tls, "FTPS h:21", "connect", "").message).toBe(
      "FTPS h:21 connect: DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate",
    );
  });

  it("a server that echoes the password does not get it into the error", () => {
    const err = ftpFailure(
      ftpError(530, "530 bad password s3cret-pw for gate"),
      "FTP h:21",
      "connect",
      "s3cret-pw",
    );
    expect(err.message).toBe("FTP h:21 connect: 530 bad password *** for gate");
  });
});
