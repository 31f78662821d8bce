/**
 * Hardware abstraction layer: the contract every driver (sim, onoff, serialport) honours.
 *
 * Vocabulary: code speaks in *logical* states — an output is `active` when its contact is made
 * (the barrier sees its input asserted), an input is `active` when the sensor reports presence/closed.
 * Electrical details (active-low pins, NO/NC contacts, boot state) live in configuration only.
 *
 * `hal/` imports nothing from `firmware/`.
 */

/** Electrical level of a pin: 1 = high, 0 = low. */
export type Level = 0 | 1;

/** Which low-level driver backs the digital I/O. Chosen by configuration, never by sniffing the machine. */
export type GpioDriverName = "sim" | "onoff";

export interface OutputConfig {
  /** Unique name, e.g. `lane1.barrier`. */
  name: string;
  /** BCM pin number (onoff) or any unique number (sim). */
  pin: number;
  /** The pin drives the relay coil with a low level. */
  activeLow: boolean;
  /** The contact wired to the load: normally open (made while the coil is energised) or normally closed. */
  contact: "NO" | "NC";
  /** Logical state at boot and on every exit path. Almost always `false` (contact not made). */
  safeActive: boolean;
}

export interface InputConfig {
  name: string;
  pin: number;
  /** The sensor pulls the pin low when it is active (typical for dry contacts with pull-ups). */
  activeLow: boolean;
  /** A change must be stable this long before it is reported. */
  debounceMs: number;
}

/** One logical transition, as recorded and reported by the HAL. */
export interface IoTransition {
  name: string;
  kind: "input" | "output";
  active: boolean;
  /** Monotonic time of the transition in milliseconds (performance.now() clock). */
  monoMs: number;
  /** Wall-clock time of the transition, ms since the Unix epoch. */
  wallMs: number;
}

export interface IoState {
  name: string;
  kind: "input" | "output";
  active: boolean;
  /** Wall-clock ms of the last transition (or of opening, if none yet). */
  changedAt: number;
}

/**
 * A logical digital output (relay, lamp, siren).
 * All methods are synchronous and idempotent: setting the state it already has records no transition.
 * After `close()` every method throws.
 */
export interface DigitalOutput {
  readonly name: string;
  readonly active: boolean;
  readonly changedAt: number;
  /** Make the contact (relay "close"). */
  activate(): void;
  /** Break the contact (relay "open"). Cancels a running pulse. */
  deactivate(): void;
  /**
   * Make the contact for `ms` milliseconds, then break it. A pulse while one is running
   * restarts the timer (the contact stays made, no extra transition). `ms` must be > 0.
   */
  pulse(ms: number): void;
  /**
   * Blink a lamp or siren: `count` pulses of `onMs`, each starting `onMs + offMs` after the one before.
   * Any other command (activate, deactivate, pulse, another blink, the safe state) ends it. Throws
   * RangeError unless `onMs`, `offMs` > 0 and `count` is a whole number ≥ 1.
   */
  blink(onMs: number, offMs: number, count: number): void;
  /** Drive to the configured safe state, synchronously. Never throws. */
  toSafeState(): void;
}

/** A logical, debounced digital input. `active` and `changedAt` throw after the HAL is stopped. */
export interface DigitalInput {
  readonly name: string;
  readonly active: boolean;
  readonly changedAt: number;
}

/** A byte link (RS-232/RS-485). `write` resolves when the bytes are handed to the OS. */
export interface SerialLink {
  readonly path: string;
  open(): Promise<void>;
  write(data: Uint8Array): Promise<void>;
  /** Subscribe to received bytes; returns an unsubscribe function. */
  onData(listener: (chunk: Buffer) => void): () => void;
  close(): Promise<void>;
}

export interface SerialConfig {
  name: string;
  path: string;
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: "none" | "even" | "odd";
  stopBits?: 1 | 2;
}

export interface HalConfig {
  driver: GpioDriverName;
  outputs: OutputConfig[];
  inputs: InputConfig[];
  /**
   * onoff only: the sysfs GPIO root where gpiochips are looked up, for tests; default `/sys/class/gpio`.
   * (The `onoff` package itself always opens pins under `/sys/class/gpio`.)
   */
  sysfsRoot?: string;
  /**
   * onoff only: label of the gpiochip whose lines are the BCM pins. Default: the first SoC pin controller found,
   * in the order `pinctrl-rp1`, `pinctrl-bcm2712`, `pinctrl-bcm2711`, `pinctrl-bcm2835`.
   */
  gpiochipLabel?: string;
}

export type TransitionListener = (t: IoTransition) => void;

/**
 * Where a worker thread can drive an output line itself (plain data, sent to the worker):
 * `sysfs` — the line's sysfs `value` file (onoff driver); `sim` — the simulated wire, whose levels the worker
 * reports back with their timestamps.
 */
export type LineTarget = { kind: "sim" } | { kind: "sysfs"; valuePath: string };

/**
 * An output lent to a pulse engine that drives it from a worker thread (Wiegand): sub-millisecond pulses
 * cannot come from the event loop. While lent, the output's activate/deactivate/pulse throw (naming the
 * borrower); `toSafeState()` and `allSafe()` still work: they first call the borrower's `stop` hook, which must
 * synchronously stop the worker writing, then drive the safe level.
 */
export interface OutputLease {
  readonly name: string;
  readonly target: LineTarget;
  /** Electrical level for a logical state (activeLow and NO/NC applied). */
  level(active: boolean): Level;
  /**
   * Report a transition the worker made on the wire at `monoMs` (performance.now() time base): it is recorded
   * (sim history) and delivered to transition listeners as any other. No-op after the HAL stopped.
   */
  record(active: boolean, monoMs: number): void;
  /** Give the line back, driven to its safe state. Idempotent. */
  release(): void;
}

/**
 * The HAL as the firmware sees it.
 * `start()` opens every pin and drives every output to its safe state before resolving; it throws
 * with the pin's name if a pin cannot be opened. `stop()` drives outputs safe, then releases pins
 * (the onoff driver keeps output lines exported, so the kernel goes on holding the safe level after exit).
 * `output()`, `input()`, `outputs()`, `inputs()`, `state()` and `simulateInput()` throw before `start()` has
 * completed and after `stop()`; so do the methods and `active`/`changedAt` of devices obtained earlier.
 */
export interface Hal {
  readonly driver: GpioDriverName;
  start(): Promise<void>;
  stop(): Promise<void>;
  output(name: string): DigitalOutput;
  input(name: string): DigitalInput;
  outputs(): DigitalOutput[];
  inputs(): DigitalInput[];
  state(): IoState[];
  /**
   * Every logical transition of every pin, inputs after debouncing. Returns an unsubscribe function.
   * Opening a pin is not a transition: read initial states with `state()`. A listener that throws is
   * reported and the others still run.
   */
  onTransition(listener: TransitionListener): () => void;
  /** Drive every output to its safe state synchronously. Safe to call from exit handlers. Never throws. */
  allSafe(): void;
  /**
   * Lend an output to a pulse engine (see OutputLease); it is driven inactive first. `stop` is called
   * synchronously whenever the output is driven safe while lent; it must not throw. Throws unless running,
   * for an unknown name, if the output is already lent, or if the driver cannot lend its lines.
   */
  lendOutput(name: string, borrower: string, stop: () => void): OutputLease;
  /** sim only: set an input's raw state as its sensor would (debouncing still applies). */
  simulateInput?(name: string, active: boolean): void;
  /** sim only: every transition since start, in order, with monotonic timestamps. */
  history?(): readonly IoTransition[];
}
