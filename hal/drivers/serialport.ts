/**
 * SerialLink over the `serialport` package. The package (and its native binding) is imported on the first
 * open(), so firmware that never opens a serial link never loads it.
 *
 * Failure semantics:
 * - open() rejects with an Error naming the link and path if the port cannot be opened, or if already open.
 * - write() rejects if the link is not open or the OS write fails; it resolves once the bytes are handed
 *   to the OS (not once they are on the wire).
 * - close() is idempotent and never rejects for a link that is already closed.
 * - If the device goes away (USB adapter unplugged), the link becomes closed, `onError` is told, and later
 *   writes reject; reconnecting is the caller's job: call open() again.
 * - A data listener that throws is reported through `onError`; the other listeners still receive the chunk.
 */
import type { SerialPort } from "serialport";
import type { SerialConfig, SerialLink } from "../types.js";

export interface SerialLinkOptions {
  /** Failures with no caller to throw to: port errors, unexpected close, a throwing data listener. */
  onError?: (message: string, err: unknown) => void;
}

/** Throws one Error listing every problem, naming the link; returns the config unchanged when valid. */
export function validateSerialConfig(config: SerialConfig): SerialConfig {
  const problems: string[] = [];
  if (typeof config?.name !== "string" || config.name === "") {
    problems.push("name must be a non-empty string");
  }
  if (typeof config?.path !== "string" || config.path === "") {
    problems.push("path must be a non-empty string");
  }
  if (typeof config?.baudRate !== "number" || !Number.isInteger(config.baudRate) || config.baudRate <= 0) {
    problems.push(`baudRate must be a positive integer, got ${JSON.stringify(config?.baudRate)}`);
  }
  if (config?.dataBits !== undefined && ![5, 6, 7, 8].includes(config.dataBits)) {
    problems.push("dataBits must be 5, 6, 7 or 8");
  }
  if (config?.parity !== undefined && !["none", "even", "odd"].includes(config.parity)) {
    problems.push('parity must be "none", "even" or "odd"');
  }
  if (config?.stopBits !== undefined && config.stopBits !== 1 && config.stopBits !== 2) {
    problems.push("stopBits must be 1 or 2");
  }
  if (problems.length > 0) {
    const label = typeof config?.name === "string" && config.name !== "" ? ` "${config.name}"` : "";
    throw new Error(`invalid serial config${label}:\n  - ${problems.join("\n  - ")}`);
  }
  return config;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class SerialPortLink implements SerialLink {
  readonly #config: SerialConfig;
  readonly #onError: (message: string, err: unknown) => void;
  readonly #listeners = new Set<(chunk: Buffer) => void>();
  #port: SerialPort | undefined;
  #opening: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(config: SerialConfig, options: SerialLinkOptions = {}) {
    this.#config = config;
    this.#onError = options.onError ?? ((message, err) => console.error(`[hal] ${message}:`, err));
  }

  get path(): string {
    return this.#config.path;
  }

  get #label(): string {
    return `serial "${this.#config.name}" (${this.#config.path})`;
  }

  open(): Promise<void> {
    if (this.#port || this.#opening) return Promise.reject(new Error(`${this.#label}: already open`));
    this.#opening = this.#open().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #open(): Promise<void> {
    const { SerialPort } = await import("serialport");
    const { path, baudRate, dataBits = 8, parity = "none", stopBits = 1 } = this.#config;
    let port: SerialPort;
    try {
      port = new SerialPort({ path, baudRate, dataBits, parity, stopBits, autoOpen: false });
    } catch (err) {
      throw new Error(`${this.#label}: invalid settings: ${errorMessage(err)}`, { cause: err });
    }
    await new Promise<void>((resolve, reject) => {
      port.open((err) => {
        if (err)
          reject(new Error(`${this.#label}: cannot open ${path}: ${errorMessage(err)}`, { cause: err }));
        else resolve();
      });
    });
    port.on("data", (chunk: Buffer) => this.#deliver(chunk));
    port.on("error", (err: unknown) => this.#onError(`${this.#label}: port error`, err));
    port.on("close", (err: unknown) => {
      // A close we did not ask for: the device went away.
      if (this.#port === port && !this.#closing) {
        this.#port = undefined;
        this.#onError(`${this.#label}: closed unexpectedly`, err);
      }
    });
    this.#port = port;
  }

  write(data: Uint8Array): Promise<void> {
    const port = this.#port;
    if (!port) return Promise.reject(new Error(`${this.#label}: write while not open`));
    return new Promise<void>((resolve, reject) => {
      port.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength), (err) => {
        if (err) reject(new Error(`${this.#label}: write failed: ${errorMessage(err)}`, { cause: err }));
        else resolve();
      });
    });
  }

  onData(listener: (chunk: Buffer) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Idempotent. Waits for an open() in progress, then closes. */
  async close(): Promise<void> {
    if (this.#closing) return this.#closing;
    if (this.#opening) await this.#opening.catch(() => undefined);
    const port = this.#port;
    if (!port) return;
    this.#closing = new Promise<void>((resolve, reject) => {
      port.close((err) => {
        if (err && port.isOpen) {
          this.#closing = undefined; // still open: close() may be retried
          reject(new Error(`${this.#label}: close failed: ${errorMessage(err)}`, { cause: err }));
          return;
        }
        this.#port = undefined;
        this.#closing = undefined;
        resolve();
      });
    });
    return this.#closing;
  }

  #deliver(chunk: Buffer): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(chunk);
      } catch (err) {
        this.#onError(`${this.#label}: data listener threw`, err);
      }
    }
  }
}
