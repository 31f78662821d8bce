/** Benchmark fixture: a site with many lanes and a data directory whose Allow list holds N plates. */
import { closeSync, fsyncSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fuzzyKeys } from "../firmware/domain/plate.js";
import { DATABASE_FILE, openStore } from "../firmware/store/db.js";

export const LANES = 128;
export const PULSE_MS = 1;
export const cameraSecret = (lane: number): string => `bench-camera-secret-${String(lane).padStart(4, "0")}`;

const LETTERS = "ABCDEFGHJKLMNPRSTVWXYZ";

/** Plates of the form AB123CD: 22⁴ × 1000 of them. */
const PLATE_SPACE = LETTERS.length ** 4 * 1000;
/** Odd, and prime to 5 and 11, so `i * SCRAMBLE mod PLATE_SPACE` is a bijection: distinct, evenly spread plates. */
const SCRAMBLE = 2_654_435_761;

/** The i-th plate of the list (e.g. "KX407MB"): distinct for every i and spread like real plates. */
export function benchPlate(i: number): string {
  const j = Number((BigInt(i) * BigInt(SCRAMBLE)) % BigInt(PLATE_SPACE));
  const l = (n: number): string => LETTERS[Math.floor(n) % LETTERS.length] as string;
  const digits = String(Math.floor(j / LETTERS.length ** 2) % 1000).padStart(3, "0");
  const tail = Math.floor(j / (LETTERS.length ** 2 * 1000));
  return l(j) + l(j / LETTERS.length) + digits + l(tail) + l(tail / LETTERS.length);
}

export function benchSite(): unknown {
  const lanes = Array.from({ length: LANES }, (_, i) => i + 1);
  return {
    name: "Benchmark site",
    outputs: lanes.map((i) => ({ name: `lane${i}.barrier`, pin: i })),
    inputs: [],
    lanes: lanes.map((i) => ({
      id: String(i),
      name: `Lane ${i}`,
      barrierOutput: `lane${i}.barrier`,
      openPulseMs: PULSE_MS,
    })),
    cameras: lanes.map((i) => ({
      id: `cam${i}`,
      protocol: "milesight-http",
      lane: String(i),
      secret: cameraSecret(i),
    })),
    filters: { repeatWindowMs: 0, minConfidence: 0 },
    seedLists: [],
  };
}

/** Create `<dir>/site.json` and a database whose Allow list has `size` plates (bulk insert, one transaction). */
export function prepareDataDir(dir: string, size: number): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "site.json"), JSON.stringify(benchSite(), null, 2));
  const store = openStore(dir);
  try {
    const now = Date.now();
    const list = store.sqlite
      .prepare(
        "insert into lists (name, kind, max_distance, created_at) values ('Allow', 'allow', 0, ?) returning id",
      )
      .get(now) as { id: number };
    store.sqlite
      .prepare("insert into lists (name, kind, max_distance, created_at) values ('Block', 'block', 0, ?)")
      .run(now);
    const insert = store.sqlite.prepare(
      "insert into list_entries (list_id, plate, plate_raw, skeleton, skeleton_reversed, skeleton_ends, created_at) values (?, ?, ?, ?, ?, ?, ?)",
    );
    store.sqlite.transaction(() => {
      for (let i = 0; i < size; i++) {
        const plate = benchPlate(i);
        const keys = fuzzyKeys(plate);
        insert.run(list.id, plate, plate, keys.skeleton, keys.skeletonReversed, keys.skeletonEnds, now);
      }
    })();
    store.sqlite.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    store.close();
  }
  // On disk before anything is measured: otherwise the kernel writes the new file back while the
  // controller is under load (the bare baseline, measured later, would not pay for it).
  const fd = openSync(join(dir, DATABASE_FILE), "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
