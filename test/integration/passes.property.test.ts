/**
 * Visit counts under concurrent reads, on a real SQLite file: any interleaving of reads of one plate across
 * lanes, within one event-loop turn and across turns (and across restarts of the repository), uses exactly
 * min(arrivals on the pass's lanes, maxVisits) visits — never more — and the committed count equals it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../firmware/store/db.js";
import { EventsRepo, type NewEvent } from "../../firmware/store/events-repo.js";
import { ListsRepo } from "../../firmware/store/lists-repo.js";

const LANES = { lanes: new Set(["1", "2", "3"]), groups: new Map([["Main", ["1", "2"]]]) };
let dir: string;
let store: Store;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-passes-"));
  store = openStore(dir);
});

afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function eventRow(events: EventsRepo, lane: string, result: "allow" | "deny"): NewEvent {
  return {
    id: events.allocateId(),
    plate: "VISITOR",
    plateRaw: "VISITOR",
    cameraId: "cam",
    laneId: lane,
    protocol: "test",
    confidence: null,
    direction: null,
    decision: result,
    reason: "",
    listId: null,
    listName: null,
    listKind: null,
    entryId: null,
    explanation: "{}",
    cameraTime: null,
    cameraTimeRaw: null,
    receivedAt: 0,
    relayAt: null,
    latencyMs: null,
    extras: null,
  };
}

/** One read: on a lane, then (maybe) the end of the event-loop turn, or a restart. */
const Step = fc.record({
  lane: fc.constantFrom("1", "2", "3"),
  after: fc.constantFrom("same-turn", "same-turn", "next-turn", "restart"),
});

let run = 0;

describe("visit counts under concurrent reads (property)", () => {
  it("uses min(arrivals in scope, maxVisits) visits, never more, and commits exactly that", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom<string[] | null>(null, ["Main"], ["3"]),
        fc.array(Step, { minLength: 1, maxLength: 30 }),
        async (maxVisits, scope, steps) => {
          let lists = new ListsRepo(store, undefined, LANES);
          let events = new EventsRepo(store);
          // A plate of its own per run: earlier runs' entries stay in the database.
          const plate = `VIS${run}T`;
          const list = lists.create({ name: `Visitors ${run++}`, kind: "allow" }, 0);
          const [entry] = lists.addEntries(list.id, [{ plate, maxVisits, lanes: scope }], 0);
          const inScope = (lane: string) =>
            scope === null || (scope[0] === "Main" ? lane !== "3" : lane === "3");
          let arrivals = 0;
          let allowed = 0;
          try {
            for (const step of steps) {
              // The gate's sequence: decide, count the visit, queue the event with its write — all synchronous.
              const decision = lists.decide(plate, 1, undefined, { lane: step.lane });
              const write = lists.useVisit(decision);
              void events.append(eventRow(events, step.lane, decision.result), [], write);
              if (inScope(step.lane)) arrivals++;
              if (decision.result === "allow") allowed++;
              expect(allowed).toBeLessThanOrEqual(maxVisits);
              if (decision.result === "deny" && inScope(step.lane))
                expect(decision.notInForce?.because).toBe("used-up");
              if (step.after === "next-turn") await new Promise((r) => setImmediate(r));
              if (step.after === "restart") {
                events.flush();
                lists = new ListsRepo(store, undefined, LANES);
                events = new EventsRepo(store);
              }
            }
            expect(allowed).toBe(Math.min(arrivals, maxVisits));
            // Before the commit the in-memory count already says so…
            expect(lists.entry(list.id, entry?.id as number).visitsUsed).toBe(allowed);
          } finally {
            events.flush();
          }
          // …and after it the database does, for a fresh repository (a restart).
          const fresh = new ListsRepo(store, undefined, LANES).entry(list.id, entry?.id as number);
          expect(fresh.visitsUsed).toBe(allowed);
          expect(fresh.visitsLeft).toBe(maxVisits - allowed);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("a reset while visits are in flight (flushed first) starts again at 0", () => {
    const lists = new ListsRepo(store, undefined, LANES);
    const events = new EventsRepo(store);
    const list = lists.create({ name: "Reset", kind: "allow" }, 0);
    const [entry] = lists.addEntries(list.id, [{ plate: "RE5ET01", maxVisits: 1 }], 0);
    const id = entry?.id as number;
    const d = lists.decide("RE5ET01", 1, undefined, { lane: "1" });
    void events.append(eventRow(events, "1", d.result), [], lists.useVisit(d));
    expect(lists.decide("RE5ET01", 1, undefined, { lane: "1" }).result).toBe("deny");
    events.flush();
    expect(lists.resetVisits(list.id, id).entry.visitsUsed).toBe(0);
    expect(new ListsRepo(store).entry(list.id, id).visitsUsed).toBe(0);
    expect(lists.decide("RE5ET01", 1, undefined, { lane: "1" }).result).toBe("allow");
  });

  it("the dry run's decide alone never uses a visit", () => {
    const lists = new ListsRepo(store, undefined, LANES);
    const list = lists.create({ name: "Dry", kind: "allow" }, 0);
    lists.addEntries(list.id, [{ plate: "DRY0001", maxVisits: 1 }], 0);
    for (let i = 0; i < 5; i++)
      expect(lists.decide("DRY0001", 1, undefined, { lane: "1" }).result).toBe("allow");
  });
});
