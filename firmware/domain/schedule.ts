/**
 * Schedules: when something is in force — a list, a pass, an action — as weekly windows of local wall-clock
 * time, overridden on listed dates by holiday calendars. This follows the scheduler VIVOTEK's LPR cameras put on
 * each list action ("the date of the detection corresponds to a valid time defined in the scheduler"), with
 * several ranges per weekday, minute resolution, and holidays on top.
 *
 * Pure: data in, data out, time injected (epoch ms) and the time zone named (IANA). Local wall time comes from
 * Intl; nothing here reads the clock or does I/O.
 *
 * Semantics, in full:
 * - A window `{ days, from, to }` covers the local wall-clock minutes [from, to) on each of its days; `to` may
 *   be "24:00" (end of day). When `to` is earlier than `from` (`22:00`–`06:00`) the window starts on its day
 *   and runs until `to` on the next day; "00:00" as `to` means until midnight. `from` equal to `to` is an
 *   error (write 00:00–24:00 for the whole day). Windows of one schedule may touch but not overlap, also not
 *   through a midnight spill-over.
 * - A holiday date is governed only by its holiday entry, for all of its local date 00:00–24:00: its own
 *   windows (none = closed all day) replace the weekly windows, and a window spilling over from the day
 *   before is cut at midnight. A holiday window may itself run past midnight into the next (ordinary) day.
 *   When several of a schedule's calendars list the same date, the most restrictive wins: a minute is
 *   covered only when every one of those entries covers it.
 * - Windows are in local wall-clock time and an instant is active when its local wall time is covered. So on
 *   a spring-forward day the skipped hour does not exist: a 02:00–03:00 window is empty that day, 01:30–02:30
 *   ends at the jump and 02:30–04:00 starts at it (local 03:00). On a fall-back day the repeated hour happens
 *   twice and a window covering it is active both times (a 02:00–03:00 window lasts two real hours).
 *
 * Cost: `compileSchedule` turns a definition into minute ranges per weekday once; `isActive` is then one
 * cached offset lookup (per zone and quarter hour, see util/time.ts), a little arithmetic and a scan of a few
 * ranges — no parsing, no allocation.
 */
import { type Static, Type } from "typebox";
import { Compile, type Validator } from "typebox/compile";
import { computeZoneOffsetMs, isTimeZone, zoneOffsetMs } from "../util/time.js";

const MINUTE_MS = 60_000;
const DAY_MINUTES = 1440;
const DAY_MS = DAY_MINUTES * MINUTE_MS;
const WEEK_MINUTES = 7 * DAY_MINUTES;
const QUARTER_HOUR_MS = 900_000;
/** Holiday dates outside these years are refused: a typo such as 2205 would otherwise hide for a long time. */
const MIN_YEAR = 1970;
const MAX_YEAR = 2199;

/** Weekday names, indexed as JavaScript's getUTCDay(): 0 = Sunday. */
export const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type DayName = (typeof DAY_NAMES)[number];

// ─── Definitions ────────────────────────────────────────────────────────────────────────────────────────────
// The leaves (times, days, dates, zone) are plain strings in the schema so that `scheduleProblems` can say
// precisely what is wrong with each ("'25:00' … hours run 00–23") rather than "must match pattern".

const TimeOfDay = Type.String({
  description: 'local wall-clock time "HH:MM", 24-hour, minute resolution; "24:00" only as an end',
  examples: ["07:00", "18:30", "24:00"],
});

const Weekday = Type.Union([Type.String(), Type.Integer()], {
  description:
    "mon tue wed thu fri sat sun (or full English names, any case), or a number 0–7: 1 = Monday, 0 and 7 = Sunday",
});

export const WindowSchema = Type.Object(
  {
    days: Type.Array(Weekday, { description: "the weekdays this window starts on" }),
    from: TimeOfDay,
    to: Type.String({
      description:
        'end (exclusive); "24:00" = end of day; earlier than `from` = runs past midnight until this time the next day',
      examples: ["18:00", "24:00", "06:00"],
    }),
  },
  { additionalProperties: false },
);

export const HolidayWindowSchema = Type.Object(
  { from: TimeOfDay, to: TimeOfDay },
  { additionalProperties: false },
);

export const HolidaySchema = Type.Object(
  {
    date: Type.String({ description: "local date YYYY-MM-DD", examples: ["2025-12-25"] }),
    name: Type.Optional(Type.String({ maxLength: 64, description: "shown in decision explanations" })),
    windows: Type.Array(HolidayWindowSchema, {
      default: [],
      description: "the windows in force on this date instead of the weekly ones; none = closed all day",
    }),
  },
  { additionalProperties: false },
);

