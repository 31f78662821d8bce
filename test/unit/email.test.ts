/**
 * email without a server: the schema (defaults, what it refuses), what compose stores (templates, the one-line
 * subject, which picture), the message as built (parsed back with mailparser), and which SMTP failures are
 * permanent.
 */
import { simpleParser } from "mailparser";
import { Compile } from "typebox/compile";
import { describe, expect, it } from "vitest";
import {
  buildMessage,
  type Config,
  network,
  type SmtpError,
  schema,
  smtpFailure,
  subjectLine,
} from "../../firmware/actions/email.js";
import type { EventView } from "../../firmware/events.js";
import type { OutboxRow } from "../../firmware/outbox/repo.js";
import { TINY_JPEG } from "../sim/hikvision-isapi.js";

const check = Compile(schema);
const base = { type: "email", host: "mail.example.test", from: "gate@example.test", to: ["a@example.test"] };
const config = (over: Record<string, unknown> = {}): Config => check.Default({ ...base, ...over }) as Config;

function event(over: Partial<EventView> = {}): EventView {
  return {
    id: 42,
    plate: "AB123CD",
    plateRaw: "AB-123-CD",
    cameraId: "cam1",
    laneId: "1",
    protocol: "milesight-http",
    decision: "deny",
    reason: "on list Block",
    listId: 2,
    listName: "Block",
    listKind: "block",
    entryId: 7,
    explanation: null,
    confidence: 94,
    direction: "in",
    cameraTimeRaw: null,
    cameraTime: null,
    receivedAt: "2025-03-01T07:15:02.120Z",
    relayAt: null,
    latencyMs: 1,
    extras: {},
    ...over,
  };
}

function compose(c: Config, ctx: Partial<Parameters<ReturnType<typeof network>["compose"]>[0]> = {}) {
  const draft = network(c).compose({ event: event(), images: [], laterPictures: false, ...ctx });
  if (!draft) throw new Error("no message");
  return { ...draft, payload: JSON.parse(JSON.stringify(draft.payload)) };
}

const row = (draft: { payload: unknown; attachment?: Buffer | null }, id = 7): OutboxRow =>
  ({
    id,
    createdAt: 1_740_813_302_120,
    payload: JSON.stringify(draft.payload),
    attachment: draft.attachment ?? null,
  }) as OutboxRow;

describe("email schema", () => {
  it("defaults: port 587, STARTTLS required, certificates checked, the full picture attached", () => {
    const c = config();
    expect(check.Check(c)).toBe(true);
    expect(c).toMatchObject({
      port: 587,
      secure: false,
      requireTls: true,
      verifyTls: true,
      attachPicture: "full",
      subject: "{plate}: {decision} on lane {lane}",
    });
    expect(c.username).toBeUndefined();
  });

  it("refuses bad addresses, no recipients, unknown keys and pictures", () => {
    for (const bad of [
      { from: "gate" },
      { from: "Gate <gate@example.test>" },
      { to: [] },
      { to: ["a@example.test", "a@example.test"] },
      { to: ["x y@example.test"] },
      { attachPicture: "both" },
      { tls: true },
      { port: 70_000 },
    ])
      expect(check.Check(config(bad)), JSON.stringify(bad)).toBe(false);
  });

  it("a username needs a password and the other way round", () => {
    expect(() => network(config({ username: "gate" }))).toThrow(/username and password go together/);
    expect(() => network(config({ password: "x" }))).toThrow(/username and password go together/);
    expect(() => network(config({ username: "gate", password: "x" }))).not.toThrow();
  });
});

describe("email compose", () => {
  const plate = { kind: "plate" as const, ext: "jpg", data: TINY_JPEG };
  const full = { kind: "full" as const, ext: "png", data: Buffer.from("png!") };

  it("fills subject and text from the event; the subject is one line", () => {
    const c = config({
      subject: "{plate}\r\n{decision}\tlane {lane}",
      text: "{plateRaw} {reason} {list} {camera} {time} {unknown}",
    });
    expect(compose(c).payload).toEqual({
      subject: "AB123CD deny lane 1",
      text: "AB-123-CD on list Block Block cam1 2025-03-01T07:15:02.120Z {unknown}",
      date: "2025-03-01T07:15:02.120Z",
      eventId: 42,
    });
    expect(subjectLine("  a\n\nb\u0000c  ")).toBe("a b c");
  });

  it("the wanted picture, else any; held for a later one; none when none is wanted", () => {
    expect(compose(config(), { images: [plate, full] })).toMatchObject({
      attachment: full.data,
      payload: { picture: "20250301071502120_1_AB123CD.png" },
    });
    expect(compose(config({ attachPicture: "plate" }), { images: [plate, full] }).attachment).toBe(TINY_JPEG);
    expect(compose(config(), { images: [plate] }).attachment).toBe(TINY_JPEG);
    expect(compose(config(), { laterPictures: true })).toMatchObject({
      awaitPicture: "full",
      payload: { picture: "20250301071502120_1_AB123CD.jpg" },
    });
    const none = compose(config({ attachPicture: "none" }), { images: [plate], laterPictures: true });
    expect(none.attachment).toBeUndefined();
    expect(none.awaitPicture).toBeUndefined();
    expect(none.payload.picture).toBeUndefined();
  });
});

