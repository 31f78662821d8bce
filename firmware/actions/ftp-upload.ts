/**
 * `ftp-upload`: each decision as files on an FTP or FTPS server — the VIVOTEK camera's "FTP" list action
 * ("send an XML, JSON or image to an FTP server", specs/003 §4.4), done by the controller. Which files:
 * `xml` (the event, built with fast-xml-parser's XMLBuilder), `json` (the same fields, plus the explanation)
 * and `jpg` (the read's picture, with the picture's own extension). specs/003 shows the action's settings
 * and its file naming only in screenshots its text copy lacks, so folder and file names are templates here:
 * by default `{yyyy}/{mm}/{dd}/{time}_{lane}_{plate}.<ext>` under the login directory.
 *
 * One connection per message: connect (plain, explicit FTPS with AUTH TLS, or implicit FTPS), log in, make
 * the folder, upload the picture first and the documents last (a reader that watches for `.xml`/`.json`
 * finds the picture already there), close. With `atomic` (default) each file goes up as `<name>.part` and is
 * renamed into place, so a reader never sees half a file; an existing file of the same name (an earlier,
 * interrupted attempt of this very message) is replaced. "Delivered" = every file stored under its name.
 *
 * Failures: 553 (file name not allowed) and 501 (bad parameter) refuse this message for good (it is marked
 * failed); everything else — network, TLS, 530 login refused, 550 permission, 552 disk full, 4xx — keeps
 * the messages waiting, in order. Errors name the server and the step, never the password.
 */
import { isIP } from "node:net";
import { Readable } from "node:stream";
import { Client, FTPError } from "basic-ftp";
import { XMLBuilder } from "fast-xml-parser";
import { type Static, Type } from "typebox";
import type { EventView } from "../events.js";
import type { ImageKind } from "../ingest/types.js";
import type { OutboxRow } from "../outbox/repo.js";
import { fill, PLACEHOLDERS, toAscii } from "../outbox/text.js";
import { DeliveryError, deliverySettings, type MessageDraft, type Sender } from "../outbox/types.js";
import { isoWithOffset, isTimeZone, zoneOffsetMs } from "../util/time.js";
import type { NetworkAction, NetworkContext } from "./types.js";

export const kind = "network";

/** The files one decision can become; uploaded in this order (picture first, documents last). */
export const FILE_KINDS = ["jpg", "json", "xml"] as const;
export type FileKind = (typeof FILE_KINDS)[number];

/** Date placeholders of folder and file name templates, in `timeZone`. */
export const DATE_PLACEHOLDERS = ["yyyy", "mm", "dd", "hh", "min", "ss"] as const;

/** Version of the XML and JSON documents (`version` attribute / key). */
export const DOCUMENT_VERSION = 1;

const NAME_HELP = `placeholders: {${[...PLACEHOLDERS, ...DATE_PLACEHOLDERS].join("} {")}}; {time} is yyyymmddhhmmssSSS`;

