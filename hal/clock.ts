/**
 * Time as the HAL sees it. Injected so tests can run debounce and pulse logic on a manual clock;
 * production uses {@link systemClock}.
 */

/** Opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

export interface Clock {
  /** Monotonic milliseconds (the `performance.now()` clock). */
  monoMs(): number;
  /** Wall-clock milliseconds since the Unix epoch (`Date.now()`). */
  wallMs(): number;
  /** Run `fn` once after about `ms` milliseconds. It may fire early by a fraction of a millisecond. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock. Reads the globals at call time, so runner-installed fake timers also apply. */
export const systemClock: Clock = {
  monoMs: () => performance.now(),
  wallMs: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
