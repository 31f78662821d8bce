/**
 * The serialport SerialLink over a real pseudo-terminal pair made by socat, so the real serialport code and
 * native binding run. Needs the Debian package `socat`.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSerialLink, type SerialLink } from "../../hal/index.js";

let dir: string;
let socat: ChildProcess;
let pathA: string;
let pathB: string;

/** Start socat and resolve once it reports the transfer loop running (both pty links exist by then). */
function startSocat(): Promise<ChildProcess> {
  if (spawnSync("socat", ["-V"]).error) {
    throw new Error(
      "socat is not installed (apt-get install -y socat); the serial tests need a real pty pair",
    );
  }
  const child = spawn("socat", ["-d", "-d", `pty,raw,echo=0,link=${pathA}`, `pty,raw,echo=0,link=${pathB}`]);
  return new Promise((resolve, reject) => {
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes("starting data transfer loop")) resolve(child);
    });
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`socat exited with ${code}: ${stderr}`)));
  });
}

/** Collect bytes arriving on `link` until `n` bytes have come. */
function receive(link: SerialLink, n: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const off = link.onData((chunk) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= n) {
        off();
        resolve(Buffer.concat(chunks));
      }
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-serial-"));
  pathA = join(dir, "a");
  pathB = join(dir, "b");
  socat = await startSocat();
});

afterAll(() => {
  socat?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe("serialport SerialLink over a socat pty pair", () => {
  it("carries bytes both ways", async () => {
    const a = createSerialLink({ name: "barrier", path: pathA, baudRate: 9600 });
    const b = createSerialLink({
      name: "peer",
      path: pathB,
      baudRate: 9600,
      dataBits: 8,
      parity: "none",
      stopBits: 1,
    });
    expect(a.path).toBe(pathA);
    await a.open();
    await b.open();
    try {
      // A Mach Power "pole raise" frame (protocols.md §9.3), then every byte value.
      const frame = Uint8Array.of(0xeb, 0x01, 0x43, 0x00, 0xa9);
      const atB = receive(b, frame.length);
      await a.write(frame);
      expect(await atB).toEqual(Buffer.from(frame));

      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      const atA = receive(a, all.length);
      await b.write(all);
      expect(await atA).toEqual(Buffer.from(all));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("keeps delivering to other listeners when one throws", async () => {
    const errors: string[] = [];
    const a = createSerialLink({ name: "a", path: pathA, baudRate: 115200 });
    const b = createSerialLink(
      { name: "b", path: pathB, baudRate: 115200 },
      { onError: (m) => errors.push(m) },
    );
    await a.open();
    await b.open();
    try {
      b.onData(() => {
        throw new Error("listener bug");
      });
      const atB = receive(b, 3);
      await a.write(Uint8Array.of(1, 2, 3));
      expect(await atB).toEqual(Buffer.of(1, 2, 3));
      expect(errors[0]).toBe(`serial "b" (${pathB}): data listener threw`);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("rejects open on a missing path with the path in the message", async () => {
    const missing = join(dir, "no-such-tty");
    const link = createSerialLink({ name: "rs485", path: missing, baudRate: 9600 });
    await expect(link.open()).rejects.toThrow(`serial "rs485" (${missing}): cannot open ${missing}`);
    await link.close(); // nothing to close: still fine
  });

  it("closes idempotently and refuses writes while closed or reopening twice", async () => {
    const link = createSerialLink({ name: "a", path: pathA, baudRate: 9600 });
    await expect(link.write(Uint8Array.of(1))).rejects.toThrow(`serial "a" (${pathA}): write while not open`);
    await link.open();
    await expect(link.open()).rejects.toThrow("already open");
    await Promise.all([link.close(), link.close()]);
    await link.close();
    await expect(link.write(Uint8Array.of(1))).rejects.toThrow("write while not open");
    await link.open(); // a closed link can be opened again
    await link.close();
  });

  it("rejects invalid settings, naming the link", () => {
    expect(() => createSerialLink({ name: "rs485", path: "", baudRate: 0 })).toThrow(
      /invalid serial config "rs485":\n {2}- path must be a non-empty string\n {2}- baudRate must be a positive integer, got 0/,
    );
  });
});
