/**
 * A simulated Hikvision ANPR camera in arming mode (protocols.md §2.3): a real HTTP server on loopback that
 * answers `GET /ISAPI/Event/notification/alertStream` with HTTP Digest authentication (MD5, qop=auth, its
 * own challenge and check, written independently of the controller's client) and then an endless
 * multipart/mixed stream: a heartbeat (`videoloss`/`inactive`) every `heartbeatMs`, and each plate sent as
 * an EventNotificationAlert part followed by its two JPEG pictures. Usable from tests and from a CLI.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hikvisionXml, TINY_JPEG } from "./hikvision-isapi.js";

export const ALERT_STREAM_PATH = "/ISAPI/Event/notification/alertStream";
const REALM = "IP Camera(SIM01)";
const BOUNDARY = "boundary";

export interface ArmingPlate {
  plate: string;
  confidence?: number;
  direction?: "forward" | "reverse" | "unknown";
  /** Send the plate and scene pictures after the XML (and announce them in it). Default false. */
  images?: boolean;
}

export interface HikvisionCameraOptions {
  /** 0 or absent: an ephemeral port. */
  port?: number;
  username: string;
  password: string;
  /** Heartbeat period; the vendor's firmware uses 10 s. Default 10 000. */
  heartbeatMs?: number;
}

export interface HikvisionCamera {
  port: number;
  /** Write the alert (and pictures) to every armed, unfrozen stream; resolves when written. */
  sendPlate(p: ArmingPlate): Promise<void>;
  /** Alert streams open right now. */
  connections(): number;
  /** Streams served, 401 challenges sent, credentials refused, heartbeats written. */
  stats(): { streams: number; challenges: number; refused: number; heartbeats: number };
  /** No more heartbeats on any stream (plates still go out). */
  stopHeartbeats(): void;
  /** The streams open now go silent with their sockets left open: a dead link. New streams work. */
  freeze(): void;
  close(): Promise<void>;
}

/** A JPEG of `size` bytes (SOI, filler, EOI), large enough to arrive in several chunks. */
export function fakeJpeg(size: number): Buffer {
  const data = Buffer.alloc(Math.max(size, 4), 0x41);
  for (let i = 2; i < data.length - 2; i++) data[i] = (i * 7) & 0xff;
  data[0] = 0xff;
  data[1] = 0xd8;
  data[data.length - 2] = 0xff;
  data[data.length - 1] = 0xd9;
  return data;
}

export const SCENE_JPEG = fakeJpeg(200_000);

