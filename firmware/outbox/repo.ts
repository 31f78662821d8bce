/**
 * The outbox table. Rows are inserted by EventsRepo in the event's own transaction (see `insertRow`); the
 * dispatcher reads each target's head through a partial index over undelivered rows only, so 100,000
 * pending or a million sent rows cost the same per read.
 */
import type { Store } from "../store/db.js";
import type { outbox } from "../store/schema.js";

export type OutboxRow = typeof outbox.$inferSelect;
export type OutboxStatus = OutboxRow["status"];
export const UNDELIVERED = "status in ('pending', 'failed-retrying')";

/** The row as selected: every column but the attachment, which only a sender needs. */
const COLUMNS =
  "id, target, event_id as eventId, created_at as createdAt, payload, status, attempts, next_attempt_at as nextAttemptAt, last_attempt_at as lastAttemptAt, last_error as lastError, sent_at as sentAt";

export type OutboxSummary = Omit<OutboxRow, "attachment"> & { attachmentBytes: number | null };

export interface TargetBacklog {
  target: string;
  pending: number;
  oldestCreatedAt: number | null;
}

export class OutboxRepo {
  private nextId: number;
  private readonly stmt;

  constructor(private readonly store: Store) {
    const db = store.sqlite;
    const max = db.prepare<[], { max: number | null }>("select max(id) as max from outbox").get();
    this.nextId = (max?.max ?? 0) + 1;
    const summary = `${COLUMNS}, length(attachment) as attachmentBytes`;
    this.stmt = {
      head: db.prepare<[string, number], OutboxRow>(
        `select ${COLUMNS}, attachment from outbox where target = ? and ${UNDELIVERED} order by id limit ?`,
      ),
      sent: db.prepare<[number, number, number, number]>(
        "update outbox set status = 'sent', sent_at = ?, last_attempt_at = ?, attempts = ?, attachment = null where id = ?",
      ),
      retrying: db.prepare<[number, number, string, number, number]>(
        "update outbox set status = 'failed-retrying', last_attempt_at = ?, attempts = ?, last_error = ?, next_attempt_at = ? where id = ?",
      ),
      failed: db.prepare<[number, number, string, number]>(
        "update outbox set status = 'failed', last_attempt_at = ?, attempts = ?, last_error = ? where id = ?",
      ),
      expired: db.prepare<[string, number]>(
        `update outbox set status = 'expired', last_error = ? where id = ? and ${UNDELIVERED}`,
      ),
      attach: db.prepare<[Buffer, number, number]>(
        `update outbox set attachment = ?, next_attempt_at = ? where id = ? and ${UNDELIVERED} and attachment is null`,
      ),
      release: db.prepare<[number, number]>(
        `update outbox set next_attempt_at = ? where id = ? and ${UNDELIVERED}`,
      ),
      retry: db.prepare<[number, number]>(
        "update outbox set status = case status when 'failed-retrying' then status else 'pending' end, next_attempt_at = ? where id = ? and status in ('failed-retrying', 'failed', 'expired')",
      ),
      one: db.prepare<[number], OutboxSummary>(`select ${summary} from outbox where id = ?`),
      byEvent: db.prepare<[number], OutboxSummary>(
        `select ${summary} from outbox where event_id = ? order by id`,
      ),
      backlog: db.prepare<[], TargetBacklog>(
        `select target, count(*) as pending, min(created_at) as oldestCreatedAt from outbox where ${UNDELIVERED} group by target`,
      ),
      backlogOf: db.prepare<[string], Omit<TargetBacklog, "target">>(
        `select count(*) as pending, min(created_at) as oldestCreatedAt from outbox where target = ? and ${UNDELIVERED}`,
      ),
      summary,
    };
  }

  /** Ids are handed out before the commit, like event ids, so a caller can refer to its messages at once. */
  allocateId(): number {
    return this.nextId++;
  }

  /** The first `limit` undelivered messages of a target, oldest first, attachments included. */
  head(target: string, limit: number): OutboxRow[] {
    return this.stmt.head.all(target, limit);
  }

  markSent(id: number, at: number, attempts: number): void {
    this.stmt.sent.run(at, at, attempts, id);
  }

  markRetrying(id: number, at: number, attempts: number, error: string, nextAttemptAt: number): void {
    this.stmt.retrying.run(at, attempts, error, nextAttemptAt, id);
  }

  markFailed(id: number, at: number, attempts: number, error: string): void {
    this.stmt.failed.run(at, attempts, error, id);
  }

  markExpired(ids: readonly number[], reason: string): void {
    this.store.sqlite.transaction(() => {
      for (const id of ids) this.stmt.expired.run(reason, id);
    })();
  }

  /** Give a held message its picture and release it; false when it is gone or already has one. */
  attach(id: number, data: Buffer, at: number): boolean {
    return this.stmt.attach.run(data, at, id).changes > 0;
  }

  /** Release a message held for a picture without one. */
  release(id: number, at: number): void {
    this.stmt.release.run(at, id);
  }

  /**
   * Send a failed, expired or backing-off message again as soon as its target gets to it (it keeps its place:
   * the oldest id goes first). False when the message is pending or sent already.
   */
  retry(id: number, at: number): boolean {
    return this.stmt.retry.run(at, id).changes > 0;
  }

  get(id: number): OutboxSummary | undefined {
    return this.stmt.one.get(id);
  }

  byEvent(eventId: number): OutboxSummary[] {
    return this.stmt.byEvent.all(eventId);
  }

  /** Undelivered messages per target: count and oldest. */
  backlog(): TargetBacklog[] {
    return this.stmt.backlog.all();
  }

  backlogOf(target: string): Omit<TargetBacklog, "target"> {
    return this.stmt.backlogOf.get(target) ?? { pending: 0, oldestCreatedAt: null };
  }

  /** Newest first; `beforeId` pages on. Served by the queue, target or status index as the filter allows. */
  list(query: {
    status?: OutboxStatus | undefined;
    target?: string | undefined;
    beforeId?: number | undefined;
    limit: number;
  }): OutboxSummary[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.status) {
      where.push("status = ?");
      params.push(query.status);
    }
    if (query.target) {
      where.push("target = ?");
      params.push(query.target);
    }
    if (query.beforeId !== undefined) {
      where.push("id < ?");
      params.push(query.beforeId);
    }
    const sql = `select ${this.stmt.summary} from outbox ${where.length ? `where ${where.join(" and ")}` : ""} order by id desc limit ?`;
    return this.store.sqlite.prepare<(string | number)[], OutboxSummary>(sql).all(...params, query.limit);
  }
}