export const HolidayCalendarSchema = Type.Object(
  {
    name: Type.String({ maxLength: 64 }),
    dates: Type.Array(HolidaySchema, { default: [] }),
  },
  { additionalProperties: false },
);

export const ScheduleSchema = Type.Object(
  {
    name: Type.String({ maxLength: 64 }),
    windows: Type.Array(WindowSchema, {
      default: [],
      description: "weekly windows; none = never, except holidays",
    }),
    holidays: Type.Array(Type.String(), {
      default: [],
      description: "names of holiday calendars whose dates override the weekly windows",
    }),
  },
  { additionalProperties: false },
);

export const ScheduleSetSchema = Type.Object(
  {
    timeZone: Type.Optional(
      Type.String({
        description: "IANA time zone the windows are in, e.g. Europe/Amsterdam; default: the site's",
      }),
    ),
    holidayCalendars: Type.Array(HolidayCalendarSchema, { default: [] }),
    schedules: Type.Array(ScheduleSchema, { default: [] }),
  },
  { additionalProperties: false },
);

export type WindowDef = Static<typeof WindowSchema>;
export type HolidayWindowDef = Static<typeof HolidayWindowSchema>;
export type HolidayDef = Static<typeof HolidaySchema>;
export type HolidayCalendarDef = Static<typeof HolidayCalendarSchema>;
export type ScheduleDef = Static<typeof ScheduleSchema>;
export type ScheduleSetDef = Static<typeof ScheduleSetSchema>;

/** A definition that does not validate; `problems` lists every one, each starting with its JSON path. */
export class ScheduleError extends Error {
  override readonly name = "ScheduleError";
  constructor(readonly problems: string[]) {
    super(problems.join("; "));
  }
}

// ─── Parsing the leaves ─────────────────────────────────────────────────────────────────────────────────────

const DAY_BY_NAME = new Map<string, number>([
  ...DAY_NAMES.map((d, i) => [d, i] as const),
  ...["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"].map(
    (d, i) => [d, i] as const,
  ),
]);

function quote(value: unknown): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  return `'${text.length > 40 ? `${text.slice(0, 40)}…` : text}'`;
}

/** Weekday 0–6 (0 = Sunday), or a message saying what is wrong. */
function parseDay(value: unknown): number | string {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 7) return value % 7;
  if (typeof value === "string") {
    const day = DAY_BY_NAME.get(value.trim().toLowerCase());
    if (day !== undefined) return day;
  }
  return `unknown weekday ${quote(value)}: use mon, tue, wed, thu, fri, sat, sun or 0–7 (1 = Monday, 0 and 7 = Sunday)`;
}

const HH_MM = /^(\d\d):(\d\d)$/;

/** Minutes since local midnight (0–1440), or a message saying what is wrong. */
function parseTime(value: string, role: "from" | "to"): number | string {
  const m = HH_MM.exec(value);
  if (!m) return `${quote(value)} is not a time: write HH:MM, 24-hour, two digits each (e.g. 07:05)`;
  const hours = Number(m[1]);
  const minutes = Number(m[2]);
  if (minutes > 59) return `${quote(value)} is not a time: minutes run 00–59`;
  if (hours === 24 && minutes === 0)
    return role === "to" ? DAY_MINUTES : `${quote(value)} is the end of a day, not a start: use 00:00`;
  if (hours > 23) return `${quote(value)} is not a time: hours run 00–23 (24:00 only as an end)`;
  return hours * 60 + minutes;
}

const YYYY_MM_DD = /^(\d{4})-(\d\d)-(\d\d)$/;

/** Days since 1970-01-01 of a local date, or a message saying what is wrong. */
function parseDate(value: string): number | string {
  const m = YYYY_MM_DD.exec(value);
  const bad = `${quote(value)} is not a date: write YYYY-MM-DD (e.g. 2025-12-25)`;
  if (!m) return bad;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return bad;
  if (y < MIN_YEAR || y > MAX_YEAR) return `${quote(value)}: the year must be ${MIN_YEAR}–${MAX_YEAR}`;
  return ms / DAY_MS;
}

