/**
 * The outbox dispatcher: one worker per target, each sending its target's messages strictly in id order, one
 * at a time; targets run in parallel and never wait on each other.
 *
 * Delivery is at-least-once. "In flight" is never written down: a message is marked sent only after its peer
 * accepted it, so one in flight at a crash, kill -9 or power cut is sent again at the next start (receivers
 * de-duplicate with the message id where they can). A failed attempt is recorded with its error and the next
 * attempt time (exponential backoff with jitter, capped); the target's later messages wait behind it, so order
 * holds. A permanent refusal marks that message failed and the target goes on with the next one. Messages
 * expire only when their target sets `expireAfterMs`.
 */

import type { Clock } from "../gate.js";
import { backoffMs } from "../ingest/backoff.js";
import type { ImageKind, ReadImage } from "../ingest/types.js";
import type { Logger } from "../util/log.js";
import type { OutboxRepo, OutboxRow } from "./repo.js";
import { DeliveryError, type Target } from "./types.js";

/** Messages read per query: small, so a long backlog never means a big read. */
const BATCH = 16;
/** How long a message waits for a picture that was still arriving when its event was decided. */
export const PICTURE_WAIT_MS = 10_000;

export type TargetState = "unknown" | "up" | "down";

export interface TargetStatus {
  target: string;
  type: string | null;
  /** up: the last attempt reached the peer; down: it did not; unconfigured: no action has this id now. */
  state: TargetState | "unconfigured";
  pending: number;
  oldestPendingAgeMs: number | null;
  lastError: string | null;
  lastErrorAt: string | null;
  lastSentAt: string | null;
  nextAttemptAt: string | null;
}

/** Told on a target's state change (up/down): never per message. */
export type StateListener = (status: TargetStatus) => void;

class Worker {
  state: TargetState = "unknown";
  lastError: string | null = null;
  lastErrorAt: number | null = null;
  lastSentAt: number | null = null;
  /** When the head message may go next (backoff or picture hold); null when not waiting. */
  waitingUntil: number | null = null;
  private running = false;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly abort = new AbortController();
  private stopped = false;
  private current: Promise<void> = Promise.resolve();

  constructor(
    readonly target: Target,
    private readonly repo: OutboxRepo,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly changed: () => void,
  ) {}

  /**
   * New messages were committed. While the head waits out a backoff nothing changes for it (new messages
   * join the tail), so only an idle or running worker reacts; `force` (a manual retry) wakes it regardless.
   */
  wake(force = false): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) {
      if (!force) return;
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.current = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort.abort(new Error("controller stopping"));
    await this.current;
  }

  private async run(): Promise<void> {
    this.running = true;
    this.waitingUntil = null;
    try {
      for (;;) {
        this.again = false;
        const batch = this.repo.head(this.target.id, BATCH);
        if (batch.length === 0) {
          if (this.again) continue;
          return;
        }
        const live = this.expire(batch);
        for (const message of live) {
          const now = this.clock.now();
          if (message.nextAttemptAt > now) return this.sleepUntil(message.nextAttemptAt);
          const delivered = await this.deliver(message);
          if (this.stopped) return;
          if (!delivered) return this.sleepUntil(this.waitingUntil ?? now);
        }
      }
    } catch (err) {
      // Only the database can throw here; try again later rather than stop this target for good.
      this.log.error({ err, target: this.target.id }, "outbox worker failed");
      this.sleepUntil(this.clock.now() + this.target.delivery.backoffMaxMs);
    } finally {
      this.running = false;
    }
  }

  private sleepUntil(at: number): void {
    if (this.stopped) return;
    this.waitingUntil = at;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.wake();
      },
      Math.max(0, at - this.clock.now()),
    );
  }

  /** Expire (by the target's policy) messages of the batch that are too old; returns the rest, in order. */
  private expire(batch: OutboxRow[]): OutboxRow[] {
    const limit = this.target.delivery.expireAfterMs;
    if (limit === undefined) return batch;
    const cutoff = this.clock.now() - limit;
    const old = batch.filter((m) => m.createdAt < cutoff);
    if (old.length)
      this.repo.markExpired(
        old.map((m) => m.id),
        `not delivered within expireAfterMs (${limit} ms)`,
      );
    return batch.filter((m) => m.createdAt >= cutoff);
  }

  /** One attempt. True when the target may go on with its next message. */
  private async deliver(message: OutboxRow): Promise<boolean> {
    const attempts = message.attempts + 1;
    const { delivery } = this.target;
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(delivery.timeoutMs)]);
    try {
      await this.target.sender.send(message, signal);
    } catch (err) {
      if (this.stopped) return false; // left as it was: sent again at the next start
      const timedOut = signal.aborted && !this.abort.signal.aborted;
      const problem = timedOut ? `no answer within ${delivery.timeoutMs} ms` : errorText(err);
      const now = this.clock.now();
      if (err instanceof DeliveryError && err.permanent) {
        this.repo.markFailed(message.id, now, attempts, problem);
        this.log.warn({ target: this.target.id, id: message.id, problem }, "outbox message refused");
        this.setState("up", problem, now); // the peer answered: it is up, it just refused this one
        return true;
      }
      const next = now + backoffMs(attempts - 1, delivery);
      this.repo.markRetrying(message.id, now, attempts, problem, next);
      this.waitingUntil = next;
      this.setState("down", problem, now);
      return false;
    }
    const now = this.clock.now();
    this.repo.markSent(message.id, now, attempts);
    this.lastSentAt = now;
    this.setState("up", null, now);
    return true;
  }

  private setState(state: TargetState, problem: string | null, at: number): void {
    if (problem !== null) {
      this.lastError = problem;
      this.lastErrorAt = at;
    }
    if (state === this.state) return;
    if (state === "down")
      this.log.warn({ target: this.target.id, problem }, "outbox target down; retrying with backoff");
    else if (this.state === "down") this.log.info({ target: this.target.id }, "outbox target up again");
    this.state = state;
    this.changed();
  }
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message;
  return (detail ? `${err.message} (${detail})` : err.message).slice(0, 500);
}

