/**
 * Wiegand output: a frame of bits sent as low pulses on two open-collector lines, D0 for a 0, D1 for a 1
 * (shared/protocols.md §1.1). Both lines idle high (released); a bit is a short pulse low on one of them.
 *
 * Electrical model, expressed with the HAL's logical outputs: D0 and D1 are ordinary `outputs` of the site,
 * and logical **active = the line is pulled low** (a pulse). Their safe state is inactive (idle high), so
 * `safeActive` must be false. The Pi drives a transistor or optocoupler that pulls the 5 V line to ground,
 * so with the usual wiring (GPIO high = transistor on = line low) `activeLow` is false and `contact` "NO".
 * Never wire a 5 V Wiegand line straight to a 3.3 V GPIO.
 *
 * Timing: 50 µs pulses every 2 ms by default (typical reader timing; SIA limits: pulse 20–100 µs, interval
 * 200 µs–20 ms). Sub-millisecond pulses cannot come from the event loop, so each device has a worker thread
 * that busy-waits between synchronous writes: for the onoff driver it writes the lines' sysfs value files
 * itself; for the sim driver the same loop runs and only the write is skipped. Either way the worker reports
 * every edge with its high-resolution timestamp, and the HAL records them as ordinary transitions (the sim's
 * `history()`, transition listeners) when the frame is done.
 *
 * Frames queue per device: the worker sends one frame at a time, and the next starts at least `frameGapMs`
 * after the last pulse of the previous one (a receiver ends a frame on silence). Pulses are never shorter and
 * intervals never shorter than configured; a preempted worker can only make them longer.
 *
 * Safety: the lines are idle at start, after every frame and on every exit path. Driving an output safe
 * (`toSafeState`, `hal.allSafe()`, exit safety, `hal.stop()`) first stops the worker writing (a shared
 * generation counter plus a busy flag, checked before every write), which aborts the frame in flight and every
 * queued one. A worker that dies is reported, its lines driven idle, its frames rejected; the next send starts
 * a new worker.
 */
import { Worker, type WorkerOptions } from "node:worker_threads";
import type { Hal, Level, LineTarget, OutputLease } from "./types.js";

export interface WiegandConfig {
  /** Unique device name, e.g. `door1`. */
  name: string;
  /** Output names of the D0 and D1 lines. */
  d0: string;
  d1: string;
  /** Pulse width, µs. Default 50. */
  pulseUs?: number;
  /** Pulse interval (start of one pulse to start of the next), µs. Default 2000. */
  intervalUs?: number;
  /** Minimum silence between two frames, ms. Default 100 (the SIA maximum interval is 20 ms). */
  frameGapMs?: number;
}

export interface WiegandTiming {
  pulseUs: number;
  intervalUs: number;
}

export const WIEGAND_DEFAULTS = { pulseUs: 50, intervalUs: 2000, frameGapMs: 100 } as const;
/** Accepted ranges. Wider than SIA's pulse maximum (100 µs) because many panels take wider pulses. */
export const WIEGAND_LIMITS = {
  pulseUs: { min: 20, max: 1000 },
  intervalUs: { min: 200, max: 20_000 },
  frameGapMs: { min: 25, max: 10_000 },
  /** Interval minus pulse: the line must be released this long between two pulses. */
  minSpaceUs: 100,
} as const;

