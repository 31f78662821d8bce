/**
 * Events: written off the plate-to-relay path. Decisions are queued and committed together at the end
 * of the current event-loop turn (one transaction for everything decided in it), so the relay never
 * waits on the disk and a burst costs one commit. Each append's promise settles after its commit.
 * An event's outbox messages (network actions) are inserted in the same transaction: both or neither.
 */
import { and, desc, eq, getTableColumns, gte, like, lte, type SQL } from "drizzle-orm";
import type { Store } from "./db.js";
import { events, outbox } from "./schema.js";

export type EventRow = typeof events.$inferSelect;
/** Every column is given explicitly: the id is allocated before the commit. */
export type NewEvent = EventRow;
/** An outbox message as inserted with its event (ids allocated by OutboxRepo). */
export type NewOutboxMessage = typeof outbox.$inferInsert & { id: number };

interface Pending {
  row: NewEvent;
  messages: readonly NewOutboxMessage[];
  /** Other rows written with the event, inside its transaction (presence and zone counts). */
  also: (() => void) | undefined;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class EventsRepo {
  private queue: Pending[] = [];
  private flushScheduled = false;
  private nextId: number;
  private readonly insertMany: (batch: Pending[]) => void;
  /** Told after a commit which outbox targets got new messages (the dispatcher wakes them). */
  onMessages: (targets: ReadonlySet<string>) => void = () => {};

  constructor(private readonly store: Store) {
    const max = store.sqlite.prepare<[], { max: number | null }>("select max(id) as max from events").get();
    this.nextId = (max?.max ?? 0) + 1;
    // A raw prepared insert, columns taken from the drizzle schema: a few microseconds per row in a batch.
    // Positional parameters: passing the values as arguments binds them faster than naming each one.
    const columns = Object.entries(getTableColumns(events));
    const keys = columns.map(([key]) => key as keyof NewEvent);
    const insert = store.sqlite.prepare(
      `insert into events (${columns.map(([, c]) => c.name).join(", ")}) values (${columns.map(() => "?").join(", ")})`,
    );
    const messageColumns = Object.entries(getTableColumns(outbox));
    const insertMessage = store.sqlite.prepare(
      `insert into outbox (${messageColumns.map(([, c]) => c.name).join(", ")}) values (${messageColumns.map(([key]) => `@${key}`).join(", ")})`,
    );
    const blank = Object.fromEntries(messageColumns.map(([key]) => [key, null]));
    this.insertMany = store.sqlite.transaction((batch: Pending[]) => {
      for (const p of batch) {
        insert.run(...keys.map((key) => p.row[key]));
        for (const m of p.messages) insertMessage.run({ ...blank, attempts: 0, ...m });
        p.also?.();
      }
    });
  }

  /** Ids are handed out here, so the live message can carry the id before the row is committed. */
  allocateId(): number {
    return this.nextId++;
  }

  /**
   * Queue an event for the turn's commit. `also` runs inside the same transaction after the event's rows
   * (synchronous prepared statements only); if it throws, the whole batch rolls back and every append rejects.
   */
  append(row: NewEvent, messages: readonly NewOutboxMessage[] = [], also?: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, messages, also, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commit everything queued. Called by the scheduler and on shutdown; safe to call any time. */
  flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    try {
      this.insertMany(batch);
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
      return;
    }
    for (const p of batch) p.resolve();
    const targets = new Set<string>();
    for (const p of batch) for (const m of p.messages) targets.add(m.target);
    if (targets.size) this.onMessages(targets);
  }

  get pending(): number {
    return this.queue.length;
  }

  search(query: {
    plate?: string | undefined;
    from?: number | undefined;
    to?: number | undefined;
    limit: number;
  }): EventRow[] {
    const where: SQL[] = [];
    if (query.plate) where.push(like(events.plate, `%${escapeLike(query.plate)}%`));
    if (query.from !== undefined) where.push(gte(events.receivedAt, query.from));
    if (query.to !== undefined) where.push(lte(events.receivedAt, query.to));
    return this.store.db
      .select()
      .from(events)
      .where(where.length ? and(...where) : undefined)
      .orderBy(desc(events.receivedAt), desc(events.id))
      .limit(query.limit)
      .all();
  }

  /**
   * Rewrite a committed event's decision, reason, explanation and relay time: only for the outcome of an
   * operator approval, the one decision made after its event was stored. Flush first if it may be queued.
   */
  rewriteDecision(
    id: number,
    change: { decision: EventRow["decision"]; reason: string; explanation: string; relayAt: number | null },
  ): void {
    this.store.db.update(events).set(change).where(eq(events.id, id)).run();
  }

  /** One event, or null. */
  get(id: number): EventRow | null {
    return this.store.db.select().from(events).where(eq(events.id, id)).get() ?? null;
  }
}

/** Plates are letters and digits only after normalisation, but never trust that inside a LIKE pattern. */
function escapeLike(text: string): string {
  return text.replace(/[%_]/g, "");
}
