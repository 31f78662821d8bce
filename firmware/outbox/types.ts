/**
 * The outbox's contracts: what a network action hands over (a draft message), what a target's sender does
 * with a stored message, and how it says a delivery failed.
 */
import { Type } from "typebox";
import type { ImageKind } from "../ingest/types.js";
import type { OutboxRow } from "./repo.js";

/** What a network action makes of one decision; stored with the event in one transaction. */
export interface MessageDraft {
  /** JSON-serialisable: what to say. Addresses and credentials are read from the site file at send time. */
  payload: unknown;
  /** Bytes sent with the payload (a picture), if there are any at decision time. */
  attachment?: Buffer | null;
  /** The picture this message wants but the read does not have yet (it arrives later): hold it briefly. */
  awaitPicture?: ImageKind;
}

/**
 * Delivers one message to one target. Resolves when the peer has accepted it. Rejects with a DeliveryError
 * (or any error, treated as retryable) otherwise; must give up when `signal` aborts. Never logs secrets, and
 * its error messages name the peer without credentials.
 */
export interface Sender {
  send(message: OutboxRow, signal: AbortSignal): Promise<void>;
  /**
   * Optional, for a sender that keeps a connection open (MQTT): acquire it. Called once by Outbox.start();
   * never throws (a peer that cannot be reached makes `send` reject, as without it).
   */
  start?(): void;
  /** Optional: release what `start` acquired. Called once by Outbox.stop(), after attempts were aborted; never rejects. */
  stop?(): Promise<void>;
}

/** A failed delivery. `permanent`: the peer refused this very message and would refuse it again. */
export class DeliveryError extends Error {
  override readonly name = "DeliveryError";
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
  }
}

/** The delivery settings every network action has (its retry backoff and expiry policy). */
export const deliverySettings = {
  backoffMinMs: Type.Integer({
    minimum: 10,
    maximum: 600_000,
    default: 1000,
    description: "first retry delay after a failed delivery",
  }),
  backoffMaxMs: Type.Integer({
    minimum: 10,
    maximum: 3_600_000,
    default: 300_000,
    description: "longest retry delay (the delay doubles per failure, with jitter, up to this)",
  }),
  expireAfterMs: Type.Optional(
    Type.Integer({
      minimum: 1000,
      description: "give up on a message not delivered this long after its event; default: never",
    }),
  ),
  timeoutMs: Type.Integer({
    minimum: 100,
    maximum: 120_000,
    default: 10_000,
    description: "one delivery attempt's time limit (connect, send, answer)",
  }),
};

export interface DeliverySettings {
  backoffMinMs: number;
  backoffMaxMs: number;
  expireAfterMs?: number | undefined;
  timeoutMs: number;
}

/** A configured target: its id, its action type, how it delivers. */
export interface Target {
  id: string;
  type: string;
  delivery: DeliverySettings;
  sender: Sender;
}

/** A short, secret-free description of a URL for errors and logs: no user info, no query string. */
export function safeUrl(url: string | URL): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
