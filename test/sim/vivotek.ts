/**
 * A simulated VIVOTEK stop-and-go ANPR camera (specs/003 §4.4): the Socket Client action, which connects to
 * a host/port and writes one XML or JSON document per read (the "with LPR image" formats embed the picture
 * as base64), and the HTTP action, which requests a URL with the read in its query string.
 *
 * The documents are written by firmware/ingest/vivotek-document.ts (the same writer the `socket-client`
 * action uses); the field values here are the camera's (its live panel shows confidence, country, character
 * height, date/time, list).
 */
import { connect, type Socket } from "node:net";
import {
  type VivotekField,
  type VivotekFormat,
  vivotekDocument,
} from "../../firmware/ingest/vivotek-document.js";

export type { VivotekFormat };

export interface VivotekRead {
  plate: string;
  /** 1–100 as the camera reports it. */
  confidence?: number;
  direction?: string;
  /** The camera list the plate matched: "whitelist", "blacklist", "not in list", a custom list name. */
  list?: string;
  country?: string;
  /** Local time as the camera writes it (its list files use "2019-02-26T18:40:00.000"). */
  date?: string;
  lane?: number;
  camera?: string;
}

/** A minimal JPEG (SOI … EOI): enough for anything that checks the magic bytes. */
export const VIVOTEK_JPEG = Buffer.from([
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0xff, 0xd9,
]);

const LIST_IDS: Record<string, number> = { blacklist: 1, whitelist: 2, "not in list": -1 };

function fields(read: VivotekRead): VivotekField[] {
  const list = read.list ?? "not in list";
  const out: VivotekField[] = [
    ["id", 4711],
    ["numberplate", read.plate],
    ["confidence", read.confidence ?? 92],
    ["country", read.country ?? "DEU"],
    ["date", read.date ?? "2025-03-01T08:15:02.250"],
    ["lane", read.lane ?? 1],
    ["charheight", 27],
    ["listid", LIST_IDS[list] ?? 3],
    ["listdescription", list],
    ["mode", "MOTION"],
    ["cameraname", read.camera ?? "IB9387-LPR"],
  ];
  if (read.direction !== undefined) out.push(["direction", read.direction]);
  return out;
}

/** The document the camera writes for one read, in one of the Socket Client action's four formats. */
export function vivotekMessage(read: VivotekRead, format: VivotekFormat): string {
  return vivotekDocument(fields(read), format, { kind: "full", data: VIVOTEK_JPEG });
}

export interface VivotekSocketCamera {
  /** Write one read and resolve once the bytes are handed to the kernel. */
  sendPlate(read: VivotekRead): Promise<void>;
  /** Write raw bytes (split messages, garbage) as they are. */
  sendRaw(bytes: string | Buffer): Promise<void>;
  /** Resolves when the controller (or close()) has closed the connection. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** The camera's Socket Client action: a TCP client to the controller's listenPort. */
export function connectVivotekSocketCamera(options: {
  host: string;
  port: number;
  format: VivotekFormat;
  /** Appended after each document ("" for none); the manual names no delimiter. */
  terminator?: string;
}): Promise<VivotekSocketCamera> {
  const terminator = options.terminator ?? "\r\n";
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: options.host, port: options.port });
    const closed = new Promise<void>((done) => socket.once("close", () => done()));
    // A refused or reset connection shows up as `closed`; errors are the test's to assert through it.
    socket.on("error", () => {});
    socket.once("error", reject);
    const write = (bytes: string | Buffer): Promise<void> =>
      new Promise((done, fail) => {
        if (socket.destroyed || !socket.writable) return fail(new Error("camera socket is closed"));
        socket.write(bytes, (err) => (err ? fail(err) : done()));
      });
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve({
        sendPlate: (read) => write(vivotekMessage(read, options.format) + terminator),
        sendRaw: write,
        closed,
        async close() {
          socket.end();
          await closed;
        },
      });
    });
  });
}

/**
 * The camera's HTTP action: GET `<baseUrl>/api/v1/ingest/vivotek-http?secret=…&numberplate=…&…`.
 * `post` sends the same read as a JSON or XML body instead.
 */
export async function sendVivotekHttpAction(
  baseUrl: string,
  read: VivotekRead,
  options: { secret?: string; post?: VivotekFormat; path?: string } = {},
): Promise<{ status: number; body: any }> {
  const url = new URL(options.path ?? "/api/v1/ingest/vivotek-http", baseUrl);
  if (options.secret) url.searchParams.set("secret", options.secret);
  let res: Response;
  if (options.post) {
    const isJson = options.post.startsWith("json");
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": isJson ? "application/json" : "application/xml" },
      body: vivotekMessage(read, options.post),
    });
  } else {
    for (const [k, v] of fields(read)) url.searchParams.set(k, String(v));
    res = await fetch(url);
  }
  return { status: res.status, body: await res.json().catch(() => null) };
}