/** Problems with a device's timing, each naming the device and the setting; empty = valid. */
export function wiegandTimingProblems(
  name: string,
  t: Partial<WiegandTiming> & { frameGapMs?: number },
): string[] {
  const problems: string[] = [];
  const check = (key: "pulseUs" | "intervalUs" | "frameGapMs", value: number | undefined): void => {
    if (value === undefined) return;
    const { min, max } = WIEGAND_LIMITS[key];
    if (!Number.isFinite(value) || value < min || value > max) {
      problems.push(`Wiegand "${name}": ${key} must be ${min}..${max}, got ${value}`);
    }
  };
  check("pulseUs", t.pulseUs);
  check("intervalUs", t.intervalUs);
  check("frameGapMs", t.frameGapMs);
  const pulse = t.pulseUs ?? WIEGAND_DEFAULTS.pulseUs;
  const interval = t.intervalUs ?? WIEGAND_DEFAULTS.intervalUs;
  if (interval - pulse < WIEGAND_LIMITS.minSpaceUs) {
    problems.push(
      `Wiegand "${name}": intervalUs (${interval}) must exceed pulseUs (${pulse}) by at least ${WIEGAND_LIMITS.minSpaceUs}`,
    );
  }
  const gap = t.frameGapMs ?? WIEGAND_DEFAULTS.frameGapMs;
  if (gap * 1000 <= interval) {
    problems.push(`Wiegand "${name}": frameGapMs (${gap}) must be longer than the pulse interval`);
  }
  return problems;
}

/** What one sent frame looked like on the wire, measured from the worker's edge timestamps. */
export interface FrameReport {
  bits: string;
  /** performance.now() time of the first edge and of the last. */
  startMono: number;
  endMono: number;
  /** Longest pulse and longest / shortest interval measured, µs (0 for a one-bit frame's intervals). */
  maxPulseUs: number;
  maxIntervalUs: number;
  minIntervalUs: number;
}

export interface WiegandOptions {
  /** Failures with no caller to throw to (a worker that died). */
  onError?: (message: string, err: unknown) => void;
  /**
   * How the worker thread is started: (source, options) → Worker. Default `new Worker(source, options)`.
   * Injected so a hardware-in-the-loop test can hold the real worker and kill it.
   */
  spawnWorker?: (source: string, options: WorkerOptions) => Worker;
}

/** Shared-memory slots between the main thread and the worker. */
const GEN = 0; // bumped by the main thread to abort: frames of an older generation are not (or no longer) sent
const BUSY = 1; // 1 while the worker may write the lines
// Slot 2 never changes: the worker sleeps on it with Atomics.wait.

/** The worker spins only this close to a deadline and sleeps before (see wiegandWorkerMain). */
const SPIN_MS = 0.3;

/** Longest the main thread waits for the worker to let go of the lines when driving them safe. */
const ABORT_WAIT_MS = 50;

interface FrameRequest {
  id: number;
  gen: number;
  bits: string;
  pulseMs: number;
  intervalMs: number;
  gapMs: number;
}

interface FrameResult {
  id: number;
  aborted: boolean;
  /** Flat [line, active (0/1), hrtime ms] triples, in order. */
  edges: number[];
}

interface WorkerInit {
  shared: SharedArrayBuffer;
  lines: LineTarget[];
  /** Electrical levels [D0, D1] for idle and for a pulse. */
  idle: Level[];
  active: Level[];
  spinMs: number;
}

/**
 * The worker thread. Self-contained (no imports, no closures): it is sent to the worker as source text, so
 * the same code runs under the test runner, from the compiled files and from the bundle. `req` is the
 * worker's CommonJS require.
 */