function hhmm(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${h < 10 ? "0" : ""}${h}:${m < 10 ? "0" : ""}${m}`;
}

function dateOf(dayNumber: number): string {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
}

function weekdayOf(dayNumber: number): number {
  return (((dayNumber + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
}

/** The end of a window starting at `from`, in minutes from the start of its day (beyond 1440 = next day). */
function spanEnd(from: number, to: number): number {
  return to > from ? to : to + DAY_MINUTES;
}

/** Days as an installer writes them: "mon–fri", "sat, sun", "every day". */
export function describeDays(days: readonly number[]): string {
  const set = new Set(days.map((d) => d % 7));
  if (set.size === 7) return "every day";
  const order = [1, 2, 3, 4, 5, 6, 0].filter((d) => set.has(d));
  const runs: number[][] = [];
  for (const d of order) {
    const last = runs.at(-1);
    const prev = last?.at(-1);
    if (last && prev !== undefined && (prev + 1) % 7 === d) last.push(d);
    else runs.push([d]);
  }
  // A run through the weekend (fri–mon) wraps from Sunday to Monday.
  const first = runs[0];
  const last = runs.at(-1);
  if (first && last && runs.length > 1 && first[0] === 1 && last.at(-1) === 0) {
    last.push(...first);
    runs.shift();
  }
  return runs
    .map((r) => {
      const first = DAY_NAMES[r[0] as number];
      const end = DAY_NAMES[r.at(-1) as number];
      return r.length >= 3 ? `${first}–${end}` : r.map((d) => DAY_NAMES[d]).join(", ");
    })
    .join(", ");
}

// ─── Validation ─────────────────────────────────────────────────────────────────────────────────────────────

let setValidator: Validator | undefined;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function arrayAt(obj: Record<string, unknown>, key: string): unknown[] {
  const value = obj[key];
  return Array.isArray(value) ? value : [];
}

/** A window as week-minute segments [start, end) in 0–10080 (0 = Sunday 00:00), wrapping at the week's end. */
function weekSegments(days: readonly number[], from: number, to: number): [number, number][] {
  const segments: [number, number][] = [];
  for (const day of days) {
    const start = day * DAY_MINUTES + from;
    const end = day * DAY_MINUTES + spanEnd(from, to);
    if (end <= WEEK_MINUTES) segments.push([start, end]);
    else segments.push([start, WEEK_MINUTES], [0, end - WEEK_MINUTES]);
  }
  return segments;
}

function intersect(a: readonly [number, number][], b: readonly [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [s1, e1] of a)
    for (const [s2, e2] of b) {
      const s = Math.max(s1, s2);
      const e = Math.min(e1, e2);
      if (s < e) out.push([s, e]);
    }
  return out.sort((x, y) => x[0] - y[0]);
}

/** "tue 11:00–12:00", "mon 23:00–tue 02:00" for week-minute segments. */
function describeWeekSegments(segments: readonly [number, number][]): string {
  return segments
    .map(([s, e]) => {
      const sd = Math.floor(s / DAY_MINUTES);
      const ed = Math.floor((e - 1) / DAY_MINUTES);
      const end = e - ed * DAY_MINUTES;
      return `${DAY_NAMES[sd]} ${hhmm(s - sd * DAY_MINUTES)}–${ed === sd ? "" : `${DAY_NAMES[ed % 7]} `}${hhmm(end)}`;
    })
    .join(", ");
}

/** "11:00–12:00", "23:00–02:00 the next day" for segments of a two-day span (a holiday and the day after). */
function describeDaySegments(segments: readonly [number, number][]): string {
  return segments
    .map(([s, e]) => `${hhmm(s)}–${e > DAY_MINUTES ? `${hhmm(e - DAY_MINUTES)} the next day` : hhmm(e)}`)
    .join(", ");
}

interface CheckedWindow {
  path: string;
  from: number;
  to: number;
}

/** The from/to of a window at `path`, checked; null (with problems pushed) when they are not usable. */
function checkTimes(w: Record<string, unknown>, path: string, problems: string[]): CheckedWindow | null {
  let from: number | null = null;
  let to: number | null = null;
  if (typeof w.from === "string") {
    const parsed = parseTime(w.from, "from");
    if (typeof parsed === "string") problems.push(`${path}/from ${parsed}`);
    else from = parsed;
  }
  if (typeof w.to === "string") {
    const parsed = parseTime(w.to, "to");
    if (typeof parsed === "string") problems.push(`${path}/to ${parsed}`);
    else to = parsed;
  }
  if (from === null || to === null) return null;
  if (from === to) {
    problems.push(
      `${path} from and to are both ${hhmm(from)}: an empty window (write 00:00–24:00 for the whole day)`,
    );
    return null;
  }
  return { path, from, to };
}

function checkWindows(windows: unknown[], path: string, problems: string[]): void {
  const checked: { w: CheckedWindow; segments: [number, number][] }[] = [];
  for (const [i, raw] of windows.entries()) {
    if (!isRecord(raw)) continue;
    const wpath = `${path}/${i}`;
    const days: number[] = [];
    const rawDays = arrayAt(raw, "days");
    if (Array.isArray(raw.days) && rawDays.length === 0)
      problems.push(`${wpath}/days is empty: name at least one weekday`);
    for (const [j, d] of rawDays.entries()) {
      const day = parseDay(d);
      if (typeof day === "string") problems.push(`${wpath}/days/${j} ${day}`);
      else if (days.includes(day)) problems.push(`${wpath}/days/${j} ${DAY_NAMES[day]} is listed twice`);
      else days.push(day);
    }
    const w = checkTimes(raw, wpath, problems);
    if (w && days.length) checked.push({ w, segments: weekSegments(days, w.from, w.to) });
  }
  for (const [j, b] of checked.entries())
    for (const a of checked.slice(0, j)) {
      const overlap = intersect(a.segments, b.segments);
      if (overlap.length)
        problems.push(`${b.w.path} overlaps ${a.w.path} on ${describeWeekSegments(overlap)}`);
    }
}

function checkHolidayWindows(windows: unknown[], path: string, problems: string[]): void {
  const checked: { w: CheckedWindow; segment: [number, number] }[] = [];
  for (const [i, raw] of windows.entries()) {
    if (!isRecord(raw)) continue;
    const w = checkTimes(raw, `${path}/${i}`, problems);
    if (w) checked.push({ w, segment: [w.from, spanEnd(w.from, w.to)] });
  }
  for (const [j, b] of checked.entries())
    for (const a of checked.slice(0, j)) {
      const overlap = intersect([a.segment], [b.segment]);
      if (overlap.length)
        problems.push(`${b.w.path} overlaps ${a.w.path} at ${describeDaySegments(overlap)}`);
    }
}

function checkName(
  obj: Record<string, unknown>,
  path: string,
  what: string,
  seen: Map<string, string>,
  problems: string[],
): void {
  if (typeof obj.name !== "string") return;
  const name = obj.name.trim();
  if (name === "") {
    problems.push(`${path}/name is empty: every ${what} needs a name`);
    return;
  }
  const earlier = seen.get(name);
  if (earlier !== undefined) problems.push(`${path}/name ${quote(name)} is used twice (also ${earlier})`);
  else seen.set(name, path);
}

function checkCalendar(cal: Record<string, unknown>, path: string, problems: string[]): void {
  const dates = new Map<number, string>();
  for (const [i, raw] of arrayAt(cal, "dates").entries()) {
    if (!isRecord(raw)) continue;
    const hpath = `${path}/dates/${i}`;
    if (typeof raw.date === "string") {
      const day = parseDate(raw.date);
      if (typeof day === "string") problems.push(`${hpath}/date ${day}`);
      else {
        const earlier = dates.get(day);
        if (earlier !== undefined)
          problems.push(`${hpath}/date ${quote(raw.date)} is listed twice (also ${earlier}/date)`);
        else dates.set(day, hpath);
      }
    }
    checkHolidayWindows(arrayAt(raw, "windows"), `${hpath}/windows`, problems);
  }
}

/** The problem with a time zone name, or null when Intl knows it. */
export function timeZoneProblem(timeZone: string, path: string): string | null {
  return isTimeZone(timeZone)
    ? null
    : `${path} ${quote(timeZone)} is not a time zone this system knows: use an IANA name such as Europe/Amsterdam`;
}

/**
 * Every problem with a schedule set (`ScheduleSetSchema`: `{ timeZone?, holidayCalendars, schedules }`), each
 * starting with its JSON path under `path`: the schema's (types, unknown keys) and the meaning's (bad times and
 * dates, unknown weekdays and zones, overlapping windows, duplicate names and dates, unknown calendars). Never
 * throws, whatever `value` is; an empty list means `compileScheduleSet` will accept it.
 */
export function scheduleProblems(value: unknown, path = ""): string[] {
  const problems: string[] = [];
  let set: unknown;
  try {
    setValidator ??= Compile(ScheduleSetSchema);
    set = setValidator.Default(structuredClone(value));
    if (!setValidator.Check(set))
      for (const e of setValidator.Errors(set)) {
        // An unknown key comes as "<key> schema is false" plus "<parent> must not have additional properties".
        if (e.keyword === "additionalProperties") continue;
        const message = e.message === "schema is false" ? "is not a known key" : e.message;
        problems.push(`${path}${e.instancePath || "/"} ${message}`);
      }
  } catch {
    return [`${path || "/"} is not plain JSON data`];
  }
  if (!isRecord(set)) return problems;
  if (typeof set.timeZone === "string") {
    const tz = timeZoneProblem(set.timeZone, `${path}/timeZone`);
    if (tz) problems.push(tz);
  }
  const calendars = new Map<string, string>();
  for (const [i, cal] of arrayAt(set, "holidayCalendars").entries()) {
    if (!isRecord(cal)) continue;
    const cpath = `${path}/holidayCalendars/${i}`;
    checkName(cal, cpath, "holiday calendar", calendars, problems);
    checkCalendar(cal, cpath, problems);
  }
  const schedules = new Map<string, string>();
  for (const [i, s] of arrayAt(set, "schedules").entries()) {
    if (!isRecord(s)) continue;
    const spath = `${path}/schedules/${i}`;
    checkName(s, spath, "schedule", schedules, problems);
    checkWindows(arrayAt(s, "windows"), `${spath}/windows`, problems);
    for (const [j, ref] of arrayAt(s, "holidays").entries())
      if (typeof ref === "string" && !calendars.has(ref.trim()))
        problems.push(`${spath}/holidays/${j} ${quote(ref)} is not among holidayCalendars`);
  }
  return problems;
}

// ─── Compiled form ──────────────────────────────────────────────────────────────────────────────────────────

/** Covered local minutes [start, end) of one day; `window` = the weekly window's index (-1: a holiday's). */
interface Range {
  readonly start: number;
  readonly end: number;
  readonly window: number;
}

interface WeekDay {
  /** Minutes of this day covered by windows starting on it. */
  readonly own: readonly Range[];
  /** Minutes of the next day covered by windows starting on this day (midnight spill-over). */
  readonly spill: readonly Range[];
  /** own ∪ the previous weekday's spill: this weekday when neither it nor the day before is a holiday. */
  readonly cover: readonly Range[];
  /** Sorted minutes (0 included) at which coverage can change on such a day. */
  readonly edges: readonly number[];
}

export interface CompiledSchedule {
  readonly name: string;
  readonly def: ScheduleDef;
  /** Indexed by weekday, 0 = Sunday. */
  readonly week: readonly WeekDay[];
}

export interface HolidayEntryRef {
  readonly calendar: string;
  readonly name: string | null;
}

interface HolidayDay {
  readonly date: string;
  readonly entries: readonly HolidayEntryRef[];
  readonly own: readonly Range[];
  readonly spill: readonly Range[];
}

export interface CompiledHolidays {
  /** Keyed by local day number (days since 1970-01-01). */
  readonly days: ReadonlyMap<number, HolidayDay>;
  /** The last holiday's day number (-Infinity when none): beyond it, only the weekly pattern counts. */
  readonly lastDay: number;
}

export const NO_HOLIDAYS: CompiledHolidays = { days: new Map(), lastDay: Number.NEGATIVE_INFINITY };

function edgesOf(...lists: (readonly Range[])[]): number[] {
  const edges = new Set<number>([0]);
  for (const list of lists)
    for (const r of list) {
      edges.add(r.start);
      if (r.end < DAY_MINUTES) edges.add(r.end);
    }
  return [...edges].sort((a, b) => a - b);
}

/** Compile one valid schedule definition into minute ranges per weekday; throws ScheduleError if invalid. */
export function compileSchedule(def: ScheduleDef): CompiledSchedule {
  const problems: string[] = [];
  if (typeof def?.name !== "string" || def.name.trim() === "")
    problems.push("/name is empty: every schedule needs a name");
  checkWindows(Array.isArray(def?.windows) ? def.windows : [], "/windows", problems);
  if (problems.length) throw new ScheduleError(problems.map((p) => `schedule ${quote(def?.name)}: ${p}`));
  const own: Range[][] = DAY_NAMES.map(() => []);
  const spill: Range[][] = DAY_NAMES.map(() => []);
  for (const [i, w] of def.windows.entries()) {
    const from = parseTime(w.from, "from") as number;
    const end = spanEnd(from, parseTime(w.to, "to") as number);
    for (const d of w.days) {
      const day = parseDay(d) as number;
      own[day]?.push({ start: from, end: Math.min(end, DAY_MINUTES), window: i });
      if (end > DAY_MINUTES) spill[day]?.push({ start: 0, end: end - DAY_MINUTES, window: i });
    }
  }
  const byStart = (a: Range, b: Range): number => a.start - b.start;
  const week = DAY_NAMES.map((_, d): WeekDay => {
    const o = (own[d] ?? []).sort(byStart);
    const prevSpill = spill[(d + 6) % 7] ?? [];
    return {
      own: o,
      spill: (spill[d] ?? []).sort(byStart),
      cover: [...o, ...prevSpill].sort(byStart),
      edges: edgesOf(o, prevSpill),
    };
  });
  return { name: def.name.trim(), def, week };
}

/** Union of an entry's windows as sorted, merged segments of its date and the day after (0–2880). */
function entrySegments(windows: readonly HolidayWindowDef[]): [number, number][] {
  const segments = windows
    .map((w): [number, number] => {
      const from = parseTime(w.from, "from") as number;
      return [from, spanEnd(from, parseTime(w.to, "to") as number)];
    })
    .sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [s, e] of segments) {
    const last = merged.at(-1);
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else merged.push([s, e]);
  }
  return merged;
}

/**
 * Compile the holiday calendars that apply to one schedule; throws ScheduleError if any is invalid. A date in
 * several calendars keeps only the minutes every one of its entries covers (the most restrictive wins).
 */
export function compileHolidays(calendars: readonly HolidayCalendarDef[]): CompiledHolidays {
  const problems: string[] = [];
  for (const [i, cal] of calendars.entries())
    checkCalendar(cal as unknown as Record<string, unknown>, `/${i}`, problems);
  if (problems.length) throw new ScheduleError(problems.map((p) => `holiday calendars: ${p}`));
  const found = new Map<number, { date: string; entries: HolidayEntryRef[]; segments: [number, number][] }>();
  for (const cal of calendars)
    for (const h of cal.dates) {
      const day = parseDate(h.date) as number;
      const ref = { calendar: cal.name, name: h.name ?? null };
      const segments = entrySegments(h.windows ?? []);
      const seen = found.get(day);
      if (seen) {
        seen.entries.push(ref);
        seen.segments = intersect(seen.segments, segments);
      } else found.set(day, { date: h.date, entries: [ref], segments });
    }
  const days = new Map<number, HolidayDay>();
  let lastDay = Number.NEGATIVE_INFINITY;
  for (const [day, h] of found) {
    const own: Range[] = [];
    const spill: Range[] = [];
    for (const [s, e] of h.segments) {
      if (s < DAY_MINUTES) own.push({ start: s, end: Math.min(e, DAY_MINUTES), window: -1 });
      if (e > DAY_MINUTES)
        spill.push({ start: Math.max(s, DAY_MINUTES) - DAY_MINUTES, end: e - DAY_MINUTES, window: -1 });
    }
    days.set(day, { date: h.date, entries: h.entries, own, spill });
    lastDay = Math.max(lastDay, day);
  }
  return { days, lastDay };
}

export interface CompiledScheduleEntry {
  schedule: CompiledSchedule;
  holidays: CompiledHolidays;
}

/** Compile a whole set: each schedule with the calendars it names. Throws ScheduleError with every problem. */
export function compileScheduleSet(value: unknown): Map<string, CompiledScheduleEntry> {
  const problems = scheduleProblems(value);
  if (problems.length) throw new ScheduleError(problems);
  const set = setValidator?.Default(structuredClone(value)) as ScheduleSetDef;
  const calendars = new Map(set.holidayCalendars.map((c) => [c.name.trim(), c]));
  const out = new Map<string, CompiledScheduleEntry>();
  for (const def of set.schedules) {
    const named = [...new Set(def.holidays.map((n) => n.trim()))].map(
      (n) => calendars.get(n) as HolidayCalendarDef,
    );
    out.set(def.name.trim(), {
      schedule: compileSchedule(def),
      holidays: named.length ? compileHolidays(named) : NO_HOLIDAYS,
    });
  }
  return out;
}

// ─── Evaluation ─────────────────────────────────────────────────────────────────────────────────────────────

function inRanges(ranges: readonly Range[], minute: number): boolean {
  for (const r of ranges) if (minute >= r.start && minute < r.end) return true;
  return false;
}

function rangeAt(ranges: readonly Range[], minute: number): Range | undefined {
  for (const r of ranges) if (minute >= r.start && minute < r.end) return r;
  return undefined;
}

/** Whether local minute `minute` of local day `day` is covered. */
function coveredAt(s: CompiledSchedule, h: CompiledHolidays, day: number, minute: number): boolean {
  const wd = weekdayOf(day);
  if (h.days.size === 0) return inRanges((s.week[wd] as WeekDay).cover, minute);
  const holiday = h.days.get(day);
  if (holiday) return inRanges(holiday.own, minute);
  const prev = h.days.get(day - 1);
  if (!prev) return inRanges((s.week[wd] as WeekDay).cover, minute);
  return inRanges((s.week[wd] as WeekDay).own, minute) || inRanges(prev.spill, minute);
}

/**
 * Whether `schedule` is in force at the instant `atMs` (epoch ms) in `timeZone` (IANA), `holidays` being the
 * calendars that apply to it (compileHolidays; null = none). Cheap enough for the decision path: one cached
 * offset lookup and a few comparisons. Throws RangeError for a time zone Intl does not know.
 */
export function isActive(
  schedule: CompiledSchedule,
  holidays: CompiledHolidays | null,
  atMs: number,
  timeZone: string,
): boolean {
  const local = atMs + zoneOffsetMs(atMs, timeZone);
  const day = Math.floor(local / DAY_MS);
  return coveredAt(schedule, holidays ?? NO_HOLIDAYS, day, Math.floor((local - day * DAY_MS) / MINUTE_MS));
}

export interface Explanation {
  active: boolean;
  /**
   * What decided: a weekly window, a holiday's window, a holiday closed all day or outside its windows, or no
   * weekly window covering the time.
   */
  by: "window" | "holiday-window" | "holiday-closed" | "holiday-outside" | "outside-windows";
  schedule: string;
  /** Local wall time of the instant: date, weekday and HH:MM. */
  local: { date: string; weekday: DayName; time: string };
  /** The weekly window (by: "window"), with the local date it started on (the day before when it spilled over). */
  window?: { index: number; days: string; from: string; to: string; startedOn: string };
  /** The holiday date that governs (or, for a holiday window spilling over, the one it started on). */
  holiday?: { date: string; entries: readonly HolidayEntryRef[]; windows: string };
  /** One sentence for a decision's reason. */
  reason: string;
}

function describeHoliday(h: HolidayDay): string {
  const who = h.entries.map((e) => `${e.name ? `${e.name}, ` : ""}calendar '${e.calendar}'`).join("; ");
  return `${h.date} is a holiday (${who})`;
}

function holidayWindows(h: HolidayDay): string {
  const segments: [number, number][] = h.own.map((r) => [r.start, r.end]);
  for (const r of h.spill) {
    const last = segments.at(-1);
    if (last && last[1] === DAY_MINUTES) last[1] = DAY_MINUTES + r.end;
    else segments.push([DAY_MINUTES + r.start, DAY_MINUTES + r.end]);
  }
  return segments.length ? describeDaySegments(segments) : "closed all day";
}

/**
 * Why `schedule` is or is not in force at `atMs`: the window or holiday that decided, the local wall time,
 * and a sentence for decision explanations. Always agrees with `isActive`. Not for the hot path (it allocates).
 */
export function explain(
  schedule: CompiledSchedule,
  holidays: CompiledHolidays | null,
  atMs: number,
  timeZone: string,
): Explanation {
  const h = holidays ?? NO_HOLIDAYS;
  const localMs = atMs + zoneOffsetMs(atMs, timeZone);
  const day = Math.floor(localMs / DAY_MS);
  const minute = Math.floor((localMs - day * DAY_MS) / MINUTE_MS);
  const wd = weekdayOf(day);
  const local = { date: dateOf(day), weekday: DAY_NAMES[wd] as DayName, time: hhmm(minute) };
  const at = `${local.weekday} ${local.date} ${local.time} local`;
  const base = { schedule: schedule.name, local };
  const is = (active: boolean): string => `schedule '${schedule.name}' is ${active ? "active" : "inactive"}`;
  const holiday = h.days.get(day);
  if (holiday) {
    const windows = holidayWindows(holiday);
    const info = { date: holiday.date, entries: holiday.entries, windows };
    if (inRanges(holiday.own, minute))
      return {
        ...base,
        active: true,
        by: "holiday-window",
        holiday: info,
        reason: `${is(true)}: ${describeHoliday(holiday)}, open ${windows}; it is ${at}`,
      };
    if (holiday.own.length === 0 && holiday.spill.length === 0)
      return {
        ...base,
        active: false,
        by: "holiday-closed",
        holiday: info,
        reason: `${is(false)}: ${describeHoliday(holiday)}, closed all day`,
      };
    return {
      ...base,
      active: false,
      by: "holiday-outside",
      holiday: info,
      reason: `${is(false)}: ${describeHoliday(holiday)}, open only ${windows}; it is ${at}`,
    };
  }
  const weekWindow = (r: Range, startedOn: number): Explanation => {
    const w = schedule.def.windows[r.window] as WindowDef;
    const days = describeDays(w.days.map((d) => parseDay(d) as number));
    const spilled = startedOn !== day;
    return {
      ...base,
      active: true,
      by: "window",
      window: { index: r.window, days, from: w.from, to: w.to, startedOn: dateOf(startedOn) },
      reason: `${is(true)}: inside window ${r.window} (${days} ${w.from}–${w.to}${spilled ? `, which began ${DAY_NAMES[weekdayOf(startedOn)]} ${dateOf(startedOn)}` : ""}); it is ${at}`,
    };
  };
  const ownHit = rangeAt((schedule.week[wd] as WeekDay).own, minute);
  if (ownHit) return weekWindow(ownHit, day);
  const prevHoliday = h.days.get(day - 1);
  if (prevHoliday) {
    const hit = rangeAt(prevHoliday.spill, minute);
    if (hit) {
      const windows = holidayWindows(prevHoliday);
      return {
        ...base,
        active: true,
        by: "holiday-window",
        holiday: { date: prevHoliday.date, entries: prevHoliday.entries, windows },
        reason: `${is(true)}: ${describeHoliday(prevHoliday)}, open ${windows}; it is ${at}`,
      };
    }
  } else {
    const hit = rangeAt((schedule.week[(wd + 6) % 7] as WeekDay).spill, minute);
    if (hit) return weekWindow(hit, day - 1);
  }
  return { ...base, active: false, by: "outside-windows", reason: `${is(false)}: no window covers ${at}` };
}

/** Sorted minutes of local day `day` at which coverage can change (0 always included). */
function edgesOn(s: CompiledSchedule, h: CompiledHolidays, day: number): readonly number[] {
  const wd = weekdayOf(day);
  const holiday = h.days.get(day);
  if (holiday) return edgesOf(holiday.own);
  const prev = h.days.get(day - 1);
  if (!prev) return (s.week[wd] as WeekDay).edges;
  return edgesOf((s.week[wd] as WeekDay).own, prev.spill);
}

/**
 * The first local wall time (ms on the local clock, as if it were UTC) after `localMs` whose coverage is not
 * `state`, or null when no later local time differs. Past the last holiday only the weekly pattern counts, so
 * a week and a day beyond it without a change means never.
 */
function nextLocalFlip(
  s: CompiledSchedule,
  h: CompiledHolidays,
  localMs: number,
  state: boolean,
): number | null {
  let day = Math.floor(localMs / DAY_MS);
  let after = Math.floor((localMs - day * DAY_MS) / MINUTE_MS);
  const lastDay = Math.max(day, h.lastDay + 2) + 8;
  for (; day <= lastDay; day++, after = -1)
    for (const edge of edgesOn(s, h, day))
      if (edge > after && coveredAt(s, h, day, edge) !== state) return day * DAY_MS + edge * MINUTE_MS;
  return null;
}

/**
 * The first instant in (fromMs, toMs] at which the zone's offset differs from `offset`, or null. Offsets change
 * on quarter hours; probing once a day assumes no zone changes its offset and back within a day.
 */
function firstOffsetChange(fromMs: number, toMs: number, offset: number, timeZone: string): number | null {
  const offsetAt = (quarter: number): number => computeZoneOffsetMs(quarter * QUARTER_HOUR_MS, timeZone);
  let lo = Math.floor(fromMs / QUARTER_HOUR_MS);
  const last = Math.floor(toMs / QUARTER_HOUR_MS);
  const step = DAY_MS / QUARTER_HOUR_MS;
  while (lo < last) {
    let hi = Math.min(lo + step, last);
    if (offsetAt(hi) === offset) {
      lo = hi;
      continue;
    }
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offsetAt(mid) === offset) lo = mid;
      else hi = mid;
    }
    return hi * QUARTER_HOUR_MS;
  }
  return null;
}

/**
 * The first instant after `atMs` at which `isActive` gives the other answer, or null when it never will
 * (constant coverage and no holiday ahead). Follows offset changes: a flip can fall on a DST transition
 * itself (a window starting inside a skipped hour begins at the jump; a repeated hour can re-enter a window).
 */
export function nextChange(
  schedule: CompiledSchedule,
  holidays: CompiledHolidays | null,
  atMs: number,
  timeZone: string,
): number | null {
  const h = holidays ?? NO_HOLIDAYS;
  const state = isActive(schedule, h, atMs, timeZone);
  let cur = atMs;
  // Each round either answers or moves to the next offset change: a few per year in any zone.
  for (let round = 0; round < 100_000; round++) {
    const offset = zoneOffsetMs(cur, timeZone);
    const localMs = cur + offset;
    const flip = nextLocalFlip(schedule, h, localMs, state);
    const candidate = flip === null ? null : cur + (flip - localMs);
    // With no flip ahead in local time, an offset change within a day could still bring back an hour that differs.
    const change = firstOffsetChange(cur, candidate ?? cur + DAY_MS, offset, timeZone);
    if (change === null) return candidate;
    if (isActive(schedule, h, change, timeZone) !== state) return change;
    cur = change;
  }
  return null;
}
