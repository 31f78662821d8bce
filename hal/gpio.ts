/**
 * The electrical layer below the logical devices: one backend per GPIO driver (sim, onoff).
 * Backends speak only in levels; active-low, NO/NC and debouncing live above them, shared by all drivers.
 */
import type { InputConfig, Level, LineTarget, OutputConfig } from "./types.js";

export interface GpioOutputPin {
  /** Where a worker thread can drive this line itself; absent if the driver cannot lend its lines. */
  readonly lineTarget?: LineTarget;
  /** A worker drove the line to `level` (see lineTarget): keep the driver's own record of the wire in step. */
  noteLevel?(level: Level): void;
  /** Drive the pin. Synchronous, so exit handlers can use it. Throws if the pin is closed or the write fails. */
  write(level: Level): void;
  /** Release the pin. Idempotent. The level last written stays on the wire where the hardware allows it. */
  close(): void;
}

export interface GpioInputPin {
  /** Current raw level. Throws if the pin is closed or the read fails. */
  read(): Level;
  /** Stop watching and release the pin. Idempotent. */
  close(): void;
}

export interface GpioBackend {
  /**
   * Open an output already driving `initial`, in one step: the pin must never show another level first.
   * Throws an Error naming the output if the pin cannot be opened.
   */
  openOutput(config: OutputConfig, initial: Level): GpioOutputPin;
  /**
   * Open an input and watch both edges. `onLevel` receives raw levels (possibly repeated, possibly from
   * another tick); `onError` receives watch failures. Throws an Error naming the input if the pin cannot be opened.
   */
  openInput(
    config: InputConfig,
    onLevel: (level: Level) => void,
    onError: (err: unknown) => void,
  ): GpioInputPin;
}

/** Coil energised = active XOR (contact is NC); pin level = energised XOR activeLow. */
export function outputLevel(config: OutputConfig, active: boolean): Level {
  const energised = active !== (config.contact === "NC");
  return energised !== config.activeLow ? 1 : 0;
}

/** An input is active when its level is high, or low for an active-low sensor. */
export function inputActive(config: InputConfig, level: Level): boolean {
  return (level === 1) !== config.activeLow;
}

/** The level a sensor puts on the pin when it reports `active`. */
export function inputLevel(config: InputConfig, active: boolean): Level {
  return active !== config.activeLow ? 1 : 0;
}
