/**
 * The `settings` table: one JSON value per key (what was seeded from the site file, the approval rule, action
 * bindings). One way to read and write it, for every repository that keeps something there.
 */
import { eq, like } from "drizzle-orm";
import type { Store } from "./db.js";
import { settings } from "./schema.js";

/** The parsed value under `key`, or undefined when none is stored. */
export function readSetting<T>(store: Store, key: string): T | undefined {
  const row = store.db.select().from(settings).where(eq(settings.key, key)).get();
  return row ? (JSON.parse(row.value) as T) : undefined;
}

/** Every key starting with `prefix`, with its parsed value. */
export function readSettings<T>(store: Store, prefix: string): { key: string; value: T }[] {
  return store.db
    .select()
    .from(settings)
    .where(like(settings.key, `${prefix}%`))
    .all()
    .map((row) => ({ key: row.key, value: JSON.parse(row.value) as T }));
}

/** Store `value` (as JSON) under `key`, replacing what was there. */
export function writeSetting(store: Store, key: string, value: unknown): void {
  const json = JSON.stringify(value);
  store.db
    .insert(settings)
    .values({ key, value: json })
    .onConflictDoUpdate({ target: settings.key, set: { value: json } })
    .run();
}
