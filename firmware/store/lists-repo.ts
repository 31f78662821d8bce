/**
 * Lists and entries. Exact lookups hit the plate index; fuzzy candidates come from three index lookups on
 * the confusable-folded skeleton (see fuzzyKeys), so a million entries need no in-memory copy and start-up
 * does not load them.
 *
 * Visitor passes: the gate counts a visit here, in memory (`useVisit`), in the same synchronous call in which
 * `decide` checked it, so any number of arrivals in one event-loop turn, on any lanes, see each other's
 * visits: a pass with one visit left allows exactly once. The visit is persisted in the transaction of its
 * event (the writer `useVisit` returns); until then, and afterwards, the in-memory count is what decisions
 * read. The dry run only calls `decide`, so it never uses a visit. After a restart the count is what was committed. If a commit fails the in-memory count stays (a pass
 * never gains visits because the disk failed) until the next restart.
 */
import { and, asc, eq, gt } from "drizzle-orm";
import { type Decision, decide } from "../domain/decide.js";
import { weightedDistance } from "../domain/fuzzy.js";
import type { ListDef, ListEntry, ListKind, ListMatch } from "../domain/lists.js";
import { type LaneBook, NO_LANES, PRIORITY_LIMIT, priorityOf, visitsLeft } from "../domain/passes.js";
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
  /** As configured; null = the kind's default. */
  priority: number | null;
  /** The priority decisions use. */
  effectivePriority: number;
  description: string | null;
  createdAt: number;
  entryCount: number;
}

export interface EntryRecord extends ListEntry {
  schedule: string | null;
  maxVisits: number | null;
  visitsUsed: number;
  /** null = unlimited. */
  visitsLeft: number | null;
  lanes: string[] | null;
  cardNumber: number | null;
  plateRaw: string;
  createdAt: number;
}

/** Largest card number an entry can hold: the widest card field of a Wiegand layout (48 bits). */
export const MAX_CARD_NUMBER = 2 ** 48 - 1;

export interface NewEntry {
  plate: string;
  description?: string | null | undefined;
  validFrom?: number | null | undefined;
  validTo?: number | null | undefined;
  /** A schedule's name; it must exist. */
  schedule?: string | null | undefined;
  /** Visits allowed (allow lists only); null = unlimited. */
  maxVisits?: number | null | undefined;
  /** Lane ids and lane group names; null = every lane. */
  lanes?: readonly string[] | null | undefined;
  cardNumber?: number | null | undefined;
}

/**
 * An entry row as the raw prepared statements read it: the columns of ENTRY_COLUMNS as an array (SQLite
 * hands out an array more cheaply than an object with named keys), lanes still JSON.
 */
