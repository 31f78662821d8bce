/**
 * One message over a fresh TCP connection, for senders whose peer has no acknowledgement (a Milestone
 * Generic Event port, a VIVOTEK-style socket server): connect, write the bytes, half-close (FIN), then wait
 * for the peer to close its side.
 *
 * Resolves (delivered) when the peer closes its side cleanly after our bytes went out (a peer closing on our
 * FIN has read up to it), or,
 * for a peer that keeps the connection open, once our bytes have been handed to the kernel and `lingerMs`
 * passed without a reset. Rejects with a retryable DeliveryError on a refused, reset or aborted connection
 * (a reset after the bytes went out cannot tell whether the peer read them: retried, so at-least-once).
 * Whatever the peer sends back is read and ignored. The socket is always destroyed when this settles.
 */
import { connect } from "node:net";
import { DeliveryError } from "./types.js";

export interface TcpMessage {
  host: string;
  port: number;
  bytes: Buffer;
  signal: AbortSignal;
  /** How long a peer that keeps the connection open is given to reset it before the message counts as sent. */
  lingerMs: number;
}

/** Line terminators a setting may name, and their bytes. */
export const TERMINATORS = { none: "", cr: "\r", lf: "\n", crlf: "\r\n", nul: "\0" } as const;
export type Terminator = keyof typeof TERMINATORS;

export function sendTcp(message: TcpMessage): Promise<void> {
  const { host, port, bytes, signal, lingerMs } = message;
  const where = `TCP ${host}:${port}`;
  return new Promise((resolve, reject) => {
    let linger: NodeJS.Timeout | null = null;
    let settled = false;
    let written = false;
    const socket = connect({ host, port, signal });
    const settle = (err: DeliveryError | null): void => {
      if (settled) return;
      settled = true;
      if (linger) clearTimeout(linger);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    socket.on("error", (err: NodeJS.ErrnoException) =>
      settle(
        new DeliveryError(`${where}: ${err.name === "AbortError" ? "aborted" : (err.code ?? err.message)}`),
      ),
    );
    // Replies (an echo, a banner) are drained and ignored; the peer's FIN is the answer we wait for.
    socket.on("data", () => {});
    socket.once("connect", () =>
      socket.end(bytes, () => {
        written = true;
        linger = setTimeout(() => settle(null), lingerMs);
      }),
    );
    // A peer that closes before our bytes are out (a refusal by closing) has not taken the message.
    socket.once("end", () =>
      settle(
        written ? null : new DeliveryError(`${where}: the peer closed the connection before the message`),
      ),
    );
    socket.once("close", (hadError) => {
      if (!hadError) settle(new DeliveryError(`${where}: connection closed before the message was written`));
    });
  });
}