export class Outbox {
  private readonly workers = new Map<string, Worker>();

  constructor(
    private readonly repo: OutboxRepo,
    targets: readonly Target[],
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly onChange: StateListener = () => {},
  ) {
    for (const target of targets)
      this.workers.set(
        target.id,
        new Worker(target, repo, clock, log, () => this.onChange(this.statusOf(target.id))),
      );
  }

  /** Begin delivering, including whatever the previous run left undelivered. */
  start(): void {
    for (const worker of this.workers.values()) {
      worker.target.sender.start?.();
      worker.wake();
    }
  }

  /** Messages for these targets were committed. Cheap; called after every commit that carried messages. */
  notify(targets: Iterable<string>): void {
    for (const target of targets) this.workers.get(target)?.wake();
  }

  /** Abort attempts in flight (their messages stay undelivered, to be sent at the next start), then stop the senders. */
  async stop(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    await Promise.all([...this.workers.values()].map((w) => w.target.sender.stop?.()));
  }

  allocateId(): number {
    return this.repo.allocateId();
  }

  /** Manual retry (the API): false when the message is not failed, expired or backing off. */
  retry(id: number): boolean {
    const message = this.repo.get(id);
    if (!message || !this.repo.retry(id, this.clock.now())) return false;
    this.workers.get(message.target)?.wake(true);
    return true;
  }

  /**
   * Messages held for pictures still arriving: once their event is committed and the pictures are in (or the
   * adapter gave up on them), attach the wanted one and release the message. Never rejects.
   */
  attachLater(
    stored: Promise<void>,
    pictures: Promise<ReadImage[]>,
    held: readonly { id: number; target: string; kind: ImageKind }[],
  ): void {
    Promise.all([stored, pictures])
      .then(([, images]) => {
        const now = this.clock.now();
        for (const h of held) {
          const image = images.find((i) => i.kind === h.kind) ?? images[0];
          if (image) this.repo.attach(h.id, image.data, now);
          else this.repo.release(h.id, now);
          this.workers.get(h.target)?.wake(true);
        }
      })
      .catch((err) => this.log.debug({ err }, "held outbox messages released by their wait instead"));
  }

  statusOf(target: string, backlog = this.repo.backlogOf(target)): TargetStatus {
    const w = this.workers.get(target);
    const iso = (ms: number | null | undefined): string | null =>
      ms == null ? null : new Date(ms).toISOString();
    const now = this.clock.now();
    return {
      target,
      type: w?.target.type ?? null,
      state: w ? w.state : "unconfigured",
      pending: backlog.pending,
      oldestPendingAgeMs: backlog.oldestCreatedAt === null ? null : now - backlog.oldestCreatedAt,
      lastError: w?.lastError ?? null,
      lastErrorAt: iso(w?.lastErrorAt),
      lastSentAt: iso(w?.lastSentAt),
      nextAttemptAt: iso(w?.waitingUntil),
    };
  }

  /** Every configured target and every target that still has messages (configured or not). */
  targets(): TargetStatus[] {
    const backlog = new Map(this.repo.backlog().map((b) => [b.target, b]));
    const ids = new Set([...this.workers.keys(), ...backlog.keys()]);
    return [...ids]
      .sort()
      .map((id) => this.statusOf(id, backlog.get(id) ?? { pending: 0, oldestCreatedAt: null }));
  }
}
