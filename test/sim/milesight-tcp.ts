/**
 * A simulated Milesight LPR camera speaking the "TCP type" protocol (specs/002 §1) on a real TCP server:
 * it checks COMM_LOGIN_REQ credentials (200 or 401), answers COMM_REGISTER_REQ, and pushes recognition
 * posts (metadata chunk + JPEG chunks) and JSON event posts to every logged-in connection.
 * Metadata bytes are laid out here, independently of the firmware's parser.
 */
import { createServer, type Server, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { Command, encodeFrame, FrameDecoder, isFrame } from "../../firmware/ingest/milesight-tcp/frames.js";
import { TINY_JPEG } from "./hikvision-isapi.js";

export interface MilesightTcpPlate {
  plate: string;
  /** 0–100; sent as the spec's 4-byte float. */
  confidence?: number;
  direction?: "in" | "out" | "unknown";
  /** Send a plate picture and a full picture (default true). */
  images?: boolean;
  /** Evidence pictures after those (default 0). */
  evidence?: number;
  /** POSIX ms (default 1525867890000, the spec's example). */
  time?: number;
  /** Colour table codes (1 Black … 10 Orange), vehicle type code, brand code. */
  vehicleColor?: number;
  plateColor?: number;
  vehicleType?: number;
  brand?: number;
  speed?: number;
  region?: string;
  roi?: number;
  /** 1 black, 2 white, 3 visitor list. */
  plateType?: number;
}

/** The spec's example device GUID. */
export const DEVICE_ID = Buffer.from("04f912bbce94654089afe83cd88f70be", "hex");

/** The metadata chunk body exactly as the spec lays it out: 112 bytes + the plate's UTF-8 length. */
export function encodeMetadata(p: MilesightTcpPlate): Buffer {
  const plate = Buffer.from(p.plate, "utf8");
  const m = Buffer.alloc(112 + plate.length);
  let at = 0;
  DEVICE_ID.copy(m, at);
  at += 16;
  m.writeBigUInt64LE(BigInt(p.time ?? 1525867890000), at);
  at += 8;
  plate.copy(m, at, 0, Math.min(16, plate.length)); // Car Number: fixed 16 bytes, NUL padded
  at += 16;
  m.writeUInt8(p.vehicleColor ?? 1, at++);
  m.writeUInt8(p.plateColor ?? 1, at++);
  m.writeUInt16LE(p.speed ?? 100, at);
  at += 2;
  const imageCount = p.images === false ? 0 : 2 + (p.evidence ?? 0);
  m.writeUInt8(imageCount, at++);
  m.writeUInt8(p.direction === "in" ? 1 : p.direction === "out" ? 2 : 0, at++);
  m.write(p.region ?? "WOB/ZK", at, 32, "utf8");
  at += 32;
  m.writeUInt8(p.roi ?? 1, at++);
  m.writeUInt8(plate.length, at++);
  plate.copy(m, at);
  at += plate.length;
  m.writeUInt8(p.vehicleType ?? 1, at++);
  m.writeFloatLE(p.confidence ?? 0, at);
  at += 4;
  m.writeUInt8(p.plateType ?? 3, at++);
  m.writeInt32LE(30, at); // distance (radar)
  at += 4;
  m.writeFloatLE(3.5, at); // azimuth (radar)
  at += 4;
  m.writeUInt32LE(50, at); // vehicle count (radar)
  at += 4;
  m.writeUInt16LE(1280, at);
  m.writeUInt16LE(720, at + 2);
  at += 4;
  for (const v of [539, 736, 699, 874]) {
    m.writeUInt16LE(v, at);
    at += 2;
  }
  m.writeUInt16LE(p.brand ?? 6, at); // 6 = BMW, as in the spec's example
  return m;
}

function chunk(id: readonly number[], body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  Buffer.from(id).copy(head, 0);
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
}

/** Distinct pictures so a test can tell them apart: a JPEG with a marker byte before EOI. */
export function picture(n: number): Buffer {
  return Buffer.concat([TINY_JPEG.subarray(0, -2), Buffer.from([0xfe, n]), TINY_JPEG.subarray(-2)]);
}

/** A whole COMM_RECOG_POST frame: metadata chunk, then plate, full and evidence picture chunks. */
export function recognitionFrame(p: MilesightTcpPlate): Buffer {
  const parts = [chunk([0x11, 0xff, 0x00, 0x00], encodeMetadata(p))];
  const count = p.images === false ? 0 : 2 + (p.evidence ?? 0);
  for (let i = 0; i < count; i++) parts.push(chunk([0x22, 0xff, 0x00, 0x00], picture(i)));
  return encodeFrame(Command.RECOG_POST, Buffer.concat(parts));
}

export type MilesightTcpEventKind = "parking" | "counting" | "list-event" | "attributes" | "violation";

const EVENT_COMMANDS: Record<MilesightTcpEventKind, number> = {
  parking: Command.PARKING_POST,
  counting: Command.COUNTING_POST,
  "list-event": Command.LIST_EVENT_POST,
  attributes: Command.ATTRIBUTES_POST,
  violation: Command.VIOLATION_POST,
};

/** Bodies after the spec's examples (parking trigger mode, counting instant mode; the others invented). */
export function cameraEventBody(kind: MilesightTcpEventKind): Record<string, unknown> {
  const snapshot = Buffer.alloc(3000, 7).toString("base64");
  const common = { device: "Network Camera", time: "2023-01-02 23:46:24" };
  switch (kind) {
    case "parking":
      return {
        event: "Parking Detection",
        ...common,
        report_type: "trigger",
        region: 1,
        "region name": "ROI1",
        state: 0,
        "Length of Parking": "00:00:31",
        "License Plate": "BD925RA",
        "Plate Color": "Blue",
        plateSnap: snapshot,
        bkgSnap: snapshot,
      };
    case "counting":
      return {
        event: "Vehicle Counting",
        ...common,
        region: 1,
        "region name": "ROI_1",
        Car: 1,
        Bus: 0,
        snapshot,
      };
    case "list-event":
      return { event: "List Event", ...common, plate: "AB123CD", type: "White" };
    case "attributes":
      return { event: "Attributes Event", ...common, "Vehicle Type": "Car", "Vehicle Color": "Red" };
    case "violation":
      return { event: "Violation Event", ...common, "Violation Type": "Wrong Way", plate: "AB123CD" };
  }
}

export function cameraEventFrame(kind: MilesightTcpEventKind, body = cameraEventBody(kind)): Buffer {
  return encodeFrame(EVENT_COMMANDS[kind], JSON.stringify(body));
}

export interface MilesightTcpCamera {
  port: number;
  /** A recognition post to every logged-in connection; resolves when written. Rejects if there is none. */
  sendPlate(p: MilesightTcpPlate): Promise<void>;
  sendCameraEvent(kind: MilesightTcpEventKind, body?: Record<string, unknown>): Promise<void>;
  /** Any bytes to every logged-in connection (malformed frames). */
  sendRaw(bytes: Buffer): Promise<void>;
  /** Open client connections. */
  connections(): number;
  /** Logged-in connections that still answer. */
  loggedIn(): number;
  /** Every login attempt seen, in order, with performance.now() when it arrived. */
  logins(): ReadonlyArray<{ id: unknown; ok: boolean; at: number }>;
  /** Every register request body seen (the first after login, later ones are probes). */
  registrations(): ReadonlyArray<Record<string, unknown>>;
  setCredentials(username: string, password: string): void;
  /** The current connections stop answering and sending, without closing: a half-open link. */
  dropSilently(): void;
  /** Power loss: destroy every connection and stop listening. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

export async function startMilesightTcpCamera(opts: {
  port?: number;
  host?: string;
  username: string;
  password: string;
}): Promise<MilesightTcpCamera> {
  let { username, password } = opts;
  const sockets = new Set<Socket>();
  const authed = new Set<Socket>();
  const silent = new Set<Socket>();
  const logins: Array<{ id: unknown; ok: boolean; at: number }> = [];
  const registrations: Array<Record<string, unknown>> = [];

  const reply = (socket: Socket, command: number, body: object): void => {
    if (!silent.has(socket)) socket.write(encodeFrame(command, JSON.stringify(body)));
  };

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const decoder = new FrameDecoder();
    socket.on("close", () => {
      sockets.delete(socket);
      authed.delete(socket);
      silent.delete(socket);
    });
    socket.on("error", () => {});
    socket.on("data", (data: Buffer) => {
      if (silent.has(socket)) return;
      let frames: ReturnType<FrameDecoder["push"]>;
      try {
        frames = decoder.push(data, 0);
      } catch {
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        if (!isFrame(frame)) continue;
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(frame.data.toString("utf8")) as Record<string, unknown>;
        } catch {
          continue; // a real camera ignores what it cannot read
        }
        if (frame.command === Command.LOGIN_REQ) {
          const ok = body.id === username && body.password === password;
          logins.push({ id: body.id, ok, at: performance.now() });
          if (ok) authed.add(socket);
          reply(socket, Command.LOGIN_REPLY, { result: ok ? "200" : "401" });
        } else if (frame.command === Command.REGISTER_REQ) {
          if (!authed.has(socket)) {
            reply(socket, Command.REGISTER_REPLY, { result: "401" });
            continue;
          }
          registrations.push(body);
          reply(socket, Command.REGISTER_REPLY, { result: "200", registerAll: body.registerAll ?? 0 });
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  const live = (): Socket[] => [...authed].filter((s) => !silent.has(s));
  const broadcast = async (bytes: Buffer): Promise<void> => {
    const targets = live();
    if (targets.length === 0) throw new Error("simulated Milesight camera: no logged-in connection");
    await Promise.all(
      targets.map(
        (s) => new Promise<void>((resolve, reject) => s.write(bytes, (e) => (e ? reject(e) : resolve()))),
      ),
    );
  };
  const shutdown = async (destroy: boolean): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Graceful: FIN after what is queued, then the descriptor goes; a kill just drops everything.
    for (const s of sockets) destroy ? s.destroy() : s.end(() => s.destroy());
    await closed;
  };

  return {
    port,
    sendPlate: (p) => broadcast(recognitionFrame(p)),
    sendCameraEvent: (kind, body) => broadcast(cameraEventFrame(kind, body)),
    sendRaw: (bytes) => broadcast(bytes),
    connections: () => sockets.size,
    loggedIn: () => live().length,
    logins: () => logins,
    registrations: () => registrations,
    setCredentials(u, p) {
      username = u;
      password = p;
    },
    dropSilently() {
      for (const s of sockets) silent.add(s);
    },
    kill: () => shutdown(true),
    close: () => shutdown(false),
  };
}
