/**
 * A self-signed certificate for loopback TLS peers (SMTP STARTTLS, FTPS), made at test time with the
 * machine's `openssl`: CN localhost, subjectAltName localhost and 127.0.0.1, valid for a day. Made once per
 * process and kept.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCert {
  key: string;
  cert: string;
}

let made: TestCert | null = null;

export function testCert(): TestCert {
  if (made) return made;
  const dir = mkdtempSync(join(tmpdir(), "portcullis-cert-"));
  try {
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    made = { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") };
    return made;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
