/**
 * Operator approval's storage (firmware/approvals.ts): the rule, as JSON under one `settings` key (copied from
 * the site file at first start, then changed through the API), and the requests still waiting for an answer,
 * so a restart brings them back. A request's row is written inside its event's transaction and deleted in
 * the transaction that rewrites the event with the outcome.
 */
import { asc, eq } from "drizzle-orm";
import type { ApprovalConfig } from "../config/site.js";
import type { Store } from "./db.js";
import { approvalRequests } from "./schema.js";
import { readSetting, writeSetting } from "./settings.js";

export type ApprovalRequestRow = typeof approvalRequests.$inferSelect;

const CONFIG_KEY = "approval.config";

export class ApprovalsRepo {
  private readonly insert;

  constructor(private readonly store: Store) {
    // A raw prepared statement: it runs inside the event's commit (EventsRepo.append's `also`).
    this.insert = store.sqlite.prepare<ApprovalRequestRow>(
      "insert into approval_requests (event_id, lane, plate, reason, asked_at, expires_at) values (@eventId, @lane, @plate, @reason, @askedAt, @expiresAt)",
    );
  }

  /** The stored rule as parsed JSON; null until one is stored (first start). */
  config(): unknown {
    return readSetting(this.store, CONFIG_KEY) ?? null;
  }

  saveConfig(config: ApprovalConfig): void {
    writeSetting(this.store, CONFIG_KEY, config);
  }

  /** Oldest first. */
  requests(): ApprovalRequestRow[] {
    return this.store.db.select().from(approvalRequests).orderBy(asc(approvalRequests.eventId)).all();
  }

  /** The writer that stores a new request: for EventsRepo.append's `also`, so it commits with its event. */
  writer(row: ApprovalRequestRow): () => void {
    return () => this.insert.run(row);
  }

  /**
   * Delete a resolved request's row; `also` (the event's rewrite) runs in the same transaction, so a crash
   * can never bring back a request whose outcome is already stored.
   */
  remove(eventId: number, also?: () => void): void {
    this.store.sqlite.transaction(() => {
      this.store.db.delete(approvalRequests).where(eq(approvalRequests.eventId, eventId)).run();
      also?.();
    })();
  }
}
