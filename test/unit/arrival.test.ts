import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ArrivalConfig, ArrivalTracker, type TrackedRead } from "../../firmware/domain/arrival.js";

const FIRST: ArrivalConfig = {
  decideOn: "first",
  windowMs: 1000,
  bestOfCount: 3,
  lostTimeoutMs: 5000,
  rearmMs: 10_000,
};

function read(plate: string, at: number, extra: Partial<TrackedRead<string>> = {}): TrackedRead<string> {
  return { plate, confidence: 80, phase: null, at, payload: `${plate}@${at}`, ...extra };
}

describe("arrivals, decide on the first read", () => {
  it("one decision per vehicle; repeats and other cameras' reads of it are duplicates", () => {
    const t = new ArrivalTracker<string>(FIRST);
    expect(t.offer("1", read("AB123CD", 0)).kind).toBe("decide");
    expect(t.offer("1", read("AB123CD", 500)).kind).toBe("duplicate");
    // A second camera reads an OCR variant of the same car: same arrival.
    expect(t.offer("1", read("AB123C0", 700)).kind).toBe("duplicate");
    // Another lane is another arrival.
    expect(t.offer("2", read("AB123CD", 800)).kind).toBe("decide");
    // A different car right behind (not a mere OCR confusion) is decided.
    expect(t.offer("1", read("AB124CD", 900)).kind).toBe("decide");
  });

  it("re-arms after a quiet gap, measured from the last read (a car waiting at the barrier stays one arrival)", () => {
    const t = new ArrivalTracker<string>(FIRST);
    expect(t.offer("1", read("AB1", 0)).kind).toBe("decide");
    for (let at = 5_000; at <= 60_000; at += 5_000)
      expect(t.offer("1", read("AB1", at)).kind).toBe("duplicate");
    expect(t.offer("1", read("AB1", 70_000)).kind).toBe("decide");
  });

  it("a LOST phase closes the arrival, so the same car can open again at once (the peers' pain point)", () => {
    const t = new ArrivalTracker<string>(FIRST);
    expect(t.offer("1", read("AB1", 0, { phase: "new" })).kind).toBe("decide");
    expect(t.offer("1", read("AB1", 100, { phase: "lost" })).kind).toBe("duplicate");
    expect(t.offer("1", read("AB1", 200, { phase: "new" })).kind).toBe("decide");
    expect(t.openCount).toBe(1);
  });

  it("quiet arrivals are forgotten, so memory stays bounded", () => {
    const t = new ArrivalTracker<string>({ ...FIRST, rearmMs: 1000 });
    for (let i = 0; i < 5000; i++) t.offer("1", read(`P${i}X`, i * 10));
    t.due(100_000);
    expect(t.openCount).toBe(0);
  });
});

describe("arrivals, best of a window", () => {
  const BEST: ArrivalConfig = { ...FIRST, decideOn: "best-of", windowMs: 1000, bestOfCount: 3 };

  it("decides when the window closes, on the most confident read", () => {
    const t = new ArrivalTracker<string>(BEST);
    expect(t.offer("1", read("AB123C0", 0, { confidence: 60 }))).toEqual({ kind: "pending", decideBy: 1000 });
    expect(t.offer("1", read("AB123CD", 300, { confidence: 95 })).kind).toBe("pending");
    expect(t.nextDueAt()).toBe(1000);
    expect(t.due(999)).toEqual([]);
    const [decided] = t.due(1000);
    expect(decided).toMatchObject({ lane: "1", reads: 2, best: { plate: "AB123CD", confidence: 95 } });
    expect(t.offer("1", read("AB123CD", 1100)).kind).toBe("duplicate");
  });

  it("decides early once it has enough reads", () => {
    const t = new ArrivalTracker<string>(BEST);
    t.offer("1", read("AB1", 0, { confidence: 70 }));
    t.offer("1", read("AB1", 10, { confidence: 90 }));
    const third = t.offer("1", read("AB1", 20, { confidence: 80 }));
    expect(third).toMatchObject({ kind: "decide", reads: 3, best: { confidence: 90 } });
  });
});