describe("email message", () => {
  it("From, To, Subject (UTF-8), Date of the event, a Message-ID stable across attempts, the picture", async () => {
    const c = config({ to: ["a@example.test", "b@example.test"] });
    const draft = compose(c, {
      event: event({ plate: "MÜPC1234" }),
      images: [{ kind: "full", ext: "jpg", data: TINY_JPEG }],
    });
    const raw = await buildMessage(c, row(draft));
    expect(raw.toString("latin1")).not.toMatch(/[^\p{ASCII}]/u); // 7-bit on the wire: encoded words, base64
    const mail = await simpleParser(raw);
    expect(mail.from?.text).toBe("gate@example.test");
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : "").toBe("a@example.test, b@example.test");
    expect(mail.subject).toBe("MÜPC1234: deny on lane 1");
    expect(mail.date?.toISOString()).toBe("2025-03-01T07:15:02.000Z");
    expect(mail.messageId).toBe("<portcullis.42.7.1740813302120@example.test>");
    expect(mail.headers.get("auto-submitted")).toBe("auto-generated");
    expect(mail.attachments.map((a) => [a.filename, a.contentType, a.content.equals(TINY_JPEG)])).toEqual([
      ["20250301071502120_1_MUPC1234.jpg", "image/jpeg", true],
    ]);
    expect((await simpleParser(await buildMessage(c, row(draft)))).messageId).toBe(mail.messageId);
    // Held for a picture that never came: the message goes without one.
    const held = compose(c, { laterPictures: true });
    expect((await simpleParser(await buildMessage(c, row(held)))).attachments).toEqual([]);
  });
});

describe("email failures", () => {
  const reply = (code: number, over: Partial<SmtpError> = {}): SmtpError =>
    Object.assign(new Error(`Message failed: ${code} no`), {
      response: `${code} no`,
      responseCode: code,
      permanent: code >= 500 && code !== 503,
      ...over,
    });
  const creds = { username: "gate", password: "s3cret-pw" };

  it("5xx while sending is permanent; 4xx, credentials, connecting and logging in are retried", () => {
    const cases: Array<[SmtpError, string, boolean]> = [
      [reply(550, { code: "EENVELOPE" }), "send", true],
      [reply(552, { code: "EMESSAGE" }), "send", true],
      [reply(554, { code: "EMESSAGE" }), "send", true],
      [reply(503, { code: "EPROTOCOL" }), "send", false],
      [reply(451, { code: "EENVELOPE" }), "send", false],
      [reply(530, { code: "EENVELOPE" }), "send", false], // authentication required: fix the credentials
      [reply(535, { code: "EAUTH" }), "login", false],
      [reply(554, { code: "EPROTOCOL" }), "connect", false], // a greeting refusal: the server, not this message
      [Object.assign(new Error("connect ECONNREFUSED 10.0.0.9:587"), { code: "ESOCKET" }), "connect", false],
    ];
    for (const [err, step, permanent] of cases)
      expect(smtpFailure(err, "SMTP h:587", step, creds).permanent, `${err.response} ${step}`).toBe(
        permanent,
      );
  });

  it("names the server, the step and the reply; never the password, plain or base64", () => {
    const plain = Buffer.from("\u0000gate\u0000s3cret-pw").toString("base64");
    const err = reply(535, {
      code: "EAUTH",
      response: `535 bad s3cret-pw ${plain} ${Buffer.from("s3cret-pw").toString("base64")}`,
    });
    expect(smtpFailure(err, "SMTP h:587", "login", creds).message).toBe(
      "SMTP h:587 login: 535 bad *** *** ***",
    );
    const tls = Object.assign(new Error("Error upgrading connection with STARTTLS: 500 no"), {
      code: "ETLS",
      command: "STARTTLS",
      response: "500 Error: command not recognized",
    });
    expect(smtpFailure(tls, "SMTP h:587", "connect", {}).message).toBe(
      "SMTP h:587 STARTTLS: 500 Error: command not recognized",
    );
  });
});
