/**
 * The SOAP layer of the ONVIF link (protocols.md §7): request envelopes with WS-Addressing headers and a
 * WS-Security UsernameToken (PasswordDigest), one bounded HTTP POST, and the reply read by local name (camera
 * firmware binds namespaces to whatever prefixes it likes). Throws OnvifError and nothing else.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { XMLBuilder, XMLParser } from "fast-xml-parser";

export const NS = {
  soap: "http://www.w3.org/2003/05/soap-envelope",
  wsa: "http://www.w3.org/2005/08/addressing",
  wsse: "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
  wsu: "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
  tev: "http://www.onvif.org/ver10/events/wsdl",
  tds: "http://www.onvif.org/ver10/device/wsdl",
  wsnt: "http://docs.oasis-open.org/wsn/b-2",
  tt: "http://www.onvif.org/ver10/schema",
  tns1: "http://www.onvif.org/ver10/topics",
  tnsaxis: "http://www.axis.com/2009/event/topics",
  ter: "http://www.onvif.org/ver10/error",
} as const;

const PASSWORD_DIGEST =
  "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest";
const BASE64_BINARY =
  "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";
const ANONYMOUS = "http://www.w3.org/2005/08/addressing/anonymous";

/** A PullMessages reply with the message limit's worth of plates is a few tens of kilobytes. */
export const MAX_RESPONSE_BYTES = 512 * 1024;

export type OnvifErrorKind = "fault" | "http" | "timeout" | "network" | "malformed" | "aborted";

/** Why a SOAP call failed; `auth` is true for a fault that refuses the credentials (or their timestamp). */
export class OnvifError extends Error {
  override readonly name = "OnvifError";
  constructor(
    readonly kind: OnvifErrorKind,
    message: string,
    readonly auth = false,
  ) {
    super(message);
  }
}

export type XmlNode = Record<string, unknown>;

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  // Values stay text: a plate "0123" must not become 123.
  parseTagValue: false,
  parseAttributeValue: false,
  // No entity expansion: a hostile reply cannot grow in memory. The five XML escapes are decoded by xmlText.
  processEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (name) => ARRAYS.has(name),
});
const ARRAYS = new Set(["NotificationMessage", "SimpleItem", "ElementItem", "Service", "Subcode", "Text"]);

/** The same tree with prefixes and order kept: only for copying WS-Addressing reference parameters. */
const orderedParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
});
const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  suppressEmptyNode: true,
});
const orderedBuilder = new XMLBuilder({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  processEntities: false,
  suppressEmptyNode: true,
});

const ENTITY = /&(lt|gt|amp|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});/g;
const NAMED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

/** Decode the predefined XML escapes and character references (the parser leaves them as they are). */
export function decodeXml(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(ENTITY, (whole, name: string) => {
    if (name[0] !== "#") return NAMED[name] ?? whole;
    const code = name[1] === "x" ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)
      ? String.fromCodePoint(code)
      : whole;
  });
}

/** An element's or attribute's text, decoded; null when absent or not text. */
export function xmlText(value: unknown): string | null {
  if (typeof value === "string") return decodeXml(value.trim());
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const inner = (value as XmlNode)["#text"];
    if (typeof inner === "string") return decodeXml(inner.trim());
    return "";
  }
  return null;
}

export function xmlChild(node: unknown, key: string): XmlNode | null {
  if (typeof node !== "object" || node === null || Array.isArray(node)) return null;
  const value = (node as XmlNode)[key];
  if (Array.isArray(value)) return xmlChild({ [key]: value[0] }, key);
  if (value === "") return {};
  return typeof value === "object" && value !== null ? (value as XmlNode) : null;
}

export function xmlChildren(node: unknown, key: string): XmlNode[] {
  if (typeof node !== "object" || node === null) return [];
  const value = (node as XmlNode)[key];
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map((v) => (typeof v === "object" && v !== null ? (v as XmlNode) : {}));
}

/** Base64(SHA1(nonce bytes + created + password)), WS-Security UsernameToken Profile 1.0 §3.1. */
export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash("sha1")
    .update(Buffer.concat([nonce, Buffer.from(created, "utf8"), Buffer.from(password, "utf8")]))
    .digest("base64");
}

export interface Credentials {
  username: string;
  password: string;
}

/** `Created` carries whole seconds in UTC, as cameras compare it; `clockMs` is already offset to the camera. */
export function usernameToken(
  credentials: Credentials,
  clockMs: number,
  nonce: Buffer = randomBytes(16),
): XmlNode {
  const created = `${new Date(clockMs).toISOString().slice(0, 19)}Z`;
  return {
    "wsse:UsernameToken": {
      "wsse:Username": credentials.username,
      "wsse:Password": {
        "@_Type": PASSWORD_DIGEST,
        "#text": passwordDigest(nonce, created, credentials.password),
      },
      "wsse:Nonce": { "@_EncodingType": BASE64_BINARY, "#text": nonce.toString("base64") },
      "wsu:Created": created,
    },
  };
}