function wiegandWorkerMain(req: NodeJS.Require): void {
  const { parentPort, workerData } = req("node:worker_threads") as typeof import("node:worker_threads");
  const fs = req("node:fs") as typeof import("node:fs");
  try {
    // On Linux this sets the nice value of this thread only: fewer preemptions mid-pulse. Needs CAP_SYS_NICE
    // (root); without it the thread simply keeps the normal priority.
    (req("node:os") as typeof import("node:os")).setPriority(0, -10);
  } catch {}
  const init = workerData as WorkerInit;
  const shared = new Int32Array(init.shared);
  const [GEN, BUSY, SLEEP] = [0, 1, 2];
  // Sleep until this close to a deadline, then spin. A thread that mostly sleeps is preempted far less than one
  // that spins through the whole 2 ms interval (the scheduler favours sleepers), and it costs no CPU.
  const SPIN_MS = init.spinMs;
  // The value files are opened once, here: an open() per edge would cost tens of µs.
  const fds = init.lines.map((t) => (t.kind === "sysfs" ? fs.openSync(t.valuePath, "r+") : -1));
  const bytes = [Buffer.from("0"), Buffer.from("1")];
  const write = (line: number, level: number): void => {
    const fd = fds[line] ?? -1;
    if (fd >= 0) fs.writeSync(fd, bytes[level] as Buffer, 0, 1, 0);
  };
  // performance.now() here and on the main thread have different origins; process.hrtime is shared.
  const toHr = Number(process.hrtime.bigint()) / 1e6 - performance.now();
  let lastEnd = Number.NEGATIVE_INFINITY;
  parentPort?.postMessage("ready"); // the value files are open

  /** Wait until performance.now() >= t: sleep while far, spin the last SPIN_MS. False if aborted meanwhile. */
  const waitUntil = (t: number, gen: number): boolean => {
    for (;;) {
      if (Atomics.load(shared, GEN) !== gen) return false;
      const left = t - performance.now();
      if (left <= 0) return true;
      if (left > SPIN_MS) Atomics.wait(shared, SLEEP, 0, Math.min(left - SPIN_MS, 10));
    }
  };

  parentPort?.on("message", (m: FrameRequest) => {
    const edges: number[] = [];
    let aborted = !waitUntil(lastEnd + m.gapMs, m.gen);
    if (!aborted) {
      // Publish BUSY before the next GEN check: with the main thread's bump-then-read, one side sees the other.
      Atomics.store(shared, BUSY, 1);
      let start = 0;
      for (let i = 0; i < m.bits.length; i++) {
        const line = m.bits[i] === "1" ? 1 : 0;
        if (!waitUntil(i === 0 ? 0 : start + m.intervalMs, m.gen)) {
          aborted = true;
          break;
        }
        write(line, init.active[line] as number);
        start = performance.now();
        edges.push(line, 1, start + toHr);
        // Measured from the stamped edge, so a recorded pulse is never shorter than asked.
        const complete = waitUntil(start + m.pulseMs, m.gen);
        write(line, init.idle[line] as number);
        lastEnd = performance.now();
        edges.push(line, 0, lastEnd + toHr);
        if (!complete) {
          aborted = true;
          break;
        }
      }
      Atomics.store(shared, BUSY, 0);
      Atomics.notify(shared, BUSY);
    }
    parentPort?.postMessage({ id: m.id, aborted, edges } satisfies FrameResult);
  });
}

// esbuild's keepNames (tsx, some test runners) wraps functions in a `__name` helper that the worker lacks.
const WORKER_SOURCE = `var __name = (f) => f; (${wiegandWorkerMain.toString()})(require);`;

interface Pending {
  bits: string;
  resolve: (report: FrameReport) => void;
  reject: (err: Error) => void;
}

function hrNowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * A Wiegand output on two lent HAL outputs. Lifecycle: the constructor only assigns; `start()` lends the lines
 * (driving them idle) and starts the worker; `stop()` lets queued frames finish, ends the worker and gives the
 * lines back idle.
 */
export class WiegandOutput {
  readonly name: string;
  readonly timing: Readonly<WiegandTiming & { frameGapMs: number }>;
  readonly #hal: Hal;
  readonly #config: WiegandConfig;
  readonly #onError: (message: string, err: unknown) => void;
  readonly #spawn: (source: string, options: WorkerOptions) => Worker;
  readonly #shared = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
  #leases: OutputLease[] = [];
  #worker: Worker | undefined;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  /** Called when the last pending frame settles (stop() waits for them). */
  #drainWaiters: Array<() => void> = [];
  #state: "created" | "running" | "stopping" | "stopped" = "created";
  /** main-thread hrtime ms minus performance.now(): converts the worker's edge times to HAL time. */
  readonly #hrToMono: number;

