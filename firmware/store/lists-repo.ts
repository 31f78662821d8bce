/**
 * Lists and entries. Exact lookups hit the plate index; fuzzy candidates come from three index lookups on
 * the confusable-folded skeleton (see fuzzyKeys), so a million entries need no in-memory copy and start-up
 * does not load them.
 */
import { and, asc, eq, gt } from "drizzle-orm";
import { type Decision, decide } from "../domain/decide.js";
import { weightedDistance } from "../domain/fuzzy.js";
import type { ListDef, ListEntry, ListKind, ListMatch } from "../domain/lists.js";
import { fuzzyKeys, normalisePlate } from "../domain/plate.js";
import { NO_SCHEDULES, type ScheduleBook } from "../domain/schedule-book.js";
import type { Db, Store } from "./db.js";
import { listEntries, lists } from "./schema.js";

/** Fuzzy matching needs enough characters for the prefix/suffix ranges to be selective. */
export const MIN_FUZZY_LENGTH = 5;
/** Weighted distance must stay below 2: above that the prefix/suffix candidate ranges can miss plates. */
export const MAX_DISTANCE_LIMIT = 1.99;

/** Sorts after every character a plate can hold: `[p, p + RANGE_END)` is "starts with p" on the index. */
const RANGE_END = "\u{10FFFF}";

export class NotFoundError extends Error {
  override readonly name = "NotFoundError";
}
export class ConflictError extends Error {
  override readonly name = "ConflictError";
}

export interface ListRecord extends ListDef {
  schedule: string | null;
  description: string | null;
  createdAt: number;
  entryCount: number;
}

export interface EntryRecord extends ListEntry {
  schedule: string | null;
  plateRaw: string;
  createdAt: number;
}

export interface NewEntry {
  plate: string;
  description?: string | null | undefined;
  validFrom?: number | null | undefined;
  validTo?: number | null | undefined;
  /** A schedule's name; it must exist. */
  schedule?: string | null | undefined;
}

/** Where the compiled schedules come from (firmware/store/schedules-repo.ts): the book as of the last change. */
export interface ScheduleSource {
  current(): ScheduleBook;
}

const NO_SCHEDULE_SOURCE: ScheduleSource = { current: () => NO_SCHEDULES };

export class ListsRepo {
  private readonly db: Db;
  /** Lists are few and read on every decision: kept in memory, updated on every change. */
  private readonly cache = new Map<number, ListDef>();
  private readonly exact;
  private readonly bySkeletonPrefix;
  private readonly bySkeletonSuffix;
  private readonly bySkeletonEnds;
  private readonly byId;
  private readonly entryCounts;

  constructor(
    store: Store,
    private readonly schedules: ScheduleSource = NO_SCHEDULE_SOURCE,
  ) {
    this.db = store.db;
    const sqlite = store.sqlite;
    const columns =
      "id, list_id as listId, plate, description, valid_from as validFrom, valid_to as validTo, schedule";
    // Raw prepared statements: this is the plate-to-relay path, measured in microseconds.
    this.exact = sqlite.prepare<[string], ListEntry>(`select ${columns} from list_entries where plate = ?`);
    // Fuzzy candidates: only id, list and plate, as arrays; full rows are fetched for actual matches.
    const range = (column: string) =>
      sqlite
        .prepare<[string, string, number, number], [number, number, string]>(
          `select id, list_id, plate from list_entries where ${column} >= ? and ${column} < ? and length(${column}) between ? and ?`,
        )
        .raw();
    this.bySkeletonPrefix = range("skeleton");
    this.bySkeletonSuffix = range("skeleton_reversed");
    this.bySkeletonEnds = sqlite
      .prepare<[string, number, number], [number, number, string]>(
        "select id, list_id, plate from list_entries where skeleton_ends = ? and length(skeleton) between ? and ?",
      )
      .raw();
    this.byId = sqlite.prepare<[number], ListEntry>(`select ${columns} from list_entries where id = ?`);
    this.entryCounts = sqlite.prepare<[], { listId: number; n: number }>(
      "select list_id as listId, count(*) as n from list_entries group by list_id",
    );
    for (const row of this.db.select().from(lists).all()) this.cache.set(row.id, toListDef(row));
  }

  listDefs(): ListDef[] {
    return [...this.cache.values()];
  }

  all(): ListRecord[] {
    const counts = new Map<number, number>();
    for (const row of this.entryCounts.all()) counts.set(row.listId, row.n);
    return this.db
      .select()
      .from(lists)
      .orderBy(asc(lists.id))
      .all()
      .map((row) => ({
        ...toListDef(row),
        description: row.description,
        createdAt: row.createdAt,
        entryCount: counts.get(row.id) ?? 0,
      }));
  }

