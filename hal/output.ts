/**
 * Logical digital output, shared by every GPIO driver: maps logical active ↔ electrical level,
 * runs pulses, and reports each transition once.
 */
import type { Clock, TimerHandle } from "./clock.js";
import { type GpioOutputPin, outputLevel } from "./gpio.js";
import type { DigitalOutput, IoTransition, Level, OutputConfig, OutputLease } from "./types.js";

/** What a logical device needs from the HAL around it. */
export interface DeviceContext {
  clock: Clock;
  /** Deliver a transition to the HAL's listeners. Must not throw. */
  emit(t: IoTransition): void;
  /** Report a failure that has no caller to throw to (timer callbacks, exit paths). */
  onError(message: string, err: unknown): void;
}

export class LogicalOutput implements DigitalOutput {
  readonly #config: OutputConfig;
  readonly #pin: GpioOutputPin;
  readonly #ctx: DeviceContext;
  #active: boolean;
  #changedAt: number;
  #closed = false;
  #pulseTimer: TimerHandle | undefined;
  /** Monotonic time at which the running pulse may end. */
  #pulseEndsAt = 0;
  /** The next blink cycle's timer, while a blink has cycles left. */
  #blinkTimer: TimerHandle | undefined;
  /** Set while a pulse engine (Wiegand worker) drives the line; see lend(). */
  #lentTo: { borrower: string; stop: () => void } | undefined;

  /** `pin` must already drive the safe level; the output starts in its safe state. */
  constructor(config: OutputConfig, pin: GpioOutputPin, ctx: DeviceContext, openedAt: number) {
    this.#config = config;
    this.#pin = pin;
    this.#ctx = ctx;
    this.#active = config.safeActive;
    this.#changedAt = openedAt;
  }

  get name(): string {
    return this.#config.name;
  }

  /** Throws after close: the value would no longer describe the wire. */
  get active(): boolean {
    this.#assertOpen("active");
    return this.#active;
  }

  get changedAt(): number {
    this.#assertOpen("changedAt");
    return this.#changedAt;
  }

  /** Make the contact. Cancels a running pulse: the contact then stays made until told otherwise. */
  activate(): void {
    this.#assertOpen("activate");
    this.#assertNotLent("activate");
    this.#cancelPulse();
    this.#set(true);
  }

  deactivate(): void {
    this.#assertOpen("deactivate");
    this.#assertNotLent("deactivate");
    this.#cancelPulse();
    this.#set(false);
  }

