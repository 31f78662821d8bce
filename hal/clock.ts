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

/**
 * The real clock. Reads the globals at call time, so runner-installed fake timers also apply.
 * Node counts a timer from the event loop's clock, which is whole milliseconds read at the start of the
 * loop's turn, so a timer can fire up to a millisecond early against performance.now(). One millisecond
 * more removes that rounding: a pulse then ends on its timer's first firing instead of re-arming for the
 * remainder (what is left is a long turn's lag, which callers that must never be early still check).
 */
export const systemClock: Clock = {
  monoMs: () => performance.now(),
  wallMs: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms + 1),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