export interface EnvelopeOptions {
  action: string;
  /** The body's one element, in XMLBuilder form with prefixes from NS. */
  body: XmlNode;
  credentials?: Credentials;
  /** Camera clock, epoch ms, for the token's `Created`. */
  clockMs?: number;
  /** wsa:To: the endpoint address exactly as the camera gave it. */
  to?: string;
  /** Reference parameters of the endpoint, serialised by referenceParameters(); copied as headers. */
  referenceParameters?: string;
}

export function buildEnvelope(options: EnvelopeOptions): string {
  const header: XmlNode = {
    "wsa:Action": options.action,
    "wsa:MessageID": `urn:uuid:${randomUUID()}`,
    "wsa:ReplyTo": { "wsa:Address": ANONYMOUS },
  };
  if (options.to !== undefined) header["wsa:To"] = options.to;
  if (options.credentials)
    header["wsse:Security"] = {
      "@_s:mustUnderstand": "1",
      ...usernameToken(options.credentials, options.clockMs ?? Date.now()),
    };
  const xmlns = Object.fromEntries(
    Object.entries(NS).map(([prefix, uri]) => [`@_xmlns:${prefix === "soap" ? "s" : prefix}`, uri]),
  );
  const envelope = builder.build({
    "s:Envelope": { ...xmlns, "s:Header": header, "s:Body": options.body },
  }) as string;
  const withParams = options.referenceParameters
    ? envelope.replace("</s:Header>", `${options.referenceParameters}</s:Header>`)
    : envelope;
  return `<?xml version="1.0" encoding="UTF-8"?>${withParams}`;
}

type Ordered = Record<string, unknown>;

/**
 * The children of an endpoint reference's ReferenceParameters (Axis puts its SubscriptionId there), as
 * header XML marked wsa:IsReferenceParameter, each carrying the namespace declarations it needs from
 * anywhere in the reply. Empty when there are none.
 */
export function referenceParameters(replyXml: string): string {
  if (!/ReferenceParameters/.test(replyXml)) return "";
  let tree: Ordered[];
  try {
    tree = orderedParser.parse(replyXml) as Ordered[];
  } catch {
    return "";
  }
  const declared = new Map<string, string>();
  let params: Ordered[] | null = null;
  const walk = (nodes: Ordered[]): void => {
    for (const node of nodes) {
      const attrs = (node[":@"] ?? {}) as Record<string, string>;
      for (const [k, v] of Object.entries(attrs))
        if (k.startsWith("@_xmlns:") && !declared.has(k.slice(8))) declared.set(k.slice(8), v);
      const name = Object.keys(node).find((k) => k !== ":@");
      if (!name) continue;
      const children = node[name];
      if (!Array.isArray(children)) continue;
      if (params === null && name.replace(/^.*:/, "") === "ReferenceParameters")
        params = children as Ordered[];
      else walk(children as Ordered[]);
    }
  };
  walk(tree);
  const found = params as Ordered[] | null;
  if (!found) return "";
  const elements = found.filter((n) => Object.keys(n).some((k) => k !== ":@" && k !== "#text"));
  for (const element of elements) {
    const name = Object.keys(element).find((k) => k !== ":@") as string;
    const attrs = { ...((element[":@"] ?? {}) as Record<string, string>) };
    const prefix = name.includes(":") ? name.slice(0, name.indexOf(":")) : null;
    const uri = prefix ? declared.get(prefix) : undefined;
    if (prefix && uri && !attrs[`@_xmlns:${prefix}`]) attrs[`@_xmlns:${prefix}`] = uri;
    attrs["@_wsa:IsReferenceParameter"] = "true";
    element[":@"] = attrs;
  }
  return (orderedBuilder.build(elements) as string).slice(0, 4096);
}

export interface SoapReply {
  /** The Body's first element, by local name. */
  name: string;
  body: XmlNode;
  /** The whole reply, for reference parameters. */
  text: string;
  /** performance.now() when the reply's headers arrived. */
  receivedMono: number;
}