export const schema = Type.Object(
  {
    type: Type.Literal("ftp-upload"),
    host: Type.String({ minLength: 1, maxLength: 253, description: "the FTP server's address" }),
    port: Type.Integer({
      minimum: 1,
      maximum: 65_535,
      default: 21,
      description: "21 (plain or explicit FTPS); implicit FTPS servers usually listen on 990",
    }),
    secure: Type.Union([Type.Literal(false), Type.Literal(true), Type.Literal("implicit")], {
      default: false,
      description:
        "false: plain FTP (the password travels in clear text); true: explicit FTPS (AUTH TLS, required); implicit: TLS from the first byte",
    }),
    verifyTls: Type.Boolean({ default: true, description: "check the server's certificate (FTPS)" }),
    username: Type.String({ minLength: 1, maxLength: 256, default: "anonymous" }),
    password: Type.String({ maxLength: 256, default: "", description: "never logged" }),
    directory: Type.String({
      maxLength: 255,
      pattern: "^[A-Za-z0-9._{}/ -]*$",
      default: "{yyyy}/{mm}/{dd}",
      description: `folder template, relative to the login folder (or absolute with a leading /), made when missing; ${NAME_HELP}`,
    }),
    fileName: Type.String({
      minLength: 1,
      maxLength: 120,
      pattern: "^[A-Za-z0-9._{}-]+$",
      default: "{time}_{lane}_{plate}",
      description: `file name template without extension; values are folded to A-Z a-z 0-9 . _ -; ${NAME_HELP}`,
    }),
    files: Type.Array(Type.Union([Type.Literal("jpg"), Type.Literal("json"), Type.Literal("xml")]), {
      minItems: 1,
      maxItems: 3,
      uniqueItems: true,
      default: ["xml", "jpg"],
      description:
        "xml: the event as XML; json: the event as JSON; jpg: the read's picture (skipped when it has none)",
    }),
    picture: Type.Union([Type.Literal("full"), Type.Literal("plate")], {
      default: "full",
      description: "jpg: the full picture or the plate crop (the other when the read has only that)",
    }),
    atomic: Type.Boolean({
      default: true,
      description: "upload as <name>.part, then rename into place; false: write under the final name",
    }),
    timeZone: Type.String({
      minLength: 1,
      maxLength: 64,
      default: "UTC",
      description: "IANA zone of the date placeholders and of the documents' localTime",
    }),
    ...deliverySettings,
  },
  {
    additionalProperties: false,
    description: "upload each decision as XML / JSON / picture files to an FTP or FTPS server",
  },
);

export type Config = Static<typeof schema>;

/** The stored message: where the files go and what they say (the picture is the message's attachment). */
interface Payload {
  directory: string;
  name: string;
  files: FileKind[];
  event: EventView;
  /** The attached picture's extension (or the awaited one's, "jpg"). */
  pictureExt?: string;
}

/** Template problems the schema cannot see: unknown placeholders, `..` segments. Empty when fine. */
export function templateProblems(config: Pick<Config, "directory" | "fileName" | "timeZone">): string[] {
  const known = new Set<string>([...PLACEHOLDERS, ...DATE_PLACEHOLDERS]);
  const problems: string[] = [];
  for (const [key, template] of [
    ["directory", config.directory],
    ["fileName", config.fileName],
  ] as const) {
    for (const [, name] of template.matchAll(/\{(\w*)\}/g))
      if (!known.has(name ?? "")) problems.push(`${key}: unknown placeholder {${name}}`);
    if (template.split("/").some((s) => s === "." || s === ".."))
      problems.push(`${key}: '.' and '..' are not allowed as folder names`);
  }
  if (!isTimeZone(config.timeZone)) problems.push(`timeZone: '${config.timeZone}' is not a known time zone`);
  return problems;
}

/**
 * Text as one file or folder name: US-ASCII (accents dropped), anything but letters, digits, `.`, `_`
 * and `-` becomes `-`, no leading dots (no hidden files, no `..`), at most 64 characters, never empty.
 */
export function safeName(text: string): string {
  const name = toAscii(text)
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[.-]+/, "")
    .slice(0, 64);
  return name === "" ? "_" : name;
}

/** Wall-clock parts of an instant in a zone: yyyy, mm, dd, hh, min, ss and milliseconds. */
function wallParts(iso: string, timeZone: string): Record<(typeof DATE_PLACEHOLDERS)[number] | "ms", string> {
  const utcMs = Date.parse(iso);
  const local = new Date(utcMs + zoneOffsetMs(utcMs, timeZone)).toISOString();
  return {
    yyyy: local.slice(0, 4),
    mm: local.slice(5, 7),
    dd: local.slice(8, 10),
    hh: local.slice(11, 13),
    min: local.slice(14, 16),
    ss: local.slice(17, 19),
    ms: local.slice(20, 23),
  };
}

/**
 * Fill a folder or file name template: every value made a safe name (so a plate or a camera id can never
 * add a folder or climb out of one), `{time}` in the compact yyyymmddhhmmssSSS form, date parts in the zone.
 */
export function fillName(template: string, event: EventView, timeZone: string): string {
  const d = wallParts(event.receivedAt, timeZone);
  const values: Record<string, string> = {};
  for (const p of PLACEHOLDERS) values[p] = safeName(fill(`{${p}}`, event));
  Object.assign(values, d, { time: `${d.yyyy}${d.mm}${d.dd}${d.hh}${d.min}${d.ss}${d.ms}` });
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(values, name) ? (values[name] as string) : whole,
  );
}