  /**
   * Throws RangeError unless `ms` is finite and > 0. If the contact is already made (by a pulse or
   * by activate()), it stays made and the contact breaks `ms` from now.
   */
  pulse(ms: number): void {
    if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) {
      throw new RangeError(`output "${this.name}": pulse width must be a finite number of ms > 0, got ${ms}`);
    }
    this.#assertOpen("pulse");
    this.#assertNotLent("pulse");
    this.#cancelBlink();
    this.#startPulse(ms);
  }

  blink(onMs: number, offMs: number, count: number): void {
    for (const [what, value] of [
      ["on time", onMs],
      ["off time", offMs],
    ] as const)
      if (typeof value !== "number" || !Number.isFinite(value) || value <= 0)
        throw new RangeError(
          `output "${this.name}": blink ${what} must be a finite number of ms > 0, got ${value}`,
        );
    if (!Number.isInteger(count) || count < 1)
      throw new RangeError(`output "${this.name}": blink count must be a whole number ≥ 1, got ${count}`);
    this.#assertOpen("blink");
    this.#assertNotLent("blink");
    this.#cancelBlink();
    const cycle = (left: number): void => {
      this.#blinkTimer = undefined;
      try {
        this.#startPulse(onMs);
      } catch (err) {
        this.#ctx.onError(`output "${this.name}": cannot blink`, err);
        return;
      }
      if (left > 1) this.#blinkTimer = this.#ctx.clock.setTimeout(() => cycle(left - 1), onMs + offMs);
    };
    cycle(count);
  }

  #startPulse(ms: number): void {
    this.#set(true);
    // Measured after the "on" transition was stamped, so the recorded width is never short.
    this.#pulseEndsAt = this.#ctx.clock.monoMs() + ms;
    this.#armPulseTimer(ms);
  }

  /** Never throws. Re-writes the safe level even if the state already matches (cheap, and heals drift). */
  toSafeState(): void {
    if (this.#closed) return;
    try {
      // The borrower's worker must stop writing before we write, or it could overwrite the safe level.
      this.#lentTo?.stop();
    } catch (err) {
      this.#ctx.onError(`output "${this.name}": borrower ${this.#lentTo?.borrower} failed to stop`, err);
    }
    this.#cancelPulse();
    try {
      this.#set(this.#config.safeActive, true);
    } catch (err) {
      this.#ctx.onError(`output "${this.name}": cannot drive the safe state`, err);
    }
  }

  /**
   * Lend the line to a pulse engine (see OutputLease in types.ts). Drives it inactive first. Throws if closed,
   * already lent, or if the driver's pin has no lineTarget.
   */
  lend(borrower: string, stop: () => void): OutputLease {
    this.#assertOpen("lend");
    if (this.#lentTo) throw new Error(`output "${this.name}" is already lent to ${this.#lentTo.borrower}`);
    const target = this.#pin.lineTarget;
    if (!target)
      throw new Error(`output "${this.name}": this driver cannot lend the line to a worker thread`);
    this.#cancelPulse();
    this.#set(false);
    const lease = { borrower, stop };
    this.#lentTo = lease;
    const current = (): boolean => !this.#closed && this.#lentTo === lease;
    return {
      name: this.name,
      target,
      level: (active) => outputLevel(this.#config, active),
      record: (active, monoMs) => {
        if (current()) this.#recordExternal(active, monoMs);
      },
      release: () => {
        if (!current()) return;
        this.#lentTo = undefined;
        this.toSafeState();
      },
    };
  }

  /** Called by the HAL after toSafeState(); every method throws afterwards. The pin is released by the HAL. */
  close(): void {
    this.#cancelPulse();
    this.#closed = true;
  }

  #set(active: boolean, rewrite = false): void {
    if (active === this.#active && !rewrite) return;
    this.#pin.write(outputLevel(this.#config, active));
    if (active === this.#active) return;
    this.#active = active;
    const t: IoTransition = {
      name: this.name,
      kind: "output",
      active,
      monoMs: this.#ctx.clock.monoMs(),
      wallMs: this.#ctx.clock.wallMs(),
    };
    this.#changedAt = t.wallMs;
    this.#ctx.emit(t);
  }

  /** A transition a worker already made on the wire: no write, only the bookkeeping and the report. */
  #recordExternal(active: boolean, monoMs: number): void {
    const level: Level = outputLevel(this.#config, active);
    this.#pin.noteLevel?.(level);
    if (active === this.#active) return;
    this.#active = active;
    const wallMs = this.#ctx.clock.wallMs() - (this.#ctx.clock.monoMs() - monoMs);
    this.#changedAt = wallMs;
    this.#ctx.emit({ name: this.name, kind: "output", active, monoMs, wallMs });
  }

  #armPulseTimer(ms: number): void {
    if (this.#pulseTimer !== undefined) this.#ctx.clock.clearTimeout(this.#pulseTimer);
    this.#pulseTimer = this.#ctx.clock.setTimeout(() => this.#onPulseTimer(), ms);
  }

  #onPulseTimer(): void {
    this.#pulseTimer = undefined;
    // Timers can fire up to ~1 ms early against performance.now(); never cut a pulse short.
    const remaining = this.#pulseEndsAt - this.#ctx.clock.monoMs();
    if (remaining > 0) {
      this.#armPulseTimer(Math.ceil(remaining));
      return;
    }
    try {
      this.#set(false);
    } catch (err) {
      this.#ctx.onError(`output "${this.name}": cannot end pulse`, err);
    }
  }

  #cancelBlink(): void {
    if (this.#blinkTimer === undefined) return;
    this.#ctx.clock.clearTimeout(this.#blinkTimer);
    this.#blinkTimer = undefined;
  }

  /** Ends a running pulse and any blink it belongs to. */
  #cancelPulse(): void {
    this.#cancelBlink();
    if (this.#pulseTimer === undefined) return;
    this.#ctx.clock.clearTimeout(this.#pulseTimer);
    this.#pulseTimer = undefined;
  }

  #assertNotLent(what: string): void {
    if (this.#lentTo) {
      throw new Error(
        `output "${this.name}": ${what} refused, the line is driven by ${this.#lentTo.borrower}`,
      );
    }
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw new Error(`output "${this.name}": ${what} after the HAL was stopped`);
  }
}
