/** Wall-clock parts of an instant in a time zone. */

/** Building an Intl formatter costs far more than using one: one per time zone, kept (24-hour clock). */
const zoneFormatters = new Map<string, Intl.DateTimeFormat>();

export function zoneFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = zoneFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    zoneFormatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The UTC day isoTime last formatted, and its text ("2026-11-22T"). */
let isoDay = Number.NaN;
let isoDayText = "";
const DAY_MS = 86_400_000;
/** 9999-12-31T23:59:59.999Z: later instants have a six-digit year, formatted the general way. */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999;
const two = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

/**
 * `new Date(ms).toISOString()`, cheaper: each decision formats several instants (its event, live messages,
 * barrier states). The date is formatted once per day; the time of day is plain arithmetic.
 */
export function isoTime(ms: number): string {
  if (!(ms >= 0 && ms <= LAST_FOUR_DIGIT_YEAR_MS)) return new Date(ms).toISOString(); // throws for NaN, as Date does
  const whole = Math.floor(ms); // Date drops fractions of a millisecond
  const day = Math.floor(whole / DAY_MS);
  if (day !== isoDay) {
    isoDayText = new Date(day * DAY_MS).toISOString().slice(0, 11);
    isoDay = day;
  }
  const inDay = whole - day * DAY_MS;
  const milli = inDay % 1000;
  const seconds = (inDay - milli) / 1000;
  return `${isoDayText}${two(Math.floor(seconds / 3600))}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}.${milli < 10 ? "00" : milli < 100 ? "0" : ""}${milli}Z`;
}

/** Whether Intl knows `timeZone` as an IANA zone name (or "UTC"); never throws. */
export function isTimeZone(timeZone: string): boolean {
  if (zoneFormatters.has(timeZone)) return true;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The zone's UTC offset (local wall time minus UTC, ms) at the instant `utcMs`. Offsets only change on
 * quarter-hour boundaries in every real zone, so one lookup per zone and quarter hour is exact; kept per zone
 * under a number key (no string built per call: this runs on the decision path) and bounded so a long run
 * with many zones cannot grow it. Throws RangeError for a zone Intl does not know.
 */
const QUARTER_HOUR_MS = 900_000;
const offsetCaches = new Map<string, Map<number, number>>();

export function zoneOffsetMs(utcMs: number, timeZone: string): number {
  let cache = offsetCaches.get(timeZone);
  if (!cache) {
    if (offsetCaches.size >= 64) offsetCaches.clear();
    cache = new Map();
    offsetCaches.set(timeZone, cache);
  }
  const quarter = Math.floor(utcMs / QUARTER_HOUR_MS);
  let offset = cache.get(quarter);
  if (offset === undefined) {
    offset = computeZoneOffsetMs(quarter * QUARTER_HOUR_MS, timeZone);
    if (cache.size > 1000) cache.clear();
    cache.set(quarter, offset);
  }
  return offset;
}

/** The zone's UTC offset at `utcMs`, straight from Intl (no cache): no time zone database of our own. */
export function computeZoneOffsetMs(utcMs: number, timeZone: string): number {
  const parts = zoneFormatter(timeZone).formatToParts(new Date(utcMs));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return wall - Math.floor(utcMs / 1000) * 1000;
}

/**
 * An instant as ISO 8601 local time in `timeZone` with its UTC offset ("2025-03-01T08:15:02.120+01:00"),
 * for peers that want the offset written out. Throws RangeError for a zone Intl does not know.
 */
export function isoWithOffset(utcMs: number, timeZone: string): string {
  const offset = zoneOffsetMs(utcMs, timeZone);
  const local = new Date(utcMs + offset).toISOString().slice(0, 23);
  const minutes = Math.round(Math.abs(offset) / 60_000);
  const hh = String(Math.floor(minutes / 60)).padStart(2, "0");
  const mm = String(minutes % 60).padStart(2, "0");
  return `${local}${offset < 0 ? "-" : "+"}${hh}:${mm}`;
}

/** "08:15" in a time zone, for sentences a guard reads. */
export function localTimeFormatter(timeZone: string): (ms: number) => string {
  const f = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  return (ms) => f.format(ms);
}
