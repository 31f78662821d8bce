/**
 * HTTP Digest access authentication, client side (RFC 7616, which keeps RFC 2617's MD5): parse a
 * `WWW-Authenticate` challenge and answer it with an `Authorization` header. Cameras (Hikvision ISAPI among
 * them) use MD5 with qop=auth; SHA-256 and the -sess variants cost nothing more. A `DigestSession` keeps the
 * last challenge so a reconnect can reuse its nonce with the next nonce count instead of a 401 round trip.
 */
import { createHash, randomBytes } from "node:crypto";

export type DigestAlgorithm = "MD5" | "MD5-sess" | "SHA-256" | "SHA-256-sess";

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque: string | null;
  algorithm: DigestAlgorithm;
  /** "auth" when the server offers it; null for an RFC 2069 server that names no qop. */
  qop: "auth" | null;
  /** The server says the nonce expired, not that the credentials are wrong. */
  stale: boolean;
}

const ALGORITHMS: Record<string, DigestAlgorithm> = {
  MD5: "MD5",
  "MD5-SESS": "MD5-sess",
  "SHA-256": "SHA-256",
  "SHA-256-SESS": "SHA-256-sess",
};

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
const QUOTED = /"((?:[^"\\]|\\.)*)"/y;
const SPACE = /[\s,]*/y;

function readAt(re: RegExp, text: string, at: number): RegExpExecArray | null {
  re.lastIndex = at;
  return re.exec(text);
}

/**
 * The challenges in a `WWW-Authenticate` value (several may share one header, as `Basic …, Digest …`):
 * scheme (lower case) → its parameters (names lower case, quoted strings unescaped).
 */
export function parseAuthenticate(header: string): Map<string, Map<string, string>> {
  const challenges = new Map<string, Map<string, string>>();
  let params: Map<string, string> | null = null;
  let at = 0;
  while (at < header.length) {
    at += readAt(SPACE, header, at)?.[0].length ?? 0;
    const token = readAt(TOKEN, header, at);
    if (!token) break; // not a header we can read further: keep what was read
    at += token[0].length;
    const eq = /\s*=\s*/y;
    const sign = readAt(eq, header, at);
    // A token68 (Basic's credentials) or a value: a token followed by '=' is a parameter.
    if (sign && params) {
      at += sign[0].length;
      const quoted = readAt(QUOTED, header, at);
      const plain = quoted ? null : readAt(/[^\s,]*/y, header, at);
      const value = quoted ? (quoted[1] ?? "").replace(/\\(.)/g, "$1") : (plain?.[0] ?? "");
      at += (quoted ?? plain)?.[0].length ?? 0;
      params.set(token[0].toLowerCase(), value);
    } else if (sign) {
      at += sign[0].length; // a parameter before any scheme: skip its value
      at += (readAt(QUOTED, header, at) ?? readAt(/[^\s,]*/y, header, at))?.[0].length ?? 0;
    } else {
      params = new Map();
      challenges.set(token[0].toLowerCase(), params);
    }
  }
  return challenges;
}

/**
 * The Digest challenge of a `WWW-Authenticate` value. Returns a problem text instead when there is none or
 * it asks for something this client does not do (an unknown algorithm, qop=auth-int only).
 */
export function digestChallenge(header: string | undefined): DigestChallenge | string {
  const challenges = parseAuthenticate(header ?? "");
  const digest = challenges.get("digest");
  if (!digest) {
    const offered = [...challenges.keys()].join(", ") || "nothing";
    return `the camera offers no Digest authentication (WWW-Authenticate: ${offered})`;
  }
  const realm = digest.get("realm");
  const nonce = digest.get("nonce");
  if (realm === undefined || !nonce) return "the Digest challenge has no realm or nonce";
  const algorithmName = digest.get("algorithm") ?? "MD5";
  const algorithm = ALGORITHMS[algorithmName.toUpperCase()];
  if (!algorithm)
    return `the Digest challenge asks for algorithm ${algorithmName.slice(0, 32)}, not supported`;
  const qops = digest
    .get("qop")
    ?.split(",")
    .map((q) => q.trim().toLowerCase());
  if (qops && !qops.includes("auth"))
    return `the Digest challenge offers qop ${qops.join(",").slice(0, 32)}, not auth`;
  return {
    realm,
    nonce,
    opaque: digest.get("opaque") ?? null,
    algorithm,
    qop: qops ? "auth" : null,
    stale: digest.get("stale")?.toLowerCase() === "true",
  };
}

function hash(algorithm: DigestAlgorithm, text: string): string {
  return createHash(algorithm.startsWith("SHA-256") ? "sha256" : "md5")
    .update(text, "utf8")
    .digest("hex");
}

/** The `response` value of RFC 7616 §3.4.1 (qop=auth, or none as in RFC 2069). */
export function digestResponse(p: {
  algorithm: DigestAlgorithm;
  username: string;
  password: string;
  realm: string;
  nonce: string;
  cnonce: string;
  nc: string;
  qop: "auth" | null;
  method: string;
  uri: string;
}): string {
  const h = (text: string): string => hash(p.algorithm, text);
  let ha1 = h(`${p.username}:${p.realm}:${p.password}`);
  if (p.algorithm.endsWith("-sess")) ha1 = h(`${ha1}:${p.nonce}:${p.cnonce}`);
  const ha2 = h(`${p.method}:${p.uri}`);
  return p.qop ? h(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`) : h(`${ha1}:${p.nonce}:${ha2}`);
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, "\\$&")}"`;
}

/** One client's credentials and the challenge it last received; each header uses the next nonce count. */
export class DigestSession {
  private challenge: DigestChallenge | null = null;
  private nc = 0;

  constructor(
    private readonly username: string,
    private readonly password: string,
  ) {}

  /** Take a new challenge (from a 401); the nonce count starts again. */
  adopt(challenge: DigestChallenge): void {
    this.challenge = challenge;
    this.nc = 0;
  }

  /** The `Authorization` value for the next request, or null before any challenge was received. */
  authorization(method: string, uri: string): string | null {
    const c = this.challenge;
    if (!c) return null;
    this.nc += 1;
    const nc = this.nc.toString(16).padStart(8, "0");
    const cnonce = randomBytes(16).toString("hex");
    const response = digestResponse({
      ...c,
      username: this.username,
      password: this.password,
      cnonce,
      nc,
      method,
      uri,
    });
    const fields = [
      `username=${quote(this.username)}`,
      `realm=${quote(c.realm)}`,
      `nonce=${quote(c.nonce)}`,
      `uri=${quote(uri)}`,
      `algorithm=${c.algorithm}`,
      `response=${quote(response)}`,
    ];
    if (c.qop) fields.push(`qop=${c.qop}`, `nc=${nc}`, `cnonce=${quote(cnonce)}`);
    if (c.opaque !== null) fields.push(`opaque=${quote(c.opaque)}`);
    return `Digest ${fields.join(", ")}`;
  }
}
