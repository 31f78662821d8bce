/**
 * Events: written off the plate-to-relay path. Decisions are queued and committed together at the end
 * of the current event-loop turn (one transaction for everything decided in it), so the relay never
 * waits on the disk and a burst costs one commit. Each append's promise settles after its commit.
 */
import { and, desc, eq, getTableColumns, gte, like, lte, type SQL } from "drizzle-orm";
import type { Store } from "./db.js";
import { events } from "./schema.js";

export type EventRow = typeof events.$inferSelect;
/** Every column is given explicitly: the id is allocated before the commit. */
export type NewEvent = EventRow;

interface Pending {
  row: NewEvent;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class EventsRepo {
  private queue: Pending[] = [];
  private flushScheduled = false;
  private nextId: number;
  private readonly insertMany: (rows: NewEvent[]) => void;

  constructor(private readonly store: Store) {
    const max = store.sqlite.prepare<[], { max: number | null }>("select max(id) as max from events").get();
    this.nextId = (max?.max ?? 0) + 1;
    // A raw prepared insert, columns taken from the drizzle schema: a few microseconds per row in a batch.
    const columns = Object.entries(getTableColumns(events));
    const insert = store.sqlite.prepare(
      `insert into events (${columns.map(([, c]) => c.name).join(", ")}) values (${columns.map(([key]) => `@${key}`).join(", ")})`,
    );
    this.insertMany = store.sqlite.transaction((rows: NewEvent[]) => {
      for (const row of rows) insert.run(row);
    });
  }

  /** Ids are handed out here, so the live message can carry the id before the row is committed. */
  allocateId(): number {
    return this.nextId++;
  }

  append(row: NewEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
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
      this.insertMany(batch.map((p) => p.row));
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
    }
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

  /** One event, or null. */
  get(id: number): EventRow | null {
    return this.store.db.select().from(events).where(eq(events.id, id)).get() ?? null;
  }
}

/** Plates are letters and digits only after normalisation, but never trust that inside a LIKE pattern. */
function escapeLike(text: string): string {
  return text.replace(/[%_]/g, "");
}