  get(id: number): ListRecord {
    const record = this.all().find((l) => l.id === id);
    if (!record) throw new NotFoundError(`list ${id} does not exist`);
    return record;
  }

  create(
    input: {
      name: string;
      kind: ListKind;
      description?: string | null | undefined;
      maxDistance?: number | undefined;
      schedule?: string | null | undefined;
    },
    nowMs: number,
  ): ListRecord {
    const maxDistance = input.maxDistance ?? 0;
    checkMaxDistance(maxDistance);
    this.requireSchedule(input.schedule, "schedule");
    if (this.listDefs().some((l) => l.name === input.name))
      throw new ConflictError(`a list named '${input.name}' already exists`);
    const row = this.db
      .insert(lists)
      .values({
        name: input.name,
        kind: input.kind,
        description: input.description ?? null,
        maxDistance,
        schedule: input.schedule ?? null,
        createdAt: nowMs,
      })
      .returning()
      .get();
    this.cache.set(row.id, toListDef(row));
    return { ...toListDef(row), description: row.description, createdAt: row.createdAt, entryCount: 0 };
  }

  /** Change a list's description, fuzzy distance or schedule (null unbinds it); name and kind stay. */
  update(
    id: number,
    input: {
      description?: string | null | undefined;
      maxDistance?: number | undefined;
      schedule?: string | null | undefined;
    },
  ): ListRecord {
    this.requireList(id);
    if (input.maxDistance !== undefined) checkMaxDistance(input.maxDistance);
    this.requireSchedule(input.schedule, "schedule");
    const set: Partial<typeof lists.$inferInsert> = {};
    if (input.description !== undefined) set.description = input.description;
    if (input.maxDistance !== undefined) set.maxDistance = input.maxDistance;
    if (input.schedule !== undefined) set.schedule = input.schedule;
    if (Object.keys(set).length) {
      const row = this.db.update(lists).set(set).where(eq(lists.id, id)).returning().get();
      if (row) this.cache.set(row.id, toListDef(row));
    }
    return this.get(id);
  }

  entries(listId: number, options: { afterId?: number; limit: number }): EntryRecord[] {
    this.requireList(listId);
    return this.db
      .select()
      .from(listEntries)
      .where(and(eq(listEntries.listId, listId), gt(listEntries.id, options.afterId ?? 0)))
      .orderBy(asc(listEntries.id))
      .limit(options.limit)
      .all()
      .map(toEntryRecord);
  }

  /** Add entries in one transaction: all or none. Throws PlateError / ConflictError naming the entry. */
  addEntries(listId: number, input: readonly NewEntry[], nowMs: number): EntryRecord[] {
    this.requireList(listId);
    const rows = input.map((entry, i) => {
      let plate: ReturnType<typeof normalisePlate>;
      try {
        plate = normalisePlate(entry.plate);
      } catch (err) {
        throw new RangeError(`entry ${i}: ${(err as Error).message}`);
      }
      if (entry.validFrom != null && entry.validTo != null && entry.validTo <= entry.validFrom)
        throw new RangeError(`entry ${i}: validTo must be after validFrom`);
      this.requireSchedule(entry.schedule, `entry ${i}: schedule`);
      return {
        listId,
        plate: plate.normalised,
        plateRaw: plate.raw,
        ...fuzzyKeys(plate.normalised),
        description: entry.description ?? null,
        validFrom: entry.validFrom ?? null,
        validTo: entry.validTo ?? null,
        schedule: entry.schedule ?? null,
        createdAt: nowMs,
      };
    });
    return this.db.transaction((tx) =>
      rows.map((row, i) => {
        const existing = tx
          .select({ id: listEntries.id })
          .from(listEntries)
          .where(and(eq(listEntries.listId, listId), eq(listEntries.plate, row.plate)))
          .get();
        if (existing)
          throw new ConflictError(
            `entry ${i}: ${row.plate} is already on list ${listId} (entry ${existing.id})`,
          );
        return toEntryRecord(tx.insert(listEntries).values(row).returning().get());
      }),
    );
  }

  /** Change an entry's description, validity or schedule (null clears one); its plate stays. */
  updateEntry(
    listId: number,
    entryId: number,
    input: Pick<NewEntry, "description" | "validFrom" | "validTo" | "schedule">,
  ): EntryRecord {
    this.requireList(listId);
    const where = and(eq(listEntries.listId, listId), eq(listEntries.id, entryId));
    const current = this.db.select().from(listEntries).where(where).get();
    if (!current) throw new NotFoundError(`entry ${entryId} is not on list ${listId}`);
    const validFrom = input.validFrom === undefined ? current.validFrom : input.validFrom;
    const validTo = input.validTo === undefined ? current.validTo : input.validTo;
    if (validFrom != null && validTo != null && validTo <= validFrom)
      throw new RangeError("validTo must be after validFrom");
    this.requireSchedule(input.schedule, "schedule");
    const set: Partial<typeof listEntries.$inferInsert> = { validFrom, validTo };
    if (input.description !== undefined) set.description = input.description;
    if (input.schedule !== undefined) set.schedule = input.schedule;
    return toEntryRecord(this.db.update(listEntries).set(set).where(where).returning().get() ?? current);
  }