type RawEntry = [
  id: number,
  listId: number,
  plate: string,
  description: string | null,
  validFrom: number | null,
  validTo: number | null,
  schedule: string | null,
  maxVisits: number | null,
  visitsUsed: number | null,
  lanes: string | null,
  cardNumber: number | null,
];
const ENTRY_COLUMNS =
  "id, list_id, plate, description, valid_from, valid_to, schedule, max_visits, visits_used, lanes, card_number";

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
  private readonly addVisit;
  /**
   * Visits used by entries whose count changed since start: the count decisions read (it runs ahead of the
   * database by the visits of events not yet committed). Entries not in it read their committed count.
   */
  private readonly visits = new Map<number, number>();

  constructor(
    store: Store,
    private readonly schedules: ScheduleSource = NO_SCHEDULE_SOURCE,
    /** The site's lanes and lane groups: entries' `lanes` are checked against it, decisions use it. */
    private readonly laneBook: LaneBook = NO_LANES,
  ) {
    this.db = store.db;
    const sqlite = store.sqlite;
    // Raw prepared statements: this is the plate-to-relay path, measured in microseconds.
    this.exact = sqlite
      .prepare<[string], RawEntry>(`select ${ENTRY_COLUMNS} from list_entries where plate = ?`)
      .raw();
    this.addVisit = sqlite.prepare<[number]>(
      "update list_entries set visits_used = visits_used + 1 where id = ?",
    );
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
    this.byId = sqlite
      .prepare<[number], RawEntry>(`select ${ENTRY_COLUMNS} from list_entries where id = ?`)
      .raw();
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
        effectivePriority: priorityOf(toListDef(row)),
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
      priority?: number | null | undefined;
    },
    nowMs: number,
  ): ListRecord {
    const maxDistance = input.maxDistance ?? 0;
    checkMaxDistance(maxDistance);
    checkPriority(input.priority);
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
        priority: input.priority ?? null,
        createdAt: nowMs,
      })
      .returning()
      .get();
    this.cache.set(row.id, toListDef(row));
    return this.get(row.id);
  }

  /** Change a list's description, fuzzy distance, schedule or priority (null unbinds / clears); name and kind stay. */
  update(
    id: number,
    input: {
      description?: string | null | undefined;
      maxDistance?: number | undefined;
      schedule?: string | null | undefined;
      priority?: number | null | undefined;
    },
  ): ListRecord {
    this.requireList(id);
    if (input.maxDistance !== undefined) checkMaxDistance(input.maxDistance);
    checkPriority(input.priority);
    this.requireSchedule(input.schedule, "schedule");
    const set: Partial<typeof lists.$inferInsert> = {};
    if (input.description !== undefined) set.description = input.description;
    if (input.maxDistance !== undefined) set.maxDistance = input.maxDistance;
    if (input.schedule !== undefined) set.schedule = input.schedule;
    if (input.priority !== undefined) set.priority = input.priority;
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
      .map((row) => this.toEntryRecord(row));
  }

  /** One entry of a list; NotFoundError if it is not on it. */
  entry(listId: number, entryId: number): EntryRecord {
    this.requireList(listId);
    const row = this.db
      .select()
      .from(listEntries)
      .where(and(eq(listEntries.listId, listId), eq(listEntries.id, entryId)))
      .get();
    if (!row) throw new NotFoundError(`entry ${entryId} is not on list ${listId}`);
    return this.toEntryRecord(row);
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
      this.checkPass(listId, entry, `entry ${i}: `);
      return {
        listId,
        plate: plate.normalised,
        plateRaw: plate.raw,
        ...fuzzyKeys(plate.normalised),
        description: entry.description ?? null,
        validFrom: entry.validFrom ?? null,
        validTo: entry.validTo ?? null,
        schedule: entry.schedule ?? null,
        maxVisits: entry.maxVisits ?? null,
        lanes: entry.lanes ? JSON.stringify(entry.lanes) : null,
        cardNumber: entry.cardNumber ?? null,
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
        return this.toEntryRecord(tx.insert(listEntries).values(row).returning().get());
      }),
    );
  }

  /** Change an entry's description, validity, schedule or pass (null clears one); its plate stays. */
  updateEntry(listId: number, entryId: number, input: Omit<NewEntry, "plate">): EntryRecord {
    this.requireList(listId);
    const where = and(eq(listEntries.listId, listId), eq(listEntries.id, entryId));
    const current = this.db.select().from(listEntries).where(where).get();
    if (!current) throw new NotFoundError(`entry ${entryId} is not on list ${listId}`);
    const validFrom = input.validFrom === undefined ? current.validFrom : input.validFrom;
    const validTo = input.validTo === undefined ? current.validTo : input.validTo;
    if (validFrom != null && validTo != null && validTo <= validFrom)
      throw new RangeError("validTo must be after validFrom");
    this.requireSchedule(input.schedule, "schedule");
    this.checkPass(listId, input, "");
    const set: Partial<typeof listEntries.$inferInsert> = { validFrom, validTo };
    if (input.description !== undefined) set.description = input.description;
    if (input.schedule !== undefined) set.schedule = input.schedule;
    if (input.maxVisits !== undefined) set.maxVisits = input.maxVisits;
    if (input.lanes !== undefined) set.lanes = input.lanes === null ? null : JSON.stringify(input.lanes);
    if (input.cardNumber !== undefined) set.cardNumber = input.cardNumber;
    return this.toEntryRecord(this.db.update(listEntries).set(set).where(where).returning().get() ?? current);
  }

  /**
   * Start an entry's visit count again at 0. Visits of events not yet committed would land on top of the reset:
   * flush the events first (the API route does).
   */
  resetVisits(listId: number, entryId: number): { before: number; entry: EntryRecord } {
    const before = this.entry(listId, entryId).visitsUsed;
    this.db.update(listEntries).set({ visitsUsed: 0 }).where(eq(listEntries.id, entryId)).run();
    this.visits.delete(entryId);
    return { before, entry: this.entry(listId, entryId) };
  }

  removeEntry(listId: number, entryId: number): void {
    this.requireList(listId);
    const removed = this.db
      .delete(listEntries)
      .where(and(eq(listEntries.listId, listId), eq(listEntries.id, entryId)))
      .returning({ id: listEntries.id })
      .all();
    if (removed.length === 0) throw new NotFoundError(`entry ${entryId} is not on list ${listId}`);
    this.visits.delete(entryId);
  }

  /** Every entry that may match `plate` (normalised): exact ones, and fuzzy ones within each list's distance. */
  candidates(plate: string): ListMatch[] {
    const matches: ListMatch[] = [];
    for (const row of this.exact.all(plate)) {
      const list = this.cache.get(row[1]);
      if (list) matches.push({ list, entry: this.fromRaw(row), match: { kind: "exact" } });
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
      const raw = result && this.byId.get(id);
      if (raw)
        matches.push({
          list,
          entry: this.fromRaw(raw),
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
  decide(
    plate: string,
    nowMs: number,
    book: ScheduleBook = this.schedules.current(),
    options: { lane?: string | undefined } = {},
  ): Decision {
    return decide(plate, this.candidates(plate), nowMs, book, { lane: options.lane, lanes: this.laneBook });
  }

  /**
   * Count the visit of an allow decision by a pass (one with a visit count), in memory, at once; returns the
   * write that persists it, for the event's transaction (EventsRepo.append's `also`), or undefined when the
   * decision uses no visit (a deny — also one a later check turned into a deny — or an entry without a count).
   * Call it in the same synchronous turn as `decide`, so nothing decides in between: the count is atomic.
   */
  useVisit(decision: Decision): (() => void) | undefined {
    const id =
      decision.result === "allow" && decision.pass?.consumes ? decision.decisive?.entry.id : undefined;
    if (id === undefined || !decision.pass) return undefined;
    this.visits.set(id, (this.visits.get(id) ?? decision.pass.visitsUsed) + 1);
    return () => {
      this.addVisit.run(id);
    };
  }

  /** The site's lanes and lane groups the entries are checked against. */
  lanes(): LaneBook {
    return this.laneBook;
  }

  /** An entry row read on the decision path, with its lanes parsed and its in-memory visit count. */
  private fromRaw(row: RawEntry): ListEntry {
    const [
      id,
      listId,
      plate,
      description,
      validFrom,
      validTo,
      schedule,
      maxVisits,
      visitsUsed,
      lanes,
      cardNumber,
    ] = row;
    return {
      id,
      listId,
      plate,
      description,
      validFrom,
      validTo,
      schedule,
      maxVisits,
      visitsUsed: this.visits.get(id) ?? visitsUsed ?? 0,
      lanes: lanes === null ? null : (JSON.parse(lanes) as string[]),
      cardNumber,
    };
  }

  private toEntryRecord(row: typeof listEntries.$inferSelect): EntryRecord {
    const visitsUsed = this.visits.get(row.id) ?? row.visitsUsed;
    return {
      id: row.id,
      listId: row.listId,
      plate: row.plate,
      plateRaw: row.plateRaw,
      description: row.description,
      validFrom: row.validFrom,
      validTo: row.validTo,
      schedule: row.schedule,
      maxVisits: row.maxVisits,
      visitsUsed,
      visitsLeft: visitsLeft({ maxVisits: row.maxVisits, visitsUsed }),
      lanes: row.lanes === null ? null : (JSON.parse(row.lanes) as string[]),
      cardNumber: row.cardNumber,
      createdAt: row.createdAt,
    };
  }

  /**
   * A pass's fields: a visit count only on allow lists (a block never stops blocking by a count; a custom list
   * opens nothing), at least 0; lanes and groups the site has; a card number a Wiegand layout can carry.
   */
  private checkPass(
    listId: number,
    entry: Pick<NewEntry, "maxVisits" | "lanes" | "cardNumber">,
    prefix: string,
  ): void {
    const list = this.cache.get(listId) as ListDef;
    if (entry.maxVisits != null) {
      if (!Number.isInteger(entry.maxVisits) || entry.maxVisits < 0)
        throw new RangeError(`${prefix}/maxVisits must be a whole number of at least 0`);
      if (list.kind !== "allow")
        throw new RangeError(
          `${prefix}/maxVisits: only entries of allow lists have visits ('${list.name}' is a ${list.kind} list)`,
        );
    }
    if (
      entry.cardNumber != null &&
      (!Number.isInteger(entry.cardNumber) || entry.cardNumber < 0 || entry.cardNumber > MAX_CARD_NUMBER)
    )
      throw new RangeError(`${prefix}/cardNumber must be a whole number from 0 to ${MAX_CARD_NUMBER}`);
    if (entry.lanes != null) {
      const { lanes, groups } = this.laneBook;
      for (const [i, name] of entry.lanes.entries()) {
        if (lanes.has(name) || groups.has(name)) continue;
        const known = [
          `lanes: ${[...lanes].join(", ") || "none"}`,
          `groups: ${[...groups.keys()].join(", ") || "none"}`,
        ].join("; ");
        throw new RangeError(`${prefix}/lanes/${i} '${name}' is neither a lane nor a lane group (${known})`);
      }
    }
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

function checkPriority(priority: number | null | undefined): void {
  if (priority == null) return;
  if (!Number.isInteger(priority) || priority < 0 || priority > PRIORITY_LIMIT)
    throw new RangeError(`priority must be a whole number from 0 to ${PRIORITY_LIMIT}`);
}

function toListDef(
  row: typeof lists.$inferSelect,
): ListDef & { schedule: string | null; priority: number | null } {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    maxDistance: row.maxDistance,
    schedule: row.schedule,
    priority: row.priority,
  };
}