/** A SOAP 1.2 (or 1.1) Fault as one line: `Sender/ter:NotAuthorized: Sender not authorized`. */
function faultOf(fault: XmlNode): { message: string; auth: boolean } {
  const codes: string[] = [];
  let code = xmlChild(fault, "Code");
  if (code) {
    codes.push(xmlText(code.Value) ?? "");
    for (
      let sub = xmlChild(code, "Subcode"), depth = 0;
      sub && depth < 8;
      sub = xmlChild(sub, "Subcode"), depth++
    )
      codes.push(xmlText(sub.Value) ?? "");
  } else codes.push(xmlText(fault.faultcode) ?? "");
  code = xmlChild(fault, "Reason");
  const reason = (code ? xmlText(xmlChildren(code, "Text")[0]) : xmlText(fault.faultstring)) ?? "";
  const local = codes.map((c) => c.replace(/^.*:/, ""));
  const auth = local.some((c) =>
    [
      "NotAuthorized",
      "FailedAuthentication",
      "InvalidSecurity",
      "InvalidSecurityToken",
      "MessageExpired",
    ].includes(c),
  );
  const text = `${codes.filter(Boolean).join("/") || "unknown code"}${reason ? `: ${reason}` : ""}`;
  return { message: text.slice(0, 300), auth };
}

/** Parse a reply; a Fault becomes OnvifError("fault"), anything that is not a SOAP envelope "malformed". */
export function parseReply(text: string, status: number, receivedMono: number): SoapReply {
  if (Buffer.byteLength(text) > MAX_RESPONSE_BYTES)
    throw new OnvifError("malformed", `reply larger than ${MAX_RESPONSE_BYTES} bytes`);
  if (text.trim() === "")
    throw new OnvifError(
      status >= 300 ? "http" : "malformed",
      status >= 300 ? `HTTP ${status}` : "empty reply",
    );
  let doc: XmlNode;
  try {
    doc = parser.parse(text, true) as XmlNode;
  } catch (err) {
    const detail =
      status >= 400 ? `HTTP ${status}` : `malformed XML: ${String((err as Error).message).split("\n", 1)[0]}`;
    throw new OnvifError(status >= 400 ? "http" : "malformed", detail);
  }
  const body = xmlChild(xmlChild(doc, "Envelope"), "Body");
  if (!body)
    throw new OnvifError(
      status >= 400 ? "http" : "malformed",
      status >= 400 ? `HTTP ${status}` : "not a SOAP envelope",
    );
  const fault = xmlChild(body, "Fault");
  if (fault) {
    const { message, auth } = faultOf(fault);
    throw new OnvifError("fault", `SOAP fault ${message} (HTTP ${status})`, auth);
  }
  if (status >= 300) throw new OnvifError("http", `HTTP ${status}`);
  const name = Object.keys(body).find((k) => !k.startsWith("@_") && k !== "#text");
  if (!name) throw new OnvifError("malformed", "empty SOAP body");
  return { name, body: xmlChild(body, name) ?? {}, text, receivedMono };
}

export interface PostOptions {
  timeoutMs: number;
  signal: AbortSignal;
  verifyTls: boolean;
  action: string;
}

/**
 * POST an envelope and read the reply, bounded in size and time. A fresh connection each time (no
 * keep-alive): cameras are inconsistent about idle connections, and a long poll holds one anyway.
 */
export function post(url: URL, envelope: string, options: PostOptions): Promise<SoapReply> {
  return new Promise((resolve, reject) => {
    if (options.signal.aborted) {
      reject(new OnvifError("aborted", "closed"));
      return;
    }
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    let settled = false;
    const fail = (err: OnvifError): void => {
      if (settled) return;
      settled = true;
      cleanup();
      req.destroy();
      reject(err);
    };
    const onAbort = (): void => fail(new OnvifError("aborted", "closed"));
    const timer = setTimeout(
      () => fail(new OnvifError("timeout", `no reply within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    const cleanup = (): void => {
      clearTimeout(timer);
      options.signal.removeEventListener("abort", onAbort);
    };
    options.signal.addEventListener("abort", onAbort, { once: true });
    const req = send(
      url,
      {
        method: "POST",
        agent: false,
        rejectUnauthorized: options.verifyTls,
        headers: {
          "content-type": `application/soap+xml; charset=utf-8; action="${options.action}"`,
          "content-length": Buffer.byteLength(envelope),
        },
      },
      (res: IncomingMessage) => {
        const receivedMono = performance.now();
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES)
            fail(new OnvifError("malformed", `reply larger than ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on("error", (err) => fail(new OnvifError("network", err.message)));
        res.on("end", () => {
          if (settled) return;
          settled = true;
          cleanup();
          try {
            resolve(parseReply(Buffer.concat(chunks).toString("utf8"), res.statusCode ?? 0, receivedMono));
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on("error", (err: NodeJS.ErrnoException) =>
      fail(new OnvifError("network", err.code ? `${err.code} ${url.host}` : err.message)),
    );
    req.end(envelope);
  });
}