  removeEntry(listId: number, entryId: number): void {
    this.requireList(listId);
    const removed = this.db
      .delete(listEntries)
      .where(and(eq(listEntries.listId, listId), eq(listEntries.id, entryId)))
      .returning({ id: listEntries.id })
      .all();
    if (removed.length === 0) throw new NotFoundError(`entry ${entryId} is not on list ${listId}`);
  }

  /** Every entry that may match `plate` (normalised): exact ones, and fuzzy ones within each list's distance. */
  candidates(plate: string): ListMatch[] {
    const matches: ListMatch[] = [];
    for (const row of this.exact.all(plate)) {
      const list = this.cache.get(row.listId);
      if (list) matches.push({ list, entry: row, match: { kind: "exact" } });
    }
    if (!this.anyFuzzyList()) return matches;
    const keys = fuzzyKeys(plate);
    const chars = Array.from(keys.skeleton);
    const length = chars.length;
    if (length < MIN_FUZZY_LENGTH) return matches;
    const lo = length - 1;
    const hi = length + 1;
    const seen = new Set(matches.map((m) => m.entry.id));
    const head = chars.slice(0, length - 2).join("");
    const tail = chars.slice(2).reverse().join("");
    const rows = [
      ...this.bySkeletonPrefix.all(head, head + RANGE_END, lo, hi),
      ...this.bySkeletonSuffix.all(tail, tail + RANGE_END, lo, hi),
      ...this.bySkeletonEnds.all(keys.skeletonEnds, lo, hi),
    ];
    for (const [id, listId, listed] of rows) {
      if (seen.has(id)) continue;
      seen.add(id);
      const list = this.cache.get(listId);
      if (!list || list.maxDistance === 0) continue;
      const result = weightedDistance(plate, listed, list.maxDistance);
      const entry = result && this.byId.get(id);
      if (entry)
        matches.push({
          list,
          entry,
          match: { kind: "fuzzy", distance: result.distance, edits: result.edits },
        });
    }
    return matches;
  }

  /** Checked on every decision: a loop over the (few) cached lists, no array built. */
  private anyFuzzyList(): boolean {
    for (const list of this.cache.values()) if (list.maxDistance > 0) return true;
    return false;
  }

  /** The compiled schedules decisions are made with now; hold it to check actions with the same set. */
  scheduleBook(): ScheduleBook {
    return this.schedules.current();
  }

  /**
   * Decide for a normalised plate: the store's candidates through the pure decision core, with the compiled
   * schedules as of the last change (or `book`, when the caller holds one for its actions too).
   */
  decide(plate: string, nowMs: number, book: ScheduleBook = this.schedules.current()): Decision {
    return decide(plate, this.candidates(plate), nowMs, book);
  }

  private requireList(listId: number): void {
    if (!this.cache.has(listId)) throw new NotFoundError(`list ${listId} does not exist`);
  }

  /** A schedule named in a change must exist (null and undefined: nothing to check). */
  private requireSchedule(name: string | null | undefined, what: string): void {
    if (name == null) return;
    const book = this.schedules.current();
    if (book.byName.has(name)) return;
    const known = [...book.byName.keys()].map((n) => `'${n}'`).join(", ");
    throw new RangeError(
      `${what} '${name}' does not exist (${known ? `schedules: ${known}` : "there are no schedules"})`,
    );
  }
}

function checkMaxDistance(maxDistance: number): void {
  if (maxDistance < 0 || maxDistance > MAX_DISTANCE_LIMIT)
    throw new RangeError(`maxDistance must be between 0 and ${MAX_DISTANCE_LIMIT}`);
}

function toListDef(row: typeof lists.$inferSelect): ListDef & { schedule: string | null } {
  return { id: row.id, name: row.name, kind: row.kind, maxDistance: row.maxDistance, schedule: row.schedule };
}

function toEntryRecord(row: typeof listEntries.$inferSelect): EntryRecord {
  return {
    id: row.id,
    listId: row.listId,
    plate: row.plate,
    plateRaw: row.plateRaw,
    description: row.description,
    validFrom: row.validFrom,
    validTo: row.validTo,
    schedule: row.schedule,
    createdAt: row.createdAt,
  };
}
