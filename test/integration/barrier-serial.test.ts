/**
 * A serial barrier controller through the real controller and the real serialport code, over a socat pty
 * pair. The far end is a simulated controller that checks every frame's CRC with its own arithmetic (not
 * the firmware's) and answers acks and status replies, or stays silent, or garbles a reply.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createSerialLink, type SerialLink } from "../../hal/index.js";
import { startTestController, type TestController, testSite } from "../helpers/controller.js";

let dir: string;
let socat: ChildProcess;
let controllerEnd: string;
let deviceEnd: string;

function startSocat(a: string, b: string): Promise<ChildProcess> {
  const child = spawn("socat", ["-d", "-d", `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`]);
  return new Promise((resolve, reject) => {
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes("starting data transfer loop")) resolve(child);
    });
    child.on("error", (err) =>
      reject(new Error(`socat is needed (apt-get install -y socat): ${err.message}`)),
    );
    child.on("exit", (code) => reject(new Error(`socat exited with ${code}: ${stderr}`)));
  });
}

/** CRC-16/MODBUS written out independently of firmware/barrier/frames.ts. */
function crc(bytes: Uint8Array): Buffer {
  let c = 0xffff;
  for (const b of bytes) {
    c ^= b;
    for (let i = 0; i < 8; i++) c = (c & 1) === 1 ? (c >> 1) ^ 0xa001 : c >> 1;
  }
  return Buffer.of(c & 0xff, (c >> 8) & 0xff);
}
const withCrc = (hex: string) => {
  const body = Buffer.from(hex.replaceAll(" ", ""), "hex");
  return Buffer.concat([body, crc(body)]);
};

const OPEN = "01 05 00 01 FF 00";
const CLOSE = "01 05 00 02 FF 00";
const STATUS = "01 02 00 00";

/** The simulated barrier controller on the far end of the pty pair. */
class SimController {
  mode: "answer" | "silent" | "garble-once" = "answer";
  position: "open" | "closed" = "closed";
  readonly received: { frame: "open" | "close" | "status"; at: number }[] = [];
  readonly badFrames: string[] = [];
  #buffer = Buffer.alloc(0);

  constructor(readonly link: SerialLink) {
    link.onData((chunk) => this.#onData(chunk));
  }

  count(frame: "open" | "close" | "status"): number {
    return this.received.filter((r) => r.frame === frame).length;
  }

  #onData(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    const frames = { open: withCrc(OPEN), close: withCrc(CLOSE), status: withCrc(STATUS) } as const;
    for (;;) {
      const hit = (Object.keys(frames) as (keyof typeof frames)[]).find((k) =>
        this.#buffer.subarray(0, frames[k].length).equals(frames[k]),
      );
      if (!hit) {
        // Not a valid frame at the start: if a full frame's worth is here, it is garbage (e.g. a bad CRC).
        if (this.#buffer.length >= 8 || (this.#buffer.length >= 6 && this.#buffer[1] === 0x02)) {
          this.badFrames.push(this.#buffer.toString("hex"));
          this.#buffer = Buffer.alloc(0);
        }
        return;
      }
      this.#buffer = this.#buffer.subarray(frames[hit].length);
      this.received.push({ frame: hit, at: performance.now() });
      this.#answer(hit);
    }
  }

  #answer(frame: "open" | "close" | "status"): void {
    if (this.mode === "silent") return;
    if (frame !== "status") this.position = frame === "open" ? "open" : "closed";
    const reply =
      frame === "status"
        ? withCrc(this.position === "open" ? "01 02 01 01" : "01 02 01 02")
        : withCrc(frame === "open" ? OPEN : CLOSE);
    if (this.mode === "garble-once") {
      reply.writeUInt8(reply.readUInt8(reply.length - 1) ^ 0xff, reply.length - 1);
      this.mode = "answer";
    }
    void this.link.write(reply);
  }
}

let tc: TestController;
let device: SimController;

async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 4000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const barrier = async () => (await tc.api("/api/v1/lanes")).body.items[0].barrier;
const sim = (name: string, active: boolean) => tc.hal.simulateInput?.(name, active);

