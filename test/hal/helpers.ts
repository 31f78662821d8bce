/** Test helpers for the HAL tests: a manual clock and "wait for the event" utilities. */
import type { Clock, TimerHandle } from "../../hal/clock.js";
import type { Hal, HalConfig, IoTransition } from "../../hal/types.js";

/**
 * A clock that only moves when told to; timers fire in time order during advance(). `earlyMs` makes timers
 * fire up to that much early, as Node's timers can against performance.now().
 */
export class ManualClock implements Clock {
  readonly #earlyMs: number;
  #now = 1_000;
  readonly #wallOffset = 1_700_000_000_000;
  #nextId = 1;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(earlyMs = 0) {
    this.#earlyMs = earlyMs;
  }

  monoMs(): number {
    return this.#now;
  }

  wallMs(): number {
    return this.#wallOffset + this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    // Early, but never before half the delay has passed, so retries converge as they do with real timers.
    const delay = Math.max(0, ms);
    this.#timers.set(id, { at: this.#now + Math.max(delay / 2, delay - this.#earlyMs), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** Move time forward by `ms`, firing every timer that falls due, in order (timers set meanwhile included). */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (let fired = 0; ; fired++) {
      // A timer that keeps re-arming itself at the same instant would otherwise hang the test run.
      if (fired > 100_000) throw new Error("ManualClock: timers keep firing without time passing");
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
      }
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#now = Math.max(this.#now, due[1].at);
      due[1].fn();
    }
    this.#now = end;
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }
}

/** Resolves with the next transition matching `match`; rejects after `timeoutMs` so a test fails, not hangs. */
export function nextTransition(
  hal: Hal,
  match: (t: IoTransition) => boolean,
  timeoutMs = 2_000,
): Promise<IoTransition> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching transition within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = hal.onTransition((t) => {
      if (!match(t)) return;
      clearTimeout(timer);
      off();
      resolve(t);
    });
  });
}

/** A lane as wired on a typical active-low relay HAT, plus one of each mapping for truth tables. */
export function laneConfig(): HalConfig & { driver: "sim" } {
  return {
    driver: "sim",
    outputs: [
      { name: "lane1.barrier", pin: 17, activeLow: true, contact: "NO", safeActive: false },
      { name: "lane1.lamp", pin: 27, activeLow: false, contact: "NC", safeActive: false },
      { name: "lane1.hold", pin: 5, activeLow: false, contact: "NO", safeActive: true },
    ],
    inputs: [
      { name: "lane1.loop", pin: 22, activeLow: true, debounceMs: 50 },
      { name: "lane1.button", pin: 23, activeLow: false, debounceMs: 0 },
    ],
  };
}