/** The folder path: the filled template without empty segments, absolute if the template is. */
export function fillDirectory(template: string, event: EventView, timeZone: string): string {
  const segments = fillName(template, event, timeZone)
    .split("/")
    .map((s) => s.trim())
    .filter((s) => s !== "" && s !== "." && s !== "..");
  return (template.startsWith("/") ? "/" : "") + segments.join("/");
}

/** A picture's file name: `{time}_{lane}_{plate}.<ext>` in UTC (the e-mail attachment uses it too). */
export function pictureFileName(event: EventView, ext: string): string {
  return `${fillName("{time}_{lane}_{plate}", event, "UTC")}.${safeName(ext)}`;
}

/** The fields both documents carry, flat and in this order. */
function documentFields(event: EventView, timeZone: string, picture: string | null): Record<string, unknown> {
  return {
    id: event.id,
    plate: event.plate,
    plateRaw: event.plateRaw,
    decision: event.decision,
    reason: event.reason,
    list: event.listName,
    listId: event.listId,
    listKind: event.listKind,
    lane: event.laneId,
    camera: event.cameraId,
    protocol: event.protocol,
    direction: event.direction,
    confidence: event.confidence,
    time: event.receivedAt,
    localTime: isoWithOffset(Date.parse(event.receivedAt), timeZone),
    cameraTime: event.cameraTime,
    relayAt: event.relayAt,
    latencyMs: event.latencyMs,
    picture,
  };
}

/** The event as JSON: `format`, `version`, the flat fields, then `extras` and `explanation` as objects. */
export function eventJson(event: EventView, timeZone: string, picture: string | null): string {
  return `${JSON.stringify(
    {
      format: "portcullis-event",
      version: DOCUMENT_VERSION,
      ...documentFields(event, timeZone, picture),
      extras: event.extras,
      explanation: event.explanation,
    },
    null,
    2,
  )}\n`;
}

const xmlBuilder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  format: true,
  indentBy: "  ",
  suppressEmptyNode: true,
});

/** Control characters (XML 1.0 cannot carry most of them, escaped or not) and U+FFFE/FFFF: dropped. */
function xmlSafe(value: unknown): string {
  return String(value).replace(/(?![\t\n\r])\p{Cc}|[\ufffe\uffff]/gu, "");
}

/**
 * The event as XML: `<event format="portcullis-event" version="1">` with one element per field (empty when
 * the field is null), and `<extras>` with one `<extra name="…">` per scalar vendor field. The explanation tree
 * is in the JSON document and the API only.
 */
export function eventXml(event: EventView, timeZone: string, picture: string | null): string {
  const body: Record<string, unknown> = {
    "@_format": "portcullis-event",
    "@_version": String(DOCUMENT_VERSION),
  };
  for (const [key, value] of Object.entries(documentFields(event, timeZone, picture)))
    body[key] = value === null || value === undefined ? "" : xmlSafe(value);
  body.extras = {
    extra: Object.entries(event.extras)
      .filter(([, v]) => v !== null && typeof v !== "object")
      .map(([name, v]) => ({ "@_name": xmlSafe(name), "#text": xmlSafe(v) })),
  };
  return `<?xml version="1.0" encoding="utf-8"?>\n${xmlBuilder.build({ event: body })}`;
}

export function network(config: Config): NetworkAction {
  const problems = templateProblems(config);
  if (problems.length) throw new Error(`ftp-upload: ${problems.join("; ")}`);
  return {
    compose: (ctx) => compose(config, ctx),
    sender: () => new FtpSender(config),
  };
}

function compose(config: Config, ctx: NetworkContext): MessageDraft {
  const { event } = ctx;
  const payload: Payload = {
    directory: fillDirectory(config.directory, event, config.timeZone),
    name: fillName(config.fileName, event, config.timeZone),
    files: FILE_KINDS.filter((k) => config.files.includes(k)),
    event,
  };
  if (!payload.files.includes("jpg")) return { payload };
  const wanted: ImageKind = config.picture;
  const image = ctx.images.find((i) => i.kind === wanted) ?? ctx.images[0];
  if (image) return { payload: { ...payload, pictureExt: image.ext }, attachment: image.data };
  // The picture is still on its way: the message waits for it briefly (it goes without one otherwise).
  if (ctx.laterPictures) return { payload: { ...payload, pictureExt: "jpg" }, awaitPicture: wanted };
  return { payload };
}

