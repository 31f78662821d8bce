/**
 * `email`: each decision as an e-mail through an SMTP server (the VIVOTEK camera's "EMAIL" list action,
 * specs/003 §4.4, done by the controller): subject and text from templates, the read's picture attached.
 * Built with nodemailer's MailComposer and sent with its SMTPConnection, one connection per message, so an
 * attempt can be cut off when the outbox aborts it.
 *
 * Transport security: `secure` is TLS from the first byte (SMTPS, port 465); otherwise STARTTLS is required
 * (`requireTls`, default) and a server that does not offer it is treated as down — the credentials and the
 * plate are never sent in clear text unless the site file says `requireTls: false` (then STARTTLS is still
 * used when the server offers it). `verifyTls` checks the server's certificate (default on).
 *
 * "Delivered" = the server answered 250 to the message's data: it took responsibility for it. A 5xx refusal
 * of this message — a recipient or the content refused (all recipients refused, 552 too big, 554 rejected) —
 * marks it failed and the queue goes on; a recipient refused while others were accepted is logged and the
 * message counts as delivered (sending again would repeat it to the others). 4xx, network and TLS errors and
 * refused credentials (535 and the other authentication replies) keep the messages waiting, in order.
 * Every attempt of one message carries the same Message-ID, so a receiver can drop a repeat (an attempt cut
 * off after the server took the data is sent again: delivery is at-least-once).
 */
import { hostname } from "node:os";
import MailComposer from "nodemailer/lib/mail-composer";
import SMTPConnection from "nodemailer/lib/smtp-connection";
import { type Static, Type } from "typebox";
import type { ImageKind } from "../ingest/types.js";
import type { OutboxRow } from "../outbox/repo.js";
import { fill, placeholderHelp } from "../outbox/text.js";
import { DeliveryError, deliverySettings, type MessageDraft, type Sender } from "../outbox/types.js";
import type { Logger } from "../util/log.js";
import { pictureFileName } from "./ftp-upload.js";
import type { NetworkAction, NetworkContext } from "./types.js";

export const kind = "network";

/** An address as SMTP takes it in MAIL FROM / RCPT TO: local@domain, no display name, no spaces. */
const ADDRESS = '^[^\\s@<>()\\[\\],;:"]+@[^\\s@<>()\\[\\],;:"]+$';

export const DEFAULT_SUBJECT = "{plate}: {decision} on lane {lane}";
export const DEFAULT_TEXT =
  "Plate: {plate}\nDecision: {decision}\nReason: {reason}\nList: {list}\nLane: {lane}\nCamera: {camera}\nTime: {time}\nEvent: {event}\n";

/** SMTP replies about authentication: the installer fixes the credentials, the messages wait for it. */
const AUTH_REPLIES = new Set([454, 530, 534, 535, 538]);

export const schema = Type.Object(
  {
    type: Type.Literal("email"),
    host: Type.String({ minLength: 1, maxLength: 253, description: "the SMTP server (submission or relay)" }),
    port: Type.Integer({
      minimum: 1,
      maximum: 65_535,
      default: 587,
      description: "587: submission with STARTTLS; 465: with secure; 25: a relay",
    }),
    secure: Type.Boolean({
      default: false,
      description: "implicit TLS from the first byte (SMTPS, usually port 465)",
    }),
    requireTls: Type.Boolean({
      default: true,
      description:
        "without secure: send only after STARTTLS; false (only on a trusted network): STARTTLS when offered, clear text otherwise",
    }),
    verifyTls: Type.Boolean({ default: true, description: "check the server's certificate" }),
    username: Type.Optional(
      Type.String({ minLength: 1, maxLength: 256, description: "SMTP AUTH user (with password)" }),
    ),
    password: Type.Optional(Type.String({ maxLength: 256, description: "SMTP AUTH password; never logged" })),
    from: Type.String({ pattern: ADDRESS, maxLength: 254, description: "sender address (From, MAIL FROM)" }),
    to: Type.Array(Type.String({ pattern: ADDRESS, maxLength: 254 }), {
      minItems: 1,
      maxItems: 50,
      uniqueItems: true,
      description: "recipient addresses",
    }),
    subject: Type.String({
      minLength: 1,
      maxLength: 200,
      default: DEFAULT_SUBJECT,
      description: `subject template (one line); ${placeholderHelp}`,
    }),
    text: Type.String({
      minLength: 1,
      maxLength: 4000,
      default: DEFAULT_TEXT,
      description: `plain-text body template; ${placeholderHelp}`,
    }),
    attachPicture: Type.Union([Type.Literal("none"), Type.Literal("plate"), Type.Literal("full")], {
      default: "full",
      description: "attach the full picture or the plate crop (the other when the read has only that)",
    }),
    ...deliverySettings,
  },
  { additionalProperties: false, description: "e-mail each decision through an SMTP server" },
);

export type Config = Static<typeof schema>;

/** The stored message: the text as filled at decision time; the picture is the message's attachment. */
interface Payload {
  subject: string;
  text: string;
  /** The event's time (the Date header). */
  date: string;
  eventId: number;
  /** The picture's file name (attached, or awaited). */
  picture?: string;
}

export function network(config: Config): NetworkAction {
  if ((config.username === undefined) !== (config.password === undefined))
    throw new Error("email: username and password go together");
  return {
    compose: (ctx) => compose(config, ctx),
    sender: (log) => new EmailSender(config, log),
  };
}

/** The subject as one header line: line breaks and other control characters become spaces. */
export function subjectLine(text: string): string {
  return text
    .replace(/\p{Cc}+/gu, " ")
    .trim()
    .slice(0, 250);
}

