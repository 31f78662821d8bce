/**
 * The store's fuzzy candidate search (skeleton prefix/suffix ranges on a real SQLite file) must find exactly
 * what a brute-force scan with the same distance finds.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { weightedDistance } from "../../firmware/domain/fuzzy.js";
import { openStore, type Store } from "../../firmware/store/db.js";
import { ListsRepo, MIN_FUZZY_LENGTH } from "../../firmware/store/lists-repo.js";

let dir: string;
let store: Store;
let repo: ListsRepo;
const plates: string[] = [];
const ALPHABET = "AB8O0DQISZ25G6X7".split("");

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-lookup-"));
  store = openStore(dir);
  repo = new ListsRepo(store);
  const fuzzyList = repo.create({ name: "Fuzzy", kind: "allow", maxDistance: 1.5 }, 0);
  repo.create({ name: "Exact", kind: "block", maxDistance: 0 }, 0);
  const rand = fc.sample(fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: 5, maxLength: 8 }), {
    numRuns: 1200,
    seed: 42,
  });
  const unique = [...new Set(rand)];
  plates.push(...unique);
  repo.addEntries(
    fuzzyList.id,
    unique.map((plate) => ({ plate })),
    0,
  );
});

afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("fuzzy candidates", () => {
  it("equal the brute-force result for random reads (property)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc
            .constantFrom(...plates.slice(0, 200))
            .chain((p) =>
              fc
                .tuple(
                  fc.nat(p.length),
                  fc.constantFrom(...ALPHABET),
                  fc.constantFrom("sub", "ins", "del", "none"),
                )
                .map(([i, c, op]) =>
                  op === "sub"
                    ? p.slice(0, i) + c + p.slice(i + 1)
                    : op === "ins"
                      ? p.slice(0, i) + c + p.slice(i)
                      : op === "del"
                        ? p.slice(0, i) + p.slice(i + 1)
                        : p,
                ),
            ),
          fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: 5, maxLength: 8 }),
        ),
        (read) => {
          const found = repo
            .candidates(read)
            .filter((m) => m.match.kind === "fuzzy" || m.list.name === "Fuzzy")
            .map((m) => m.entry.plate)
            .sort();
          const expected =
            read.length < MIN_FUZZY_LENGTH
              ? plates.filter((p) => p === read)
              : plates.filter((p) => weightedDistance(read, p, 1.5) !== null).sort();
          expect(found).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("a list with distance 0 matches exactly only", () => {
    const block = repo.listDefs().find((l) => l.name === "Exact");
    repo.addEntries(block?.id ?? 0, [{ plate: "BB8BB8" }], 0);
    expect(repo.candidates("BB8BB8").map((m) => m.list.name)).toContain("Exact");
    expect(repo.candidates("BB8BBB").map((m) => m.list.name)).not.toContain("Exact");
  });
});