/** The files of one message, in upload order: name → bytes. */
export function messageFiles(
  payload: Payload,
  attachment: Buffer | null,
  timeZone: string,
): Array<[name: string, data: Buffer]> {
  const picture =
    payload.files.includes("jpg") && attachment && attachment.length > 0
      ? `${payload.name}.${safeName(payload.pictureExt ?? "jpg")}`
      : null;
  const files: Array<[string, Buffer]> = [];
  for (const kind of payload.files) {
    if (kind === "jpg" && picture && attachment) files.push([picture, attachment]);
    if (kind === "json")
      files.push([`${payload.name}.json`, Buffer.from(eventJson(payload.event, timeZone, picture))]);
    if (kind === "xml")
      files.push([`${payload.name}.xml`, Buffer.from(eventXml(payload.event, timeZone, picture))]);
  }
  return files;
}

class FtpSender implements Sender {
  private readonly where: string;

  constructor(private readonly config: Config) {
    this.where = `FTP${config.secure ? "S" : ""} ${config.host}:${config.port}`;
  }

  async send(message: OutboxRow, signal: AbortSignal): Promise<void> {
    const payload = JSON.parse(message.payload) as Payload;
    const files = messageFiles(payload, message.attachment, this.config.timeZone);
    if (files.length === 0) return; // only a picture was wanted and the read never had one
    if (signal.aborted) throw new DeliveryError(`${this.where} connect: aborted`);
    const client = new Client(this.config.timeoutMs);
    const abort = (): void => client.close();
    signal.addEventListener("abort", abort, { once: true });
    let step = "connect";
    try {
      await client.access({
        host: this.config.host,
        port: this.config.port,
        user: this.config.username,
        password: this.config.password,
        secure: this.config.secure,
        secureOptions: {
          rejectUnauthorized: this.config.verifyTls,
          ...(isIP(this.config.host) ? {} : { servername: this.config.host }),
        },
      });
      if (payload.directory) {
        step = `make folder ${payload.directory}`;
        await client.ensureDir(payload.directory);
      }
      for (const [name, data] of files) {
        step = `store ${name}`;
        await this.store(client, name, data);
      }
    } catch (err) {
      if (signal.aborted) throw new DeliveryError(`${this.where} ${step}: aborted`);
      throw ftpFailure(err, this.where, step, this.config.password);
    } finally {
      signal.removeEventListener("abort", abort);
      client.close();
    }
  }

  private async store(client: Client, name: string, data: Buffer): Promise<void> {
    if (!this.config.atomic) {
      await client.uploadFrom(Readable.from([data]), name);
      return;
    }
    const part = `${name}.part`;
    await client.uploadFrom(Readable.from([data]), part);
    try {
      await client.rename(part, name);
    } catch (err) {
      // Servers that will not rename onto an existing file (an earlier attempt stored it): replace it.
      if (!(err instanceof FTPError) || err.code < 500) throw err;
      await client.remove(name, true);
      await client.rename(part, name);
    }
  }
}

/**
 * How a failed step answers a delivery: 553 (file name not allowed) and 501 (bad parameter) refuse this
 * message for good; anything else (network, TLS, 530 login, 550 permission, 552 disk full, 4xx) is retried.
 * The text names the server and the step; the password is masked should a server echo it.
 */
export function ftpFailure(err: unknown, where: string, step: string, password: string): DeliveryError {
  const code = err instanceof FTPError ? err.code : null;
  const e = err as NodeJS.ErrnoException;
  const message = e?.message || String(err);
  let text = code === null && e?.code && !message.includes(e.code) ? `${e.code}: ${message}` : message;
  if (password.length >= 3) text = text.replaceAll(password, "***");
  text = text.replace(/\s+/g, " ").trim().slice(0, 300);
  return new DeliveryError(`${where} ${step}: ${text}`, code === 553 || code === 501);
}
