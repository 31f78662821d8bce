/**
 * The Wiegand device on the sim HAL: the worker's real scheduling loop runs, its edges land in the sim's
 * history, and a test-side receiver decodes them back into frames and measures every pulse and interval.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHal, type SimHal } from "../../hal/index.js";
import { WiegandOutput } from "../../hal/wiegand.js";
import { encodeWiegand, WIEGAND_FORMATS } from "../../hal/wiegand-format.js";
import { expectTiming, framesByReport, pulsesOf } from "../helpers/wiegand.js";

const H10301 = WIEGAND_FORMATS["26-h10301"];
/** protocols.md §1.2: FC 123, CN 4567. */
const FRAME_123_4567 = "10111101100010001110101110";

let hal: SimHal;
let devices: WiegandOutput[] = [];

function makeHal(activeLow = false): SimHal {
  return createHal({
    driver: "sim",
    outputs: [
      { name: "wg.d0", pin: 5, activeLow, contact: "NO", safeActive: false },
      { name: "wg.d1", pin: 6, activeLow, contact: "NO", safeActive: false },
      { name: "relay", pin: 7, activeLow: false, contact: "NO", safeActive: false },
    ],
    inputs: [],
  });
}

async function device(
  config: Partial<ConstructorParameters<typeof WiegandOutput>[1]> = {},
  options: ConstructorParameters<typeof WiegandOutput>[2] = {},
): Promise<WiegandOutput> {
  const w = new WiegandOutput(hal, { name: "door", d0: "wg.d0", d1: "wg.d1", ...config }, options);
  await w.start();
  devices.push(w);
  return w;
}

const pulses = () => pulsesOf(hal.history(), "wg.d0", "wg.d1");

beforeEach(async () => {
  hal = makeHal();
  await hal.start();
});

afterEach(async () => {
  for (const w of devices) await w.stop();
  devices = [];
  await hal.stop();
});

