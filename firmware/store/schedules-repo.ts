/**
 * Schedules and holiday calendars: definitions stored as the JSON the schedule module validates, compiled once
 * per change into the ScheduleBook every decision reads (never per decision). Lists, entries and the site
 * file's actions refer to schedules by name; this repository keeps those references whole: a schedule or
 * calendar in use cannot be deleted (ConflictError naming its users), and a definition never names a
 * calendar that does not exist. Names cannot change (delete and create instead): the site file uses them.
 */
import { asc, eq } from "drizzle-orm";
import { Type } from "typebox";
import { Compile } from "typebox/compile";
import { ConfigError } from "../config/validate.js";
import {
  compileScheduleSet,
  type HolidayCalendarDef,
  HolidayCalendarSchema,
  type ScheduleDef,
  ScheduleSchema,
  scheduleProblems,
} from "../domain/schedule.js";
import type { ScheduleBook } from "../domain/schedule-book.js";
import type { Store } from "./db.js";
import { ConflictError, NotFoundError } from "./lists-repo.js";
import { holidayCalendars, schedules } from "./schema.js";
import { readSetting, writeSetting } from "./settings.js";

export interface ScheduleRecord extends ScheduleDef {
  createdAt: number;
  updatedAt: number;
}

export interface HolidayCalendarRecord extends HolidayCalendarDef {
  createdAt: number;
  updatedAt: number;
}

/** Users named in a refusal, at most this many of each kind (then "and N more"). */
const MAX_USERS_NAMED = 10;
const SEEDED_KEY = "schedules.seeded";

const scheduleDefaults = Compile(ScheduleSchema);
const calendarDefaults = Compile(HolidayCalendarSchema);
const NameOnly = Compile(Type.Object({ name: Type.String() }));

/**
 * Rewrite the paths of a one-element set's problems so they point into the definition itself:
 * "/schedules/0/windows/1 overlaps /schedules/0/windows/0" → "/windows/1 overlaps /windows/0".
 */
function relativeTo(prefix: string, problems: readonly string[]): string[] {
  const pattern = new RegExp(`${prefix.replaceAll("/", "\\/")}(?=[/ ]|$)`, "g");
  return problems.map((p) =>
    p.replace(pattern, (_m, offset: number, whole: string) =>
      whole[offset + prefix.length] === "/" ? "" : "/",
    ),
  );
}

export class SchedulesRepo {
  private book: ScheduleBook;

  /**
   * `timeZone`: the site's, every schedule's windows are in it. `siteUsers`: who in the site file (actions)
   * uses a schedule, by name; they count as users when a deletion is asked for.
   */
  constructor(
    private readonly store: Store,
    private readonly timeZone: string,
    private readonly siteUsers: (schedule: string) => string[] = () => [],
  ) {
    this.book = this.compile();
  }

  /** The compiled schedules as of the last change: what decisions read. */
  current(): ScheduleBook {
    return this.book;
  }

  has(name: string): boolean {
    return this.book.byName.has(name);
  }

  names(): string[] {
    return [...this.book.byName.keys()];
  }

  // ─── Schedules ─────────────────────────────────────────────────────────────────────────────────────────

  schedules(): ScheduleRecord[] {
    return this.store.db
      .select()
      .from(schedules)
      .orderBy(asc(schedules.id))
      .all()
      .map((row) => ({
        ...(JSON.parse(row.definition) as ScheduleDef),
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
      }));
  }

