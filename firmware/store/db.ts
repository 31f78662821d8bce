/** Opening the database: pragmas for an SD card appliance, then migrations, before anything uses it. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { type BetterSQLite3Database, drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { projectRoot } from "../util/paths.js";
import * as schema from "./schema.js";

export type Db = BetterSQLite3Database<typeof schema>;

export interface Store {
  db: Db;
  sqlite: Database.Database;
  path: string;
  close(): void;
}

export const DATABASE_FILE = "portcullis.db";
export const CHECKPOINT_INTERVAL_MS = 30_000;

export function openStore(dataDir: string): Store {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, DATABASE_FILE);
  const sqlite = new Database(path);
  // WAL: readers never block the writer; NORMAL: commits survive a process crash (kill -9) without an
  // fsync per event; only an OS crash or power cut can lose the last commits (documented in the README).
  // One process owns the database: exclusive locking spares two file-lock syscalls per lock step on every
  // commit. Other processes cannot read it while the controller runs (use the API or stop it for backups).
  sqlite.pragma("locking_mode = EXCLUSIVE");
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("cache_size = -16000");
  // SQLite's automatic checkpoint runs inside whichever commit crosses 1000 WAL pages, stalling that
  // decision's event loop turn by milliseconds. Checkpoint on a timer instead: rarely, and never mid-commit.
  sqlite.pragma("wal_autocheckpoint = 0");
  const checkpointTimer = setInterval(() => sqlite.pragma("wal_checkpoint(PASSIVE)"), CHECKPOINT_INTERVAL_MS);
  checkpointTimer.unref();
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: join(projectRoot(), "firmware", "store", "migrations") });
  let closed = false;
  return {
    db,
    sqlite,
    path,
    close(): void {
      if (closed) return;
      closed = true;
      clearInterval(checkpointTimer);
      sqlite.pragma("wal_checkpoint(TRUNCATE)");
      sqlite.close();
    },
  };
}