/** One multipart part as the camera frames it: headers with Content-Length, the body, a line break. */
export function streamPart(contentType: string, body: Buffer, headers: string[] = []): Buffer {
  const head = [
    `--${BOUNDARY}`,
    `Content-Type: ${contentType}`,
    `Content-Length: ${body.length}`,
    ...headers,
  ];
  return Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`), body, Buffer.from("\r\n")]);
}

const md5 = (text: string): string => createHash("md5").update(text).digest("hex");

function authParams(header: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const m of header
    .replace(/^Digest\s+/i, "")
    .matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g))
    params.set((m[1] ?? "").toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : (m[3] ?? ""));
  return params;
}

export async function startHikvisionCamera(opts: HikvisionCameraOptions): Promise<HikvisionCamera> {
  const heartbeatMs = opts.heartbeatMs ?? 10_000;
  const stats = { streams: 0, challenges: 0, refused: 0, heartbeats: 0 };
  /** Nonces issued → the highest nonce count seen with each (a replayed count is refused). */
  const nonces = new Map<string, number>();
  const streams = new Map<ServerResponse, { frozen: boolean }>();

  const challenge = (res: ServerResponse, stale = false): void => {
    const nonce = randomBytes(24).toString("hex");
    nonces.set(nonce, 0);
    res.writeHead(401, {
      "WWW-Authenticate": `Digest qop="auth", realm="${REALM}", nonce="${nonce}", stale="${stale ? "TRUE" : "FALSE"}"`,
      "Content-Type": "application/xml",
    });
    res.end('<?xml version="1.0" encoding="UTF-8"?><userCheck><statusValue>401</statusValue></userCheck>');
  };

  /** Whether the request is authorised; "stale" is the right password with an unknown or replayed nonce use. */
  const check = (req: IncomingMessage): "ok" | "missing" | "stale" | "refused" => {
    const header = req.headers.authorization ?? "";
    if (!/^Digest\s/i.test(header)) return "missing";
    const a = authParams(header);
    const [nonce, nc, cnonce, qop] = [
      a.get("nonce") ?? "",
      a.get("nc") ?? "",
      a.get("cnonce") ?? "",
      a.get("qop"),
    ];
    if (a.get("username") !== opts.username || a.get("realm") !== REALM || a.get("uri") !== req.url)
      return "refused";
    if (qop !== "auth" || !/^[0-9a-f]{8}$/i.test(nc) || !cnonce) return "refused";
    if ((a.get("algorithm") ?? "MD5").toUpperCase() !== "MD5") return "refused";
    const ha1 = md5(`${opts.username}:${REALM}:${opts.password}`);
    const ha2 = md5(`${req.method}:${req.url}`);
    if (a.get("response") !== md5(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`)) return "refused";
    const last = nonces.get(nonce);
    const count = Number.parseInt(nc, 16);
    if (last === undefined || count <= last) return "stale"; // right password, unknown or replayed nonce use
    nonces.set(nonce, count);
    return "ok";
  };

  const write = (res: ServerResponse, data: Buffer): Promise<void> =>
    new Promise((resolve) => {
      if (res.destroyed || res.writableEnded) return resolve();
      res.write(data, () => resolve());
    });

  const broadcast = async (parts: Buffer[]): Promise<void> => {
    const live = [...streams].filter(([, s]) => !s.frozen).map(([res]) => res);
    await Promise.all(
      // One write per event, as the camera does: an alert's pictures follow its XML with nothing between
      // them (no heartbeat, no other alert), however many events are sent at once.
      live.map((res) => write(res, Buffer.concat(parts))),
    );
  };

  const heartbeat = streamPart(
    'application/xml; charset="UTF-8"',
    Buffer.from(hikvisionXml({ plate: "", eventType: "videoloss", eventState: "inactive" })),
  );
  let heartbeats: NodeJS.Timeout | null = setInterval(() => {
    for (const [res, s] of streams)
      if (!s.frozen) {
        stats.heartbeats++;
        res.write(heartbeat);
      }
  }, heartbeatMs);

  const server = createServer((req, res) => {
    if (req.url !== ALERT_STREAM_PATH || req.method !== "GET") {
      res.writeHead(404).end();
      return;
    }
    const verdict = check(req);
    if (verdict !== "ok") {
      if (verdict === "refused") stats.refused++;
      else stats.challenges++;
      challenge(res, verdict === "stale");
      return;
    }
    stats.streams++;
    res.writeHead(200, { "Content-Type": `multipart/mixed; boundary=${BOUNDARY}`, Connection: "close" });
    res.flushHeaders();
    streams.set(res, { frozen: false });
    res.on("close", () => streams.delete(res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });

  return {
    port: (server.address() as AddressInfo).port,
    async sendPlate(p) {
      const xml = hikvisionXml({
        plate: p.plate,
        confidence: p.confidence,
        direction: p.direction,
        pictures: p.images === true,
        uuid: randomBytes(16).toString("hex"),
      });
      const parts = [streamPart('application/xml; charset="UTF-8"', Buffer.from(xml))];
      if (p.images)
        parts.push(
          streamPart("image/jpeg", TINY_JPEG, [
            'Content-Disposition: attachment; filename="licensePlatePicture.jpg"',
          ]),
          streamPart("image/jpeg", SCENE_JPEG, [
            'Content-Disposition: attachment; filename="detectionPicture.jpg"',
          ]),
        );
      await broadcast(parts);
    },
    connections: () => streams.size,
    stats: () => ({ ...stats }),
    stopHeartbeats() {
      if (heartbeats) clearInterval(heartbeats);
      heartbeats = null;
    },
    freeze() {
      for (const s of streams.values()) s.frozen = true;
    },
    async close() {
      if (heartbeats) clearInterval(heartbeats);
      heartbeats = null;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
