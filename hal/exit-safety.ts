/**
 * Last-resort safe drive of the outputs on every way out of the process.
 */
import { constants } from "node:os";
import type { Hal } from "./types.js";

export type ExitSafetyLog = (message: string, err?: unknown) => void;

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** Our signal handlers, so "does anyone else handle this signal?" ignores every installExitSafety(). */
const ourSignalHandlers = new WeakSet<(...args: never[]) => void>();

function defaultLog(message: string, err?: unknown): void {
  if (err === undefined) console.error(`[hal] ${message}`);
  else console.error(`[hal] ${message}:`, err);
}

/**
 * Install process handlers that call `hal.allSafe()` synchronously, before any other handler for the same
 * event (they are prepended). Returns an idempotent uninstall function.
 *
 * What each event does:
 * - `SIGINT`, `SIGTERM`, `SIGHUP`: drive safe and log. If the program has its own handler for that signal
 *   (e.g. the firmware's graceful stop), that handler then runs as usual and decides when to exit; this function
 *   does not stop the HAL or exit. If nothing else handles the signal, it exits with 128 + the signal number
 *   (130, 143, 129), as Node's default action would have ended the process.
 * - `uncaughtException` and `unhandledRejection`: drive safe, log the error, and `process.exit(1)` at once —
 *   a process in an unknown state must not keep driving a barrier. Other handlers for these events do not run.
 * - `exit` (any `process.exit()` or normal end): drive safe. Nothing asynchronous can run there.
 *
 * What it does not do: release pins (call `hal.stop()` in the graceful path); prevent code from re-activating
 * outputs after a signal (stop the sources of commands first); help on SIGKILL, power loss or a hung event loop
 * (that is the hardware watchdog's job, design.md "Safety rules"). After a signal the HAL stays running.
 */
export function installExitSafety(hal: Hal, log: ExitSafetyLog = defaultLog): () => void {
  const safeLog = (message: string, err?: unknown): void => {
    try {
      log(message, err);
    } catch {
      // A broken logger must not stop an exit path.
    }
  };
  const driveSafe = (): void => {
    try {
      hal.allSafe(); // never throws by contract; guarded anyway, this is the last line of defence
    } catch (err) {
      safeLog("allSafe() threw", err);
    }
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    driveSafe();
    safeLog(`${signal}: outputs driven to their safe state`);
    const others = process.listeners(signal).filter((l) => !ourSignalHandlers.has(l));
    if (others.length === 0) process.exit(128 + (constants.signals[signal] ?? 0));
  };
  const onFatal = (what: string) => (err: unknown) => {
    driveSafe();
    safeLog(`${what}; outputs driven to their safe state, exiting with code 1`, err);
    process.exit(1);
  };
  const onUncaught = onFatal("uncaught exception");
  const onRejection = onFatal("unhandled promise rejection");
  const onExit = (): void => driveSafe();

  ourSignalHandlers.add(onSignal);
  for (const signal of SIGNALS) process.prependListener(signal, onSignal);
  process.prependListener("uncaughtException", onUncaught);
  process.prependListener("unhandledRejection", onRejection);
  process.prependListener("exit", onExit);

  let installed = true;
  return () => {
    if (!installed) return;
    installed = false;
    for (const signal of SIGNALS) process.off(signal, onSignal);
    process.off("uncaughtException", onUncaught);
    process.off("unhandledRejection", onRejection);
    process.off("exit", onExit);
  };
}