describe("arrivals, decide on lost", () => {
  const LOST: ArrivalConfig = { ...FIRST, decideOn: "lost", lostTimeoutMs: 3000 };

  it("waits for the camera's LOST, or decides at the timeout", () => {
    const t = new ArrivalTracker<string>(LOST);
    expect(t.offer("1", read("AB1", 0, { phase: "new" })).kind).toBe("pending");
    expect(t.offer("1", read("AB1", 100, { phase: "update", confidence: 99 })).kind).toBe("pending");
    expect(t.offer("1", read("AB1", 200, { phase: "lost", confidence: 50 }))).toMatchObject({
      kind: "decide",
      best: { confidence: 99 },
    });
    expect(t.offer("1", read("ZZ9", 1000, { phase: "new" })).kind).toBe("pending");
    expect(t.due(4000)).toMatchObject([{ lane: "1", best: { plate: "ZZ9" } }]);
  });
});

describe("arrival invariant (property)", () => {
  it("in first mode every decided plate is unique within a quiet period, and every arrival decides exactly once", () => {
    const plates = fc.constantFrom("AB1", "AB2", "CD3");
    fc.assert(
      fc.property(
        fc.array(fc.tuple(plates, fc.integer({ min: 0, max: 3000 })), { maxLength: 60 }),
        (steps) => {
          const t = new ArrivalTracker<string>({ ...FIRST, rearmMs: 1000 });
          let now = 0;
          const lastDecided = new Map<string, number>();
          const lastSeen = new Map<string, number>();
          for (const [plate, gap] of steps) {
            now += gap;
            const offer = t.offer("1", read(plate, now));
            const seen = lastSeen.get(plate);
            const expectDecide = seen === undefined || now - seen >= 1000;
            expect(offer.kind).toBe(expectDecide ? "decide" : "duplicate");
            if (offer.kind === "decide") lastDecided.set(plate, now);
            lastSeen.set(plate, now);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("arrivals, memory", () => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const BEST_OF: ArrivalConfig = { ...FIRST, decideOn: "best-of", windowMs: 1000 };
  const carAt = (at: number, payload: object) =>
    ({ plate: "AB123CD", confidence: 80, phase: null, at, payload }) as const;

  /** Offer a read whose payload only the tracker could keep alive; whether it is still alive after a GC. */
  async function payloadKept(t: ArrivalTracker<object>, settle: () => void): Promise<boolean> {
    const ref = ((): WeakRef<object> => {
      const payload = { picture: new Uint8Array(64 * 1024) };
      t.offer("1", carAt(0, payload));
      settle();
      return new WeakRef(payload);
    })();
    let kept = true;
    for (let attempt = 0; attempt < 3 && kept; attempt++) {
      await new Promise((r) => setTimeout(r, 0)); // a WeakRef (and deref()) keeps its target until the job ends
      gc();
      kept = ref.deref() !== undefined;
    }
    return kept;
  }

  it("a decided arrival lets go of its read (pictures included) and still recognises the car's repeats", async () => {
    const first = new ArrivalTracker<object>(FIRST);
    expect(await payloadKept(first, () => {})).toBe(false);
    expect(first.offer("1", carAt(10, {})).kind).toBe("duplicate");
    const bestOf = new ArrivalTracker<object>(BEST_OF);
    let decided = 0; // counted, not asserted inside: an assertion may keep the value it was given
    expect(
      await payloadKept(bestOf, () => {
        decided = bestOf.due(1000).length;
      }),
    ).toBe(false);
    expect(decided).toBe(1);
    expect(bestOf.offer("1", carAt(1010, {})).kind).toBe("duplicate");
  });

  it("an undecided arrival keeps its best read until it is decided", async () => {
    const bestOf = new ArrivalTracker<object>(BEST_OF);
    expect(await payloadKept(bestOf, () => {})).toBe(true);
    expect(bestOf.due(1000)).toMatchObject([{ best: { plate: "AB123CD" } }]);
  });
});
