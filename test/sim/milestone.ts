/**
 * The two Milestone XProtect Event Server ports the `milestone-event` action talks to, as real TCP listeners
 * on loopback that can go down and come back on the same port (protocols.md §4):
 *
 * - Analytics Events (default 9090): takes an HTTP POST whose body is an AnalyticsEvent document (or the raw
 *   XML), checks it the way the server is documented to (root and namespace, a GUID ID, a Timestamp, a
 *   Message; the sender's address on the allow-list) and answers in HTTP as Milestone's protocol sample reads
 *   it: "200 OK" (with "Warning: Event message not known" when no analytics event has that name), 400 for a
 *   document it refuses, 403 for an address it does not allow. The exact body text is UNVERIFIED.
 * - Generic Events (default 1234): reads an ASCII string until the sender closes, then closes too; no answer.
 */
import { createServer, type Server, type Socket } from "node:net";
import { XMLParser } from "fast-xml-parser";
import { Peer } from "./peers.js";

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  parseTagValue: false,
  processEntities: true,
  ignoreDeclaration: true,
});

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** A TCP peer that can be stopped and started again on the port it first got; subclasses serve a socket. */
abstract class TcpPeer extends Peer<Server> {
  protected abstract connection(socket: Socket): void;

  protected create(): Server {
    return createServer((socket) => {
      socket.on("error", () => {});
      this.connection(socket);
    });
  }
}

export interface AnalyticsEventReceived {
  /** The document as fast-xml-parser reads it (`AnalyticsEvent.EventHeader.ID` …; attributes as `@name`). */
  doc: any;
  xml: string;
  /** The request's headers (lower-case names); empty for raw XML. */
  headers: Record<string, string>;
  /** The body's length in bytes, and what Content-Length said. */
  bodyBytes: number;
}

/** The Event Server's Analytics Events port. */
export class MilestoneAnalyticsPeer extends TcpPeer {
  readonly received: AnalyticsEventReceived[] = [];
  readonly refused: { status: number; reason: string }[] = [];
  /** Analytics events defined in the Management Client (by Message); null: every name is known. */
  knownEvents: Set<string> | null = null;
  /** "Specified network addresses": only these may send; null: all network addresses. */
  allowed: Set<string> | null = null;
  /** Force an answer for a document (a 500, say); null: answer as the server would. */
  override: (e: AnalyticsEventReceived) => number | null = () => null;

  protected connection(socket: Socket): void {
    let buf = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const used = this.take(socket, buf);
        if (used === 0) break;
        buf = buf.subarray(used);
      }
    });
  }

  /** Handle one whole request at the start of `buf`; returns the bytes it used (0: need more). */
  private take(socket: Socket, buf: Buffer): number {
    if (buf.length === 0) return 0;
    if (buf.subarray(0, 5).toString("latin1") !== "POST ") {
      // Raw XML: the document ends with its root element.
      const end = buf.indexOf("</AnalyticsEvent>");
      if (end < 0) return 0;
      const used = end + "</AnalyticsEvent>".length;
      this.answer(socket, buf.subarray(0, used), {}, false);
      return used;
    }
    const head = buf.indexOf("\r\n\r\n");
    if (head < 0) return 0;
    const lines = buf.subarray(0, head).toString("latin1").split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers["content-length"] ?? "0");
    if (buf.length < head + 4 + length) return 0;
    this.answer(socket, buf.subarray(head + 4, head + 4 + length), headers, true);
    return head + 4 + length;
  }

  private answer(socket: Socket, body: Buffer, headers: Record<string, string>, http: boolean): void {
    const xml = body.toString("utf8");
    const received: AnalyticsEventReceived = {
      doc: null,
      xml,
      headers,
      bodyBytes: body.length,
    };
    let status: number;
    let text: string;
    const problem = this.check(xml, received);
    const forced = problem === null ? this.override(received) : null;
    const remote = (socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    if (this.allowed !== null && !this.allowed.has(remote))
      [status, text] = [403, "Error: address not allowed"];
    else if (problem !== null) [status, text] = [400, `Error: ${problem}`];
    else if (forced !== null) [status, text] = [forced, "Error: forced"];
    else {
      const message = String(received.doc.AnalyticsEvent.EventHeader.Message);
      const known = this.knownEvents === null || this.knownEvents.has(message);
      [status, text] = [200, known ? "OK" : "Warning: Event message not known"];
    }
    if (status === 200) this.received.push(received);
    else this.refused.push({ status, reason: text });
    if (!http) return;
    const reason = { 200: "OK", 400: "Bad Request", 403: "Forbidden", 500: "Internal Server Error" }[status];
    const close = headers.connection?.toLowerCase() === "close";
    socket.write(
      `HTTP/1.1 ${status} ${reason ?? "Error"}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n${close ? "Connection: close\r\n" : ""}\r\n${text}`,
    );
    if (close) socket.end();
  }

  /** What the server would refuse in this document, or null. */
  private check(xml: string, received: AnalyticsEventReceived): string | null {
    if (
      received.headers["content-length"] !== undefined &&
      Number(received.headers["content-length"]) !== received.bodyBytes
    )
      return "Content-Length does not match the body";
    try {
      received.doc = parser.parse(xml, true);
    } catch (err) {
      return `malformed XML: ${(err as Error).message.split("\n", 1)[0]}`;
    }
    const root = received.doc?.AnalyticsEvent;
    if (!root) return "root element is not AnalyticsEvent";
    if (root["@xmlns"] !== "urn:milestone-systems") return "wrong namespace";
    const header = root.EventHeader;
    if (!header) return "no EventHeader";
    if (!GUID.test(String(header.ID ?? ""))) return "ID is not a GUID";
    if (!ISO_WITH_OFFSET.test(String(header.Timestamp ?? ""))) return "Timestamp is not ISO 8601 with a zone";
    if (!header.Message) return "no Message";
    return null;
  }
}

/** The Event Server's Generic Events port: one string per connection, read until the sender closes. */
export class MilestoneGenericPeer extends TcpPeer {
  readonly received: string[] = [];

  protected connection(socket: Socket): void {
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("end", () => {
      this.received.push(Buffer.concat(chunks).toString("latin1"));
      socket.end();
    });
  }
}
