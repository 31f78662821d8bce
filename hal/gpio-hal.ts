/**
 * The Hal implementation shared by every GPIO driver: lifecycle, name lookup and the transition bus.
 * A driver only supplies a GpioBackend (electrical levels); everything logical happens here and in
 * output.ts / input.ts, so sim and real hardware behave the same.
 */
import { type Clock, systemClock } from "./clock.js";
import { type GpioBackend, type GpioInputPin, type GpioOutputPin, outputLevel } from "./gpio.js";
import { LogicalInput } from "./input.js";
import { type DeviceContext, LogicalOutput } from "./output.js";
import type {
  DigitalInput,
  DigitalOutput,
  GpioDriverName,
  Hal,
  HalConfig,
  InputConfig,
  IoState,
  IoTransition,
  OutputConfig,
  OutputLease,
  TransitionListener,
} from "./types.js";

export interface HalOptions {
  /** Time source for timestamps, pulses and debouncing. Default: the system clock. */
  clock?: Clock;
  /** Failures with no caller to throw to: a throwing listener, a failed write in a timer or exit path. */
  onError?: (message: string, err: unknown) => void;
}

function defaultOnError(message: string, err: unknown): void {
  console.error(`[hal] ${message}:`, err);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

type Phase = "created" | "starting" | "running" | "stopped";

export class GpioHal implements Hal {
  readonly driver: GpioDriverName;
  protected readonly config: HalConfig;
  readonly #loadBackend: () => Promise<GpioBackend>;
  readonly #ctx: DeviceContext;
  readonly #listeners = new Set<TransitionListener>();
  /** The listeners as an array, rebuilt on (un)subscribe: a transition then iterates without copying the set. */
  #listenerList: readonly TransitionListener[] = [];
  #phase: Phase = "created";
  #starting: Promise<void> | undefined;
  #outputs = new Map<string, { device: LogicalOutput; pin: GpioOutputPin }>();
  #inputs = new Map<string, { device: LogicalInput; pin: GpioInputPin }>();

  /** Only assigns: `loadBackend` runs in start(), so a driver's modules load only when it is used. */
  constructor(
    driver: GpioDriverName,
    config: HalConfig,
    loadBackend: () => Promise<GpioBackend>,
    options: HalOptions = {},
  ) {
    this.driver = driver;
    this.config = config;
    this.#loadBackend = loadBackend;
    const onError = options.onError ?? defaultOnError;
    this.#ctx = {
      clock: options.clock ?? systemClock,
      emit: (t) => this.emit(t),
      onError: (message, err) => {
        try {
          onError(message, err);
        } catch {
          // The error sink itself failed; nothing sensible is left to do on an exit path.
        }
      },
    };
  }

  /**
   * Opens every output already driving its safe level (outputs first, before any input), then every input.
   * Throws naming the pin if one cannot be opened; pins opened so far are released and start() may be retried.
   * Throws if the HAL is already started or was stopped (create a new one instead).
   */
  start(): Promise<void> {
    if (this.#phase !== "created") {
      return Promise.reject(new Error(`HAL (${this.driver}): start() called while ${this.#phase}`));
    }
    this.#phase = "starting";
    this.#starting = this.#open().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #open(): Promise<void> {
    try {
      const backend = await this.#loadBackend();
      for (const config of this.config.outputs) this.#openOutput(backend, config);
      for (const config of this.config.inputs) this.#openInput(backend, config);
      this.#phase = "running";
    } catch (err) {
      this.#release();
      this.#phase = "created";
      throw err;
    }
  }

  #openOutput(backend: GpioBackend, config: OutputConfig): void {
    let pin: GpioOutputPin;
    try {
      pin = backend.openOutput(config, outputLevel(config, config.safeActive));
    } catch (err) {
      throw new Error(
        `HAL (${this.driver}): cannot open output "${config.name}" (pin ${config.pin}): ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
    }
    const device = new LogicalOutput(config, pin, this.#ctx, this.#ctx.clock.wallMs());
    this.#outputs.set(config.name, { device, pin });
  }

  #openInput(backend: GpioBackend, config: InputConfig): void {
    let device: LogicalInput | undefined;
    let pin: GpioInputPin;
    try {
      pin = backend.openInput(
        config,
        (level) => device?.rawLevel(level),
        (err) => this.#ctx.onError(`input "${config.name}": watch failed`, err),
      );
      device = new LogicalInput(config, this.#ctx, pin.read(), this.#ctx.clock.wallMs());
    } catch (err) {
      throw new Error(
        `HAL (${this.driver}): cannot open input "${config.name}" (pin ${config.pin}): ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
    }
    this.#inputs.set(config.name, { device, pin });
  }

  /**
   * Drives every output safe, then closes every device and releases every pin and listener. Idempotent;
   * waits for a start() in progress. Pin release failures are reported through `onError`, not thrown.
   */
  async stop(): Promise<void> {
    if (this.#starting) await this.#starting.catch(() => undefined);
    this.allSafe();
    this.#release();
    this.#listeners.clear();
    this.#listenerList = [];
    this.#phase = "stopped";
  }

  #release(): void {
    for (const { device, pin } of this.#outputs.values()) {
      device.toSafeState();
      device.close();
      this.#closePin(device.name, pin);
    }
    for (const { device, pin } of this.#inputs.values()) {
      device.close();
      this.#closePin(device.name, pin);
    }
    this.#outputs.clear();
    this.#inputs.clear();
  }

  #closePin(name: string, pin: GpioOutputPin | GpioInputPin): void {
    try {
      pin.close();
    } catch (err) {
      this.#ctx.onError(`"${name}": cannot release pin`, err);
    }
  }

  /** Throws unless running; an unknown name throws listing the known outputs. */
  output(name: string): DigitalOutput {
    this.assertRunning(`output("${name}")`);
    const entry = this.#outputs.get(name);
    if (!entry) throw this.unknownName(name, "output");
    return entry.device;
  }

  /** Throws unless running; an unknown name throws listing the known inputs. */
  input(name: string): DigitalInput {
    this.assertRunning(`input("${name}")`);
    const entry = this.#inputs.get(name);
    if (!entry) throw this.unknownName(name, "input");
    return entry.device;
  }

  outputs(): DigitalOutput[] {
    this.assertRunning("outputs()");
    return [...this.#outputs.values()].map((e) => e.device);
  }

  inputs(): DigitalInput[] {
    this.assertRunning("inputs()");
    return [...this.#inputs.values()].map((e) => e.device);
  }

  /** Outputs first, then inputs, in configuration order. Throws unless running. */
  state(): IoState[] {
    this.assertRunning("state()");
    const outputs = this.outputs().map(
      (d): IoState => ({ name: d.name, kind: "output", active: d.active, changedAt: d.changedAt }),
    );
    const inputs = this.inputs().map(
      (d): IoState => ({ name: d.name, kind: "input", active: d.active, changedAt: d.changedAt }),
    );
    return [...outputs, ...inputs];
  }

  /**
   * May be called at any time, before start() too. Opening pins is not a transition: read the initial state
   * with state() after start(). Listeners are called synchronously, in subscription order; one that throws
   * is reported through `onError` and the others still run. stop() removes all listeners.
   */
  onTransition(listener: TransitionListener): () => void {
    this.#listeners.add(listener);
    this.#listenerList = [...this.#listeners];
    return () => {
      this.#listeners.delete(listener);
      this.#listenerList = [...this.#listeners];
    };
  }

  /** No-op unless running (before start and after stop the outputs are already safe). Never throws. */
  allSafe(): void {
    for (const { device } of this.#outputs.values()) device.toSafeState();
  }

  /** See Hal.lendOutput. */
  lendOutput(name: string, borrower: string, stop: () => void): OutputLease {
    this.assertRunning(`lendOutput("${name}")`);
    const entry = this.#outputs.get(name);
    if (!entry) throw this.unknownName(name, "output");
    return entry.device.lend(borrower, stop);
  }

  /** Delivers one transition to every listener. Subclasses may record it first. */
  protected emit(t: IoTransition): void {
    // A snapshot, as a copy would be: listeners (un)subscribing during the loop take effect from the next one.
    for (const listener of this.#listenerList) {
      try {
        listener(t);
      } catch (err) {
        this.#ctx.onError(`transition listener threw on "${t.name}"`, err);
      }
    }
  }

  protected assertRunning(what: string): void {
    if (this.#phase === "running") return;
    const state = this.#phase === "stopped" ? "after stop()" : "before start() has completed";
    throw new Error(`HAL (${this.driver}): ${what} called ${state}`);
  }

  protected unknownName(name: string, kind: "output" | "input" | "pin"): Error {
    const outputs = this.config.outputs.map((o) => o.name);
    const inputs = this.config.inputs.map((i) => i.name);
    const list = (names: string[]): string => (names.length > 0 ? names.join(", ") : "(none)");
    if (kind === "output" && inputs.includes(name)) {
      return new Error(
        `HAL (${this.driver}): "${name}" is an input, not an output; outputs are: ${list(outputs)}`,
      );
    }
    if (kind === "input" && outputs.includes(name)) {
      return new Error(
        `HAL (${this.driver}): "${name}" is an output, not an input; inputs are: ${list(inputs)}`,
      );
    }
    const known = kind === "output" ? outputs : kind === "input" ? inputs : [...outputs, ...inputs];
    const what = kind === "pin" ? "pins" : `${kind}s`;
    return new Error(`HAL (${this.driver}): no ${kind} named "${name}"; ${what} are: ${list(known)}`);
  }
}
