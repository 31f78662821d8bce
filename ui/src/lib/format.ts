/**
 * Wall-clock times as the panel shows them. Every function takes the time zone to show them in: the site's
 * (LiveStore.timeZone, from the controller's hello) so the panel reads the same clock as the controller's
 * reasons; `undefined` means the browser's own zone (before the hello, or from an older controller).
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

type Pattern = "hms" | "hm" | "date" | "day";

const PATTERNS: Record<Pattern, Intl.DateTimeFormatOptions> = {
  hms: { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" },
  hm: { hour: "2-digit", minute: "2-digit", hourCycle: "h23" },
  date: { day: "numeric", month: "short" },
  /** A calendar day, only to compare two instants' days. */
  day: { year: "numeric", month: "2-digit", day: "2-digit" },
};

/** One formatter per pattern, locale and zone, made once (making one is far dearer than using it). */
function formatter(pattern: Pattern, timeZone: string | undefined, locale?: string): Intl.DateTimeFormat {
  const key = `${pattern}|${locale ?? ""}|${timeZone ?? ""}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { ...PATTERNS[pattern], ...(timeZone ? { timeZone } : {}) });
    formatters.set(key, f);
  }
  return f;
}

/** The browser's (operating system's) time zone, e.g. "UTC" on a kiosk left at its default. */
export function browserTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/**
 * `name` as this browser spells the zone ("Etc/UTC" → "UTC" in most), or null when it is not a time zone the
 * browser knows (formatting in it would throw): times are then shown in the browser's zone.
 */
export function knownTimeZone(name: unknown): string | null {
  if (typeof name !== "string" || name === "") return null;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/**
 * The site's zone when it is not the browser's, for a discreet label beside the clock; null when they are
 * the same (or the site's is not known yet): then nothing needs saying.
 */
export function differingTimeZone(
  siteZone: string | undefined,
  browserZone = browserTimeZone(),
): string | null {
  if (!siteZone) return null;
  const site = knownTimeZone(siteZone);
  if (site === null) return null;
  return site === (knownTimeZone(browserZone) ?? browserZone) ? null : site;
}

/** "Europe/Amsterdam" → "Amsterdam", "America/New_York" → "New York", "UTC" → "UTC": short enough for a top bar. */
export function timeZonePlace(timeZone: string): string {
  return (timeZone.split("/").pop() ?? timeZone).replaceAll("_", " ");
}

/** "14:03:22" (24 h) in `timeZone`. */
export function clockTime(at: Date | number, timeZone?: string): string {
  return formatter("hms", timeZone).format(at);
}

/**
 * "14:03" (or "14:03:22" with `seconds`) in `timeZone`, spelt as the controller's reason sentences spell
 * times (en-GB, 24 h) so a time in a sentence and the same time in a row beside it read alike.
 */
export function sentenceTime(at: Date | number, timeZone?: string, seconds = false): string {
  return formatter(seconds ? "hms" : "hm", timeZone, "en-GB").format(at);
}

/** "14:03:22" on the day of `now`, "3 Mar 14:03:22" on another day; days as the calendar of `timeZone` has them. */
export function eventTime(iso: string, timeZone?: string, now: Date | number = Date.now()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  const day = formatter("day", timeZone, "en-CA");
  const sameDay = day.format(d) === day.format(now);
  const time = clockTime(d, timeZone);
  return sameDay ? time : `${formatter("date", timeZone).format(d)} ${time}`;
}

/** "just now", "42 s ago", "5 min ago", "3 h ago". */
export function ago(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/** "0.42 ms", "12 ms". */
export function millis(ms: number): string {
  return `${ms < 10 ? ms.toFixed(2) : Math.round(ms)} ms`;
}

/** "1 read", "3 reads". */
export function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
