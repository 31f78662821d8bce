/** The audit trail: who did what, when. Written synchronously: audits are rare and must not be lost. */
import { desc } from "drizzle-orm";
import type { Store } from "./db.js";
import { audit } from "./schema.js";

export type AuditRow = typeof audit.$inferSelect;

export class AuditRepo {
  constructor(private readonly store: Store) {}

  record(entry: {
    at: number;
    actor: string;
    action: string;
    target?: string | null;
    detail?: unknown;
  }): AuditRow {
    return this.store.db
      .insert(audit)
      .values({
        at: entry.at,
        actor: entry.actor,
        action: entry.action,
        target: entry.target ?? null,
        detail: entry.detail === undefined ? null : JSON.stringify(entry.detail),
      })
      .returning()
      .get();
  }

  recent(limit: number): AuditRow[] {
    return this.store.db.select().from(audit).orderBy(desc(audit.id)).limit(limit).all();
  }
}
