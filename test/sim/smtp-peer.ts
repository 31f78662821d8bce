/**
 * A real SMTP server on loopback (the `smtp-server` package) for the e-mail action: STARTTLS (or implicit
 * TLS) with a self-signed certificate made at test time, AUTH PLAIN/LOGIN checked against one user, and every
 * accepted message kept as raw bytes with its envelope. It can go down and come back on the same port, refuse
 * recipients (550) and refuse a message's content (554).
 */
import type { Socket } from "node:net";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { testCert } from "./tls-cert.js";

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: Buffer;
  /** The session was encrypted (STARTTLS or implicit TLS) when the message was sent. */
  secure: boolean;
  /** The authenticated user, if any. */
  user: string | undefined;
}

export interface SmtpPeerOptions {
  user?: string;
  password?: string;
  /** Implicit TLS (SMTPS). */
  secure?: boolean;
  /** Offer no STARTTLS (a server that only speaks clear text). */
  noTls?: boolean;
  authMethods?: string[];
}

export class SmtpPeer {
  port = 0;
  readonly received: ReceivedMail[] = [];
  /** AUTH attempts refused. */
  authFailures = 0;
  /** Recipients refused with 550. */
  refuseRecipient: (address: string) => boolean = () => false;
  /** Messages refused at the end of DATA with 554 (after the bytes were read). */
  refuseMessage: (raw: Buffer) => boolean = () => false;
  private server: SMTPServer | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly opts: SmtpPeerOptions = {}) {}

  async up(): Promise<this> {
    const { user, password } = this.opts;
    const options: SMTPServerOptions = {
      logger: false,
      secure: this.opts.secure ?? false,
      ...(this.opts.noTls ? { hideSTARTTLS: true, allowInsecureAuth: true } : testCert()),
      authMethods: this.opts.authMethods ?? ["PLAIN", "LOGIN"],
      authOptional: user === undefined,
      // hideSTARTTLS only leaves it out of EHLO; a server without TLS also refuses the command.
      disabledCommands: [...(user === undefined ? ["AUTH"] : []), ...(this.opts.noTls ? ["STARTTLS"] : [])],
      closeTimeout: 50,
      onAuth: (auth, _session, cb) => {
        if (auth.username === user && auth.password === password) return cb(null, { user: auth.username });
        this.authFailures++;
        const err = Object.assign(new Error("Authentication credentials invalid"), { responseCode: 535 });
        cb(err);
      },
      onRcptTo: (address, _session, cb) => {
        if (!this.refuseRecipient(address.address)) return cb();
        cb(Object.assign(new Error(`<${address.address}>: mailbox unavailable`), { responseCode: 550 }));
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          const raw = Buffer.concat(chunks);
          if (this.refuseMessage(raw))
            return cb(Object.assign(new Error("message content rejected"), { responseCode: 554 }));
          const from = session.envelope.mailFrom;
          this.received.push({
            from: from ? from.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            secure: session.secure,
            user: typeof session.user === "string" ? session.user : undefined,
          });
          cb();
        });
      },
    };
    const server = new SMTPServer(options);
    server.server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.once("close", () => this.sockets.delete(s));
    });
    server.on("error", () => {
      // A client that drops its connection mid-session is not the peer's problem.
    });
    await new Promise<void>((resolve, reject) => {
      server.server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.server.address() as { port: number }).port;
    this.server = server;
    return this;
  }

  /** Stop listening and cut every open connection (a server that is down refuses connections). */
  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