async function start(opts: { status: boolean }): Promise<void> {
  const deviceLink = createSerialLink({ name: "sim barrier", path: deviceEnd, baudRate: 9600 });
  await deviceLink.open();
  device = new SimController(deviceLink);
  tc = await startTestController({
    site: testSite({
      outputs: [],
      inputs: [{ name: "lane1.presence", pin: 27, debounceMs: 0 }],
      lanes: [
        {
          id: "1",
          name: "Lane 1",
          presenceInput: "lane1.presence",
          autoClose: true,
          closeDelayMs: 50,
          openTimeoutMs: 2000,
          serial: {
            path: controllerEnd,
            baudRate: 9600,
            checksum: "crc16-modbus",
            open: { send: OPEN, reply: OPEN },
            close: { send: CLOSE, reply: CLOSE },
            ...(opts.status
              ? { status: { send: STATUS, open: "01 02 01 01", closed: "01 02 01 02", pollMs: 40 } }
              : {}),
            replyTimeoutMs: 100,
            retries: 2,
          },
        },
      ],
    }),
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-barrier-serial-"));
  controllerEnd = join(dir, "controller");
  deviceEnd = join(dir, "device");
  socat = await startSocat(controllerEnd, deviceEnd);
});

afterEach(async () => {
  await tc?.stop();
  tc?.cleanup();
  await device?.link.close();
});

afterAll(() => {
  socat?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe("serial barrier controller", () => {
  it("opens and closes with CRC-checked frames; status replies drive the state; close waits for the vehicle", async () => {
    await start({ status: true });
    await waitUntil(async () => (await barrier()).state === "closed", "the status poll reports closed");
    const open = await tc.api("/api/v1/lanes/1/open", { body: {} });
    expect(open.body).toMatchObject({ pulseMs: 0 });
    await waitUntil(async () => (await barrier()).state === "open", "the status poll reports open");
    expect(device.count("open")).toBe(1);
    sim("lane1.presence", true);
    sim("lane1.presence", false);
    await waitUntil(() => device.count("close") === 1, "the auto-close frame arrives");
    const cleared = tc.hal.history?.().find((t) => t.name === "lane1.presence" && !t.active)?.monoMs ?? 0;
    const closeAt = device.received.find((r) => r.frame === "close")?.at ?? 0;
    expect(closeAt - cleared).toBeGreaterThanOrEqual(49); // closeDelayMs after the loop cleared
    await waitUntil(async () => (await barrier()).state === "closed", "the status poll reports closed again");
    expect(device.badFrames).toEqual([]); // every frame the controller sent had a valid CRC
    expect((await barrier()).fault).toBeNull();
  });

  it("a reply with a wrong checksum is not taken as an ack: the command is sent again", async () => {
    await start({ status: false });
    device.mode = "garble-once";
    await tc.api("/api/v1/lanes/1/open", { body: {} });
    await waitUntil(() => device.count("open") === 2, "the open is retried");
    await waitUntil(async () => (await barrier()).state === "opening", "the barrier is opening");
    // Absence can only be shown by letting time pass: three reply timeouts without a third attempt.
    await new Promise((r) => setTimeout(r, 300));
    expect(device.count("open")).toBe(2);
    expect((await barrier()).fault).toBeNull();
  });

  it("a silent controller: retried, then a fault in the audit trail, cleared when it answers again", async () => {
    await start({ status: false });
    device.mode = "silent";
    await tc.api("/api/v1/lanes/1/open", { body: {} });
    await waitUntil(async () => (await barrier()).state === "fault", "the fault is raised");
    expect(device.count("open")).toBe(3); // 1 + retries
    const fault = (await barrier()).fault;
    expect(fault).toMatchObject({
      code: "serial",
      message: "serial open: no reply within 100 ms (3 attempts)",
    });
    const raised = (await tc.api("/api/v1/audit")).body.items[0];
    expect(raised).toMatchObject({ actor: "barrier", action: "barrier.fault", detail: { code: "serial" } });
    device.mode = "answer";
    const manual = await tc.api("/api/v1/lanes/1/open", { body: { reason: "retry by hand" } });
    expect(manual.status).toBe(200); // possible with a fault
    await waitUntil(async () => (await barrier()).fault === null, "the fault clears");
    const trail = (await tc.api("/api/v1/audit")).body.items.map((a: { action: string }) => a.action);
    expect(trail.slice(0, 3)).toEqual(["barrier.fault-cleared", "lane.open", "barrier.fault"]);
  });
});