  /** Throws naming the device if the timing is out of range (see WIEGAND_LIMITS) or D0 = D1. */
  constructor(hal: Hal, config: WiegandConfig, options: WiegandOptions = {}) {
    const timing = {
      pulseUs: config.pulseUs ?? WIEGAND_DEFAULTS.pulseUs,
      intervalUs: config.intervalUs ?? WIEGAND_DEFAULTS.intervalUs,
      frameGapMs: config.frameGapMs ?? WIEGAND_DEFAULTS.frameGapMs,
    };
    const problems = wiegandTimingProblems(config.name, timing);
    if (config.d0 === config.d1) problems.push(`Wiegand "${config.name}": d0 and d1 are the same output`);
    if (problems.length > 0) throw new Error(problems.join("; "));
    this.name = config.name;
    this.timing = timing;
    this.#hal = hal;
    this.#config = config;
    this.#onError = options.onError ?? ((message, err) => console.error(`[hal] ${message}:`, err));
    this.#spawn = options.spawnWorker ?? ((source, opts) => new Worker(source, opts));
    this.#hrToMono = hrNowMs() - performance.now();
  }

  /**
   * Lend D0 and D1 from the HAL (driving them idle) and start the worker; resolves when it runs. Throws naming
   * the line if an output is unknown, already lent, has `safeActive: true`, or the driver cannot lend it; or if
   * the worker cannot start (e.g. a sysfs value file cannot be opened). On failure the lines are given back.
   */
  async start(): Promise<void> {
    if (this.#state !== "created")
      throw new Error(`Wiegand "${this.name}": start() called while ${this.#state}`);
    try {
      for (const name of [this.#config.d0, this.#config.d1]) {
        this.#leases.push(this.#hal.lendOutput(name, `Wiegand device "${this.name}"`, () => this.#abort()));
      }
      const worker = this.#ensureWorker();
      await new Promise<void>((resolve, reject) => {
        worker.once("message", () => resolve()); // "ready"
        worker.once("exit", () => reject(new Error(`Wiegand "${this.name}": the worker did not start`)));
      });
      this.#state = "running";
    } catch (err) {
      await this.#shutdown();
      this.#state = "created";
      throw err;
    }
  }

  /**
   * Queue a frame ('0'/'1' characters, first bit first) and resolve with its measured timing once it was sent.
   * `timing` overrides the device's pulse width and interval for this frame. Throws (synchronously) for bad bits
   * or timing, or unless running. Rejects if the frame was aborted (outputs driven safe) or the worker died.
   */
  send(bits: string, timing: Partial<WiegandTiming> = {}): Promise<FrameReport> {
    if (this.#state !== "running") throw new Error(`Wiegand "${this.name}": send() while ${this.#state}`);
    if (!/^[01]{1,256}$/.test(bits)) {
      throw new Error(
        `Wiegand "${this.name}": a frame is 1..256 characters '0'/'1', got ${JSON.stringify(bits)}`,
      );
    }
    const t = { ...this.timing, ...timing };
    const problems = wiegandTimingProblems(this.name, t);
    if (problems.length > 0) throw new Error(problems.join("; "));
    const id = this.#nextId++;
    const request: FrameRequest = {
      id,
      gen: Atomics.load(this.#shared, GEN),
      bits,
      pulseMs: t.pulseUs / 1000,
      intervalMs: t.intervalUs / 1000,
      gapMs: t.frameGapMs,
    };
    return new Promise<FrameReport>((resolve, reject) => {
      this.#pending.set(id, { bits, resolve, reject });
      this.#ensureWorker().postMessage(request);
    });
  }

  /**
   * Fire and forget, for the decision path: like send(), but a frame that fails later (aborted, worker died)
   * is reported through `onError` instead of a promise. Still throws synchronously for bad bits or timing.
   */
  enqueue(bits: string, timing: Partial<WiegandTiming> = {}): void {
    this.send(bits, timing).catch((err) => this.#onError(`Wiegand "${this.name}": frame not sent`, err));
  }

  /** Frames queued or in flight. */
  get queued(): number {
    return this.#pending.size;
  }

  /**
   * Wait for queued frames, end the worker, give the lines back idle. Idempotent. Call before `hal.stop()`
   * (which would otherwise abort the frames in flight).
   */
  async stop(): Promise<void> {
    if (this.#state === "stopped" || this.#state === "created") return;
    this.#state = "stopping";
    if (this.#pending.size > 0) await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
    await this.#shutdown();
    this.#state = "stopped";
  }

  async #shutdown(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker) {
      worker.removeAllListeners("exit");
      await worker.terminate();
    }
    for (const lease of this.#leases) lease.release();
    this.#leases = [];
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const [d0, d1] = this.#leases as [OutputLease, OutputLease];
    const init: WorkerInit = {
      shared: this.#shared.buffer as SharedArrayBuffer,
      lines: [d0.target, d1.target],
      idle: [d0.level(false), d1.level(false)],
      active: [d0.level(true), d1.level(true)],
      spinMs: SPIN_MS,
    };
    const worker = this.#spawn(WORKER_SOURCE, { eval: true, workerData: init, name: `wiegand ${this.name}` });
    // Never keeps the process alive on its own; the exit path drives the lines safe.
    worker.unref();
    let failure: unknown;
    worker.on("message", (result: FrameResult | "ready") => {
      if (result !== "ready") this.#onResult(result);
    });
    worker.on("error", (err) => {
      failure = err;
    });
    worker.on("exit", (code) => {
      if (this.#worker === worker) this.#onWorkerDied(code, failure);
    });
    this.#worker = worker;
    return worker;
  }

  #onResult(result: FrameResult): void {
    const pending = this.#pending.get(result.id);
    this.#pending.delete(result.id);
    const { edges } = result;
    const times: number[] = [];
    for (let i = 0; i < edges.length; i += 3) {
      const mono = (edges[i + 2] as number) - this.#hrToMono;
      this.#leases[edges[i] as number]?.record(edges[i + 1] === 1, mono);
      times.push(mono);
    }
    if (pending) {
      if (result.aborted) {
        pending.reject(
          new Error(`Wiegand "${this.name}": frame aborted, outputs driven to their safe state`),
        );
      } else {
        pending.resolve(measure(pending.bits, times));
      }
    }
    this.#notifyIfDrained();
  }

  #notifyIfDrained(): void {
    if (this.#pending.size > 0) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** The worker died (threw, ran out of memory, was killed): report, drive idle, fail its frames. */
  #onWorkerDied(code: number, err: unknown): void {
    this.#worker = undefined;
    Atomics.store(this.#shared, BUSY, 0); // it will never clear the flag itself
    const message = `Wiegand "${this.name}": worker stopped unexpectedly (exit code ${code}); lines driven idle`;
    this.#onError(message, err ?? new Error(`exit code ${code}`));
    for (const lease of this.#leases) {
      try {
        this.#hal.output(lease.name).toSafeState();
      } catch (e) {
        this.#onError(`Wiegand "${this.name}": cannot drive "${lease.name}" idle`, e);
      }
    }
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(new Error(message, { cause: err }));
    this.#notifyIfDrained();
  }

  /**
   * Called synchronously whenever a line is driven safe: makes every frame sent so far stale and waits (briefly)
   * until the worker no longer writes, so the safe level written next is the last word.
   */
  #abort(): void {
    Atomics.add(this.#shared, GEN, 1);
    Atomics.wait(this.#shared, BUSY, 1, ABORT_WAIT_MS);
  }
}

/** Pulse widths and intervals from edge times [on, off, on, off, …], in µs. */
function measure(bits: string, times: readonly number[]): FrameReport {
  let maxPulse = 0;
  let maxInterval = 0;
  let minInterval = Number.POSITIVE_INFINITY;
  for (let i = 0; i + 1 < times.length; i += 2) {
    maxPulse = Math.max(maxPulse, ((times[i + 1] as number) - (times[i] as number)) * 1000);
    if (i >= 2) {
      const interval = ((times[i] as number) - (times[i - 2] as number)) * 1000;
      maxInterval = Math.max(maxInterval, interval);
      minInterval = Math.min(minInterval, interval);
    }
  }
  return {
    bits,
    startMono: times[0] ?? 0,
    endMono: times[times.length - 1] ?? 0,
    maxPulseUs: maxPulse,
    maxIntervalUs: maxInterval,
    minIntervalUs: Number.isFinite(minInterval) ? minInterval : 0,
  };
}