  schedule(name: string): ScheduleRecord {
    const row = this.store.db.select().from(schedules).where(eq(schedules.name, name)).get();
    if (!row)
      throw new NotFoundError(`schedule '${name}' does not exist${this.known("schedules", this.names())}`);
    return {
      ...(JSON.parse(row.definition) as ScheduleDef),
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }

  /** Create a schedule; ConfigError listing every problem with its path, ConflictError if the name is taken. */
  createSchedule(body: unknown, nowMs: number): ScheduleRecord {
    const def = this.checkSchedule(body);
    if (this.scheduleRow(def.name)) throw new ConflictError(`a schedule named '${def.name}' already exists`);
    this.store.db
      .insert(schedules)
      .values({ name: def.name, definition: JSON.stringify(def), createdAt: nowMs, updatedAt: nowMs })
      .run();
    this.book = this.compile();
    return { ...def, createdAt: nowMs, updatedAt: nowMs };
  }

  /** Replace (or create) the schedule `name`; the body's name, if given, must be the same. */
  putSchedule(name: string, body: unknown, nowMs: number): { record: ScheduleRecord; created: boolean } {
    const def = this.checkSchedule(this.withName(body, name, "schedule"));
    const existing = this.scheduleRow(name);
    if (!existing) return { record: this.createSchedule(def, nowMs), created: true };
    this.store.db
      .update(schedules)
      .set({ definition: JSON.stringify(def), updatedAt: nowMs })
      .where(eq(schedules.name, name))
      .run();
    this.book = this.compile();
    return { record: { ...def, createdAt: existing.createdAt, updatedAt: nowMs }, created: false };
  }

  deleteSchedule(name: string): void {
    this.schedule(name);
    const users = this.scheduleUsers(name);
    if (users.length)
      throw new ConflictError(`schedule '${name}' is in use by ${users.join(", ")}; unbind it first`);
    this.store.db.delete(schedules).where(eq(schedules.name, name)).run();
    this.book = this.compile();
  }

  /** Every list, entry and site action bound to the schedule (entries: the first few, then a count). */
  scheduleUsers(name: string): string[] {
    const sqlite = this.store.sqlite;
    const listUsers = sqlite
      .prepare<[string], { id: number; name: string }>(
        "select id, name from lists where schedule = ? order by id",
      )
      .all(name)
      .map((l) => `list ${l.id} '${l.name}'`);
    const entryCount =
      sqlite
        .prepare<[string], { n: number }>("select count(*) as n from list_entries where schedule = ?")
        .get(name)?.n ?? 0;
    const entryUsers = sqlite
      .prepare<[string, number], { id: number; plate: string; list: string }>(
        "select e.id, e.plate, l.name as list from list_entries e join lists l on l.id = e.list_id where e.schedule = ? order by e.id limit ?",
      )
      .all(name, MAX_USERS_NAMED)
      .map((e) => `entry ${e.id} (${e.plate}) on list '${e.list}'`);
    if (entryCount > entryUsers.length) entryUsers.push(`${entryCount - entryUsers.length} more entries`);
    return [...listUsers, ...entryUsers, ...this.siteUsers(name)];
  }

  // ─── Holiday calendars ─────────────────────────────────────────────────────────────────────────────────

  calendars(): HolidayCalendarRecord[] {
    return this.store.db
      .select()
      .from(holidayCalendars)
      .orderBy(asc(holidayCalendars.id))
      .all()
      .map((row) => ({
        ...(JSON.parse(row.definition) as HolidayCalendarDef),
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
      }));
  }

  calendar(name: string): HolidayCalendarRecord {
    const row = this.calendarRow(name);
    if (!row)
      throw new NotFoundError(
        `holiday calendar '${name}' does not exist${this.known("calendars", this.calendarNames())}`,
      );
    return {
      ...(JSON.parse(row.definition) as HolidayCalendarDef),
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }

  createCalendar(body: unknown, nowMs: number): HolidayCalendarRecord {
    const def = this.checkCalendar(body);
    if (this.calendarRow(def.name))
      throw new ConflictError(`a holiday calendar named '${def.name}' already exists`);
    this.store.db
      .insert(holidayCalendars)
      .values({ name: def.name, definition: JSON.stringify(def), createdAt: nowMs, updatedAt: nowMs })
      .run();
    this.book = this.compile();
    return { ...def, createdAt: nowMs, updatedAt: nowMs };
  }

  putCalendar(
    name: string,
    body: unknown,
    nowMs: number,
  ): { record: HolidayCalendarRecord; created: boolean } {
    const def = this.checkCalendar(this.withName(body, name, "holiday calendar"));
    const existing = this.calendarRow(name);
    if (!existing) return { record: this.createCalendar(def, nowMs), created: true };
    this.store.db
      .update(holidayCalendars)
      .set({ definition: JSON.stringify(def), updatedAt: nowMs })
      .where(eq(holidayCalendars.name, name))
      .run();
    this.book = this.compile();
    return { record: { ...def, createdAt: existing.createdAt, updatedAt: nowMs }, created: false };
  }

  deleteCalendar(name: string): void {
    this.calendar(name);
    const users = this.calendarUsers(name);
    if (users.length)
      throw new ConflictError(`holiday calendar '${name}' is in use by ${users.join(", ")}; unbind it first`);
    this.store.db.delete(holidayCalendars).where(eq(holidayCalendars.name, name)).run();
    this.book = this.compile();
  }

  /** The schedules naming the calendar. */
  calendarUsers(name: string): string[] {
    return this.schedules()
      .filter((s) => s.holidays.some((h) => h.trim() === name))
      .map((s) => `schedule '${s.name}'`);
  }

  // ─── Seeding ───────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Copy in the site file's calendars and schedules that have never been seeded before, by name: each once,
   * at the first start that has it. So a seed added to the site file later arrives at the next start, while
   * one changed or deleted through the API is never overwritten or brought back (the database wins). The site
   * file was validated as a whole by parseSite; a seed naming a calendar deleted through the API is refused
   * with the schedule's problems (ConfigError).
   */
  seed(calendars: readonly HolidayCalendarDef[], defs: readonly ScheduleDef[], nowMs: number): void {
    const stored = readSetting<{ schedules: string[]; holidayCalendars: string[] }>(this.store, SEEDED_KEY);
    const done = stored ?? { schedules: [], holidayCalendars: [] };
    const newCalendars = calendars.filter((c) => !done.holidayCalendars.includes(c.name.trim()));
    const newSchedules = defs.filter((s) => !done.schedules.includes(s.name.trim()));
    if (stored && newCalendars.length === 0 && newSchedules.length === 0) return;
    const copy = this.store.sqlite.transaction(() => {
      for (const c of newCalendars) {
        const name = c.name.trim();
        if (!this.calendarRow(name)) this.createCalendar(c, nowMs);
        done.holidayCalendars.push(name);
      }
      for (const s of newSchedules) {
        const name = s.name.trim();
        if (!this.scheduleRow(name)) this.createSchedule(s, nowMs);
        done.schedules.push(name);
      }
      writeSetting(this.store, SEEDED_KEY, done);
    });
    try {
      copy();
    } finally {
      this.book = this.compile(); // what the database holds, also after a rollback
    }
  }

  // ─── Internals ─────────────────────────────────────────────────────────────────────────────────────────

  private scheduleRow(name: string) {
    return this.store.db.select().from(schedules).where(eq(schedules.name, name)).get();
  }

  private calendarRow(name: string) {
    return this.store.db.select().from(holidayCalendars).where(eq(holidayCalendars.name, name)).get();
  }

  private calendarNames(): string[] {
    return this.store.db
      .select({ name: holidayCalendars.name })
      .from(holidayCalendars)
      .orderBy(asc(holidayCalendars.id))
      .all()
      .map((r) => r.name);
  }

  private known(what: string, names: readonly string[]): string {
    return names.length ? ` (${what}: ${names.map((n) => `'${n}'`).join(", ")})` : ` (there are no ${what})`;
  }

  /** The body with the path's name filled in; a different name in the body is refused (no renames). */
  private withName(body: unknown, name: string, what: string): unknown {
    if (typeof body !== "object" || body === null || Array.isArray(body)) return body;
    const given = (body as { name?: unknown }).name;
    if (given === undefined) return { ...body, name };
    if (NameOnly.Check(body) && (given as string).trim() !== name)
      throw new ConfigError(`${what} '${name}'`, [
        `/name '${given as string}' differs from the name in the path: a ${what} cannot be renamed (create the new one, rebind its users, delete the old one)`,
      ]);
    return body;
  }

  /** Every problem of a schedule definition (paths inside it), with the stored calendars it may name. */
  private checkSchedule(body: unknown): ScheduleDef {
    const calendars = this.calendars().map(({ createdAt: _c, updatedAt: _u, ...def }) => def);
    const problems = relativeTo(
      "/schedules/0",
      scheduleProblems({ holidayCalendars: calendars, schedules: [body] }),
    ).map((p) =>
      p.replace(
        / is not among holidayCalendars$/,
        ` is not a holiday calendar${this.known(
          "calendars",
          calendars.map((c) => c.name),
        )}`,
      ),
    );
    const name =
      typeof (body as { name?: unknown })?.name === "string" ? (body as { name: string }).name : "";
    if (problems.length) throw new ConfigError(name ? `schedule '${name.trim()}'` : "schedule", problems);
    const def = scheduleDefaults.Default(structuredClone(body)) as ScheduleDef;
    return { ...def, name: def.name.trim(), holidays: def.holidays.map((h) => h.trim()) };
  }

  private checkCalendar(body: unknown): HolidayCalendarDef {
    const problems = relativeTo("/holidayCalendars/0", scheduleProblems({ holidayCalendars: [body] }));
    const name =
      typeof (body as { name?: unknown })?.name === "string" ? (body as { name: string }).name : "";
    if (problems.length)
      throw new ConfigError(name ? `holiday calendar '${name.trim()}'` : "holiday calendar", problems);
    const def = calendarDefaults.Default(structuredClone(body)) as HolidayCalendarDef;
    return { ...def, name: def.name.trim() };
  }

  /** Compile every schedule with its calendars: on each change, never per decision. */
  private compile(): ScheduleBook {
    const strip = <T extends { createdAt: number; updatedAt: number }>({
      createdAt: _c,
      updatedAt: _u,
      ...def
    }: T) => def;
    const byName = compileScheduleSet({
      timeZone: this.timeZone,
      holidayCalendars: this.calendars().map(strip),
      schedules: this.schedules().map(strip),
    });
    return { timeZone: this.timeZone, byName };
  }
}