function compose(config: Config, ctx: NetworkContext): MessageDraft {
  const { event } = ctx;
  const payload: Payload = {
    subject: subjectLine(fill(config.subject, event)),
    text: fill(config.text, event),
    date: event.receivedAt,
    eventId: event.id,
  };
  if (config.attachPicture === "none") return { payload };
  const wanted: ImageKind = config.attachPicture;
  const image = ctx.images.find((i) => i.kind === wanted) ?? ctx.images[0];
  if (image)
    return { payload: { ...payload, picture: pictureFileName(event, image.ext) }, attachment: image.data };
  // The picture is still on its way: the message waits for it briefly (it goes without one otherwise).
  if (ctx.laterPictures)
    return { payload: { ...payload, picture: pictureFileName(event, "jpg") }, awaitPicture: wanted };
  return { payload };
}

/** The message as it goes over the wire (RFC 5322), for one stored outbox row. */
export function buildMessage(config: Config, message: OutboxRow): Promise<Buffer> {
  const payload = JSON.parse(message.payload) as Payload;
  const domain = config.from.slice(config.from.lastIndexOf("@") + 1);
  const picture = message.attachment && message.attachment.length > 0 ? message.attachment : null;
  return new MailComposer({
    from: config.from,
    to: config.to,
    subject: payload.subject,
    text: payload.text,
    date: new Date(payload.date),
    // The same on every attempt of this message: a receiver can drop a repeat.
    messageId: `<portcullis.${payload.eventId}.${message.id}.${message.createdAt}@${domain}>`,
    headers: { "Auto-Submitted": "auto-generated" },
    attachments:
      picture && payload.picture
        ? [
            {
              filename: payload.picture,
              content: picture,
              contentType: payload.picture.endsWith(".png") ? "image/png" : "image/jpeg",
            },
          ]
        : [],
  })
    .compile()
    .build();
}

export type SmtpError = Error & {
  code?: string;
  command?: string;
  originalCode?: string;
  response?: string;
  responseCode?: number;
  permanent?: boolean;
  rejected?: string[];
};

class EmailSender implements Sender {
  private readonly where: string;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    this.where = `SMTP ${config.host}:${config.port}`;
  }

  async send(message: OutboxRow, signal: AbortSignal): Promise<void> {
    const raw = await buildMessage(this.config, message);
    const { config } = this;
    const connection = new SMTPConnection({
      host: config.host,
      port: config.port,
      secure: config.secure,
      requireTLS: !config.secure && config.requireTls,
      tls: { rejectUnauthorized: config.verifyTls, minVersion: "TLSv1.2" },
      name: hostname(),
      connectionTimeout: config.timeoutMs,
      greetingTimeout: config.timeoutMs,
      socketTimeout: config.timeoutMs,
      logger: false,
    });
    let step = "connect";
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err: unknown): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        if (err) {
          connection.close();
          reject(
            err instanceof DeliveryError ? err : smtpFailure(err as SmtpError, this.where, step, config),
          );
        } else {
          connection.quit();
          resolve();
        }
      };
      const onAbort = (): void => finish(new DeliveryError(`${this.where} ${step}: aborted`));
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      connection.on("error", finish);
      connection.once("end", () => finish(new DeliveryError(`${this.where} ${step}: connection closed`)));
      const deliver = (): void => {
        step = "send";
        connection.send({ from: config.from, to: config.to }, raw, (err, info) => {
          if (err) return finish(err);
          if (info.rejected.length)
            this.log.warn(
              { id: message.id, rejected: info.rejected, accepted: info.accepted.length },
              "e-mail delivered; some recipients refused it",
            );
          finish(null);
        });
      };
      connection.connect((err) => {
        if (err) return finish(err);
        if (config.username === undefined) return deliver();
        step = "login";
        connection.login({ user: config.username, pass: config.password ?? "" }, (loginErr) =>
          loginErr ? finish(loginErr) : deliver(),
        );
      });
    });
  }
}

/**
 * How a failed SMTP step answers a delivery, as a DeliveryError naming the server and the step, with the
 * server's reply (or the socket's or TLS's words) and no secrets. Permanent only for a 5xx refusal of this
 * message while sending it (recipients, size, content); refused credentials (EAUTH, 454/530/534/535/538)
 * and everything else keep the messages waiting.
 */
export function smtpFailure(
  err: SmtpError,
  where: string,
  step: string,
  credentials: { username?: string | undefined; password?: string | undefined },
): DeliveryError {
  // The server's reply when there is one (it already ends the message), else the socket's or TLS's words.
  let text = err.response ?? (err.message || String(err));
  const { username = "", password } = credentials;
  if (password && password.length >= 3)
    // Longest first: the AUTH PLAIN token contains neither of the others as text.
    for (const secret of [
      Buffer.from(`\u0000${username}\u0000${password}`).toString("base64"),
      Buffer.from(password).toString("base64"),
      password,
    ])
      text = text.replaceAll(secret, "***");
  text = text.replace(/\s+/g, " ").trim().slice(0, 300);
  const code = err.responseCode;
  const authProblem =
    err.code === "EAUTH" || err.code === "ENOAUTH" || (code !== undefined && AUTH_REPLIES.has(code));
  const permanent = !authProblem && err.permanent === true && step === "send";
  // STARTTLS refused or failed: say so, since without it nothing is sent (requireTls).
  const stage = err.command === "STARTTLS" ? "STARTTLS" : step;
  return new DeliveryError(`${where} ${stage}: ${text}`, permanent);
}
