/**
 * The admin bearer token. There is no default password: it is PORTCULLIS_ADMIN_TOKEN when set, else read
 * from `<data>/admin-token`, else generated at first start and written there with mode 0600.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

export const TOKEN_FILE = "admin-token";
const MIN_TOKEN_LENGTH = 16;

export interface AdminToken {
  token: string;
  source: "environment" | "file" | "generated";
  /** Where the token lives, for the start-up log line; never the token itself. */
  location: string;
}

export function loadAdminToken(dataDir: string, fromEnv: string | undefined): AdminToken {
  if (fromEnv !== undefined && fromEnv !== "") {
    if (fromEnv.length < MIN_TOKEN_LENGTH)
      throw new Error(`PORTCULLIS_ADMIN_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters`);
    return { token: fromEnv, source: "environment", location: "PORTCULLIS_ADMIN_TOKEN" };
  }
  const path = resolve(dataDir, TOKEN_FILE);
  if (existsSync(path)) {
    // Someone may have copied the file around: keep it private to the service user.
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    const token = readFileSync(path, "utf8").trim();
    if (token.length < MIN_TOKEN_LENGTH)
      throw new Error(`${path} holds a token shorter than ${MIN_TOKEN_LENGTH} characters`);
    return { token, source: "file", location: path };
  }
  const token = randomBytes(32).toString("base64url");
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: "wx" });
  return { token, source: "generated", location: path };
}

/** Constant-time check of a presented token. */
export function tokenChecker(expected: string): (presented: string | null | undefined) => boolean {
  const want = createHash("sha256").update(expected).digest();
  return (presented) => {
    if (!presented) return false;
    return timingSafeEqual(createHash("sha256").update(presented).digest(), want);
  };
}

/** The token from `Authorization: Bearer …`, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? (match[1] as string) : null;
}
