/**
 * Logical debounced input, shared by every GPIO driver. A raw change is reported only once it has been
 * stable for `debounceMs` (measured on the monotonic clock); with `debounceMs` 0 it is reported synchronously.
 */
import type { TimerHandle } from "./clock.js";
import { inputActive } from "./gpio.js";
import type { DeviceContext } from "./output.js";
import type { DigitalInput, InputConfig, IoTransition, Level } from "./types.js";

export class LogicalInput implements DigitalInput {
  readonly #config: InputConfig;
  readonly #ctx: DeviceContext;
  #active: boolean;
  #changedAt: number;
  /** Latest raw (undebounced) logical state. */
  #raw: boolean;
  #rawChangedAt: number;
  #timer: TimerHandle | undefined;
  #closed = false;

  constructor(config: InputConfig, ctx: DeviceContext, initialLevel: Level, openedAt: number) {
    this.#config = config;
    this.#ctx = ctx;
    this.#active = inputActive(config, initialLevel);
    this.#raw = this.#active;
    this.#changedAt = openedAt;
    this.#rawChangedAt = ctx.clock.monoMs();
  }

  get name(): string {
    return this.#config.name;
  }

  get active(): boolean {
    this.#assertOpen("active");
    return this.#active;
  }

  get changedAt(): number {
    this.#assertOpen("changedAt");
    return this.#changedAt;
  }

  /** Feed a raw level from the pin. Repeated levels are ignored: they are not changes. */
  rawLevel(level: Level): void {
    if (this.#closed) return;
    const raw = inputActive(this.#config, level);
    if (raw === this.#raw) return;
    this.#raw = raw;
    this.#rawChangedAt = this.#ctx.clock.monoMs();
    this.#cancelTimer();
    if (raw === this.#active) return; // a glitch that reverted before it was reported
    if (this.#config.debounceMs === 0) {
      this.#report(raw);
      return;
    }
    this.#armTimer(this.#config.debounceMs);
  }

  /** Cancel the pending debounce; the input reports nothing more and its getters throw. */
  close(): void {
    this.#cancelTimer();
    this.#closed = true;
  }

  #armTimer(ms: number): void {
    this.#timer = this.#ctx.clock.setTimeout(() => this.#onTimer(), ms);
  }

  #onTimer(): void {
    this.#timer = undefined;
    // Timers can fire slightly early; report only after a full debounce period of stability.
    const remaining = this.#rawChangedAt + this.#config.debounceMs - this.#ctx.clock.monoMs();
    if (remaining > 0) {
      this.#armTimer(Math.ceil(remaining));
      return;
    }
    this.#report(this.#raw);
  }

  #report(active: boolean): void {
    this.#active = active;
    const t: IoTransition = {
      name: this.name,
      kind: "input",
      active,
      monoMs: this.#ctx.clock.monoMs(),
      wallMs: this.#ctx.clock.wallMs(),
    };
    this.#changedAt = t.wallMs;
    this.#ctx.emit(t);
  }

  #cancelTimer(): void {
    if (this.#timer === undefined) return;
    this.#ctx.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw new Error(`input "${this.name}": ${what} after the HAL was stopped`);
  }
}