describe("Wiegand output on the sim HAL", () => {
  it("sends a 26-bit frame that decodes back bit for bit, with default timing (50 µs / 2 ms)", async () => {
    const w = await device();
    expect(w.timing).toEqual({ pulseUs: 50, intervalUs: 2000, frameGapMs: 100 });
    const report = await w.send(encodeWiegand(H10301, { facility: 123, card: 4567 }));
    const frames = framesByReport(pulses(), [report]);
    expect(frames.map((f) => f.bits)).toEqual([FRAME_123_4567]);
    expect(pulses()).toHaveLength(26); // nothing outside the frame
    expectTiming(frames, 50, 2000);
    // The report is measured from the same edges.
    expect(report.maxPulseUs).toBeGreaterThanOrEqual(50);
    expect(report.minIntervalUs).toBeGreaterThanOrEqual(2000 - 0.01);
    expect(report.endMono - report.startMono).toBeGreaterThanOrEqual(25 * 2 + 0.05);
    // Idle afterwards, electrically high with activeLow false: transistor off.
    expect(hal.level("wg.d0")).toBe(0);
    expect(hal.level("wg.d1")).toBe(0);
    expect(hal.output("wg.d0").active).toBe(false);
  });

  it("per-frame timing overrides and activeLow wiring", async () => {
    await hal.stop();
    hal = makeHal(true);
    await hal.start();
    const w = await device({ pulseUs: 100, intervalUs: 1000, frameGapMs: 30 });
    const reports = [await w.send("1100", { pulseUs: 200, intervalUs: 500 }), await w.send("0110")];
    const frames = framesByReport(pulsesOf(hal.history(), "wg.d0", "wg.d1"), reports);
    expect(frames.map((f) => f.bits)).toEqual(["1100", "0110"]);
    expectTiming(frames.slice(0, 1), 200, 500);
    expectTiming(frames.slice(1), 100, 1000);
    // activeLow: a pulse drives the pin low, idle is high; the sim's wire log shows exactly that.
    expect(hal.levelLog("wg.d1")).toEqual([1, 0, 1, 0, 1, 0, 1, 0, 1]);
    expect(hal.levelLog("wg.d0")).toEqual([1, 0, 1, 0, 1, 0, 1, 0, 1]);
  });

  it("queues concurrent sends: frames never interleave and keep the minimum gap", async () => {
    const w = await device({ frameGapMs: 40 });
    const frames = [
      encodeWiegand(H10301, { facility: 1, card: 1 }),
      encodeWiegand(H10301, { facility: 255, card: 65535 }),
      encodeWiegand(WIEGAND_FORMATS["37-h10304"], { facility: 65535, card: 524287 }),
      "0",
      encodeWiegand(H10301, { facility: 0, card: 0 }),
    ];
    // Sent from "different decisions" at once, out of any awaited order.
    const reports = await Promise.all(frames.map((f) => w.send(f)));
    const got = framesByReport(pulses(), reports);
    expect(got.map((f) => f.bits)).toEqual(frames);
    expect(pulses()).toHaveLength(frames.join("").length); // nothing outside the frames
    expectTiming(got, 50, 2000);
    for (let i = 1; i < reports.length; i++) {
      const gap = (reports[i]?.startMono ?? 0) - (reports[i - 1]?.endMono ?? 0);
      expect(gap).toBeGreaterThanOrEqual(40);
    }
  });

  it("keeps the event loop free while a long burst is sent", async () => {
    const w = await device({ frameGapMs: 25 });
    const bits = encodeWiegand(WIEGAND_FORMATS["35-corporate1000"], { facility: 1234, card: 56789 });
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    histogram.enable();
    const t0 = performance.now();
    const reports = await Promise.all(Array.from({ length: 12 }, () => w.send(bits)));
    const elapsed = performance.now() - t0;
    histogram.disable();
    // 12 × (35 bits × 2 ms + 25 ms gap) ≈ 1.1 s of busy-waiting, none of it on this thread. A loop blocked for
    // each frame would stall ≥ 68 ms twelve times: about a sixth of the 5 ms samples, so p90 would be ≥ 68 ms.
    expect(elapsed).toBeGreaterThan(12 * 68);
    expect(histogram.percentile(90) / 1e6).toBeLessThan(40);
    const pulses = pulsesOf(hal.history(), "wg.d0", "wg.d1");
    const got = framesByReport(pulses, reports);
    expect(got).toHaveLength(12);
    for (const f of got) expect(f.bits).toBe(bits);
    expect(got.reduce((n, f) => n + f.pulses.length, 0)).toBe(pulses.length); // no pulse outside a frame
  });

  it("hal.allSafe() aborts the frame in flight and the queue, leaves the lines idle, and the device goes on", async () => {
    const w = await device();
    const long = "10".repeat(60); // 120 bits ≈ 240 ms
    const first = w.send(long);
    const queued = w.send("1111");
    await new Promise((r) => setTimeout(r, 50));
    hal.allSafe();
    await expect(first).rejects.toThrow(/aborted/);
    await expect(queued).rejects.toThrow(/aborted/);
    // What went out before the abort is on record; the truncated frame ends with both lines released.
    const partial = pulses();
    const partialBits = partial.map((p) => p.line).join("");
    expect(partialBits.length).toBeGreaterThan(0);
    expect(partialBits.length).toBeLessThan(120);
    expect(long.startsWith(partialBits)).toBe(true);
    expect([hal.level("wg.d0"), hal.level("wg.d1")]).toEqual([0, 0]);
    const next = await w.send("0101");
    expect(pulses().slice(0, partial.length)).toEqual(partial);
    expect(framesByReport(pulses(), [next]).map((f) => f.bits)).toEqual(["0101"]);
    expect(pulses()).toHaveLength(partial.length + 4);
  });

  it("a worker that dies is reported, its lines driven idle, its frames rejected, and a new one takes over", async () => {
    const workers: Worker[] = [];
    const errors: string[] = [];
    const w = await device(
      {},
      {
        spawnWorker: (source, options) => {
          const worker = new Worker(source, options);
          workers.push(worker);
          return worker;
        },
        onError: (message) => errors.push(message),
      },
    );
    const doomed = w.send("1".repeat(100));
    await new Promise((r) => setTimeout(r, 30));
    await workers[0]?.terminate(); // the thread is gone mid-frame, as after a crash
    await expect(doomed).rejects.toThrow(/worker stopped unexpectedly/);
    expect(errors.some((e) => /door.*worker stopped unexpectedly/.test(e))).toBe(true);
    expect([hal.level("wg.d0"), hal.level("wg.d1")]).toEqual([0, 0]);
    expect(hal.output("wg.d1").active).toBe(false);

    const report = await w.send(FRAME_123_4567);
    expect(workers).toHaveLength(2);
    expect(framesByReport(pulses(), [report]).map((f) => f.bits)).toEqual([FRAME_123_4567]);
    expect(pulses()).toHaveLength(26); // the dead worker's edges never arrived
  });

  it("lent lines refuse other commands, and hal.stop() leaves them idle", async () => {
    const w = await device();
    expect(() => hal.output("wg.d0").pulse(10)).toThrow(/driven by Wiegand device "door"/);
    expect(() => hal.output("wg.d1").activate()).toThrow(/driven by Wiegand device "door"/);
    expect(() => new WiegandOutput(hal, { name: "x", d0: "wg.d0", d1: "wg.d0" })).toThrow(/same output/);
    const other = new WiegandOutput(hal, { name: "other", d0: "relay", d1: "wg.d1" });
    await expect(other.start()).rejects.toThrow(/already lent to Wiegand device "door"/);
    hal.output("relay").pulse(5); // given back by the failed start
    const frame = w.send("1".repeat(50));
    await hal.stop();
    await expect(frame).rejects.toThrow(/aborted/);
    expect([hal.level("wg.d0"), hal.level("wg.d1")]).toEqual([0, 0]);
  });

  it("rejects bad frames and timing, naming the device and the setting", async () => {
    const w = await device();
    expect(() => w.send("012")).toThrow(/door.*'0'\/'1'/);
    expect(() => w.send("")).toThrow(/door/);
    expect(() => w.send("1", { pulseUs: 5 })).toThrow(/door.*pulseUs must be 20\.\.1000, got 5/);
    expect(() => w.send("1", { pulseUs: 1000, intervalUs: 1000 })).toThrow(/intervalUs \(1000\) must exceed/);
    expect(() => new WiegandOutput(hal, { name: "slow", d0: "wg.d0", d1: "wg.d1", frameGapMs: 10 })).toThrow(
      /slow.*frameGapMs must be 25\.\.10000/,
    );
  });
});
