/**
 * A real FTP server on loopback (the `ftp-srv` package) for the ftp-upload action: a temp root directory,
 * one user, passive mode on 127.0.0.1, plain FTP, explicit FTPS (AUTH TLS) or implicit FTPS with a
 * self-signed certificate made at test time. It can go down and come back on the same port (ftp-srv servers
 * cannot listen again once closed, so each `up()` makes a new one on the port the first got).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FtpSrv } from "ftp-srv";
import { freePort } from "./free-port.js";
import { testCert } from "./tls-cert.js";

export interface FtpPeerOptions {
  user: string;
  password: string;
  secure?: false | true | "implicit";
}

/** ftp-srv logs through bunyan; the tests want silence. */
const quiet = {
  child: () => quiet,
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  fatal: () => {},
};

const SIGNALS = ["SIGTERM", "SIGINT", "SIGQUIT"] as const;

export class FtpPeer {
  port = 0;
  readonly root = mkdtempSync(join(tmpdir(), "portcullis-ftp-"));
  /** Logins refused. */
  loginFailures = 0;
  /** Files stored under their final names, in order (RNTO target, or STOR name when not renamed). */
  readonly stored: string[] = [];
  /** For each login: whether the control connection was encrypted at that point. */
  readonly secureLogins: boolean[] = [];
  private server: FtpSrv | null = null;

  constructor(private readonly opts: FtpPeerOptions) {}

  async up(): Promise<this> {
    if (!this.port) this.port = await freePort();
    const secure = this.opts.secure ?? false;
    const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
    const server = new FtpSrv({
      url: `${secure === "implicit" ? "ftps" : "ftp"}://127.0.0.1:${this.port}`,
      pasv_url: "127.0.0.1",
      pasv_min: 20000,
      pasv_max: 40000,
      anonymous: false,
      tls: secure ? testCert() : false,
      greeting: "portcullis test FTP server",
      log: quiet,
    });
    // ftp-srv exits the process on these signals; a test server must not.
    for (const s of SIGNALS)
      for (const l of process.listeners(s)) if (!before.get(s)?.has(l)) process.removeListener(s, l);
    server.on("login", ({ connection, username, password }, resolve, reject) => {
      if (username !== this.opts.user || password !== this.opts.password) {
        this.loginFailures++;
        return reject(new Error("Login incorrect"));
      }
      this.secureLogins.push(connection.secure);
      connection.on("RNTO", (err: Error | null, to: string) => {
        if (!err) this.stored.push(to);
      });
      connection.on("STOR", (err: Error | null, name: string) => {
        if (!err && !name.endsWith(".part")) this.stored.push(name);
      });
      resolve({ root: this.root });
    });
    server.on("client-error", () => {});
    await server.listen();
    this.server = server;
    return this;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await server.close();
  }

  /** Remove the root directory (after down). */
  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
