/**
 * One vehicle at one lane = one arrival = one decision. Cameras send many reads of a car (several cameras
 * per lane, a vendor's NEW/UPDATE/LOST cycle, OCR variants such as AB123CD / AB123C0); the tracker merges
 * them and says when to decide: on the first read (default), on the best read within a window, or when the
 * camera reports the vehicle lost. An arrival closes when the vehicle is lost or no read came for
 * `rearmMs`, so the same car can come back — and open the barrier again — right after it left.
 * Pure: time is passed in; the caller runs a timer for `nextDueAt()`.
 */
import { skeleton } from "./plate.js";

export type DecideOn = "first" | "best-of" | "lost";

export interface ArrivalConfig {
  decideOn: DecideOn;
  /** best-of: decide this long after the first read (or earlier, at `bestOfCount` reads). */
  windowMs: number;
  bestOfCount: number;
  /** lost: decide anyway this long after the first read if the camera never reports the vehicle lost. */
  lostTimeoutMs: number;
  /** The arrival closes after this long without a read; a later read is a new arrival. */
  rearmMs: number;
}

export interface TrackedRead<R> {
  plate: string;
  confidence: number | null;
  /** The vendor's lifecycle phase, when it sends one. */
  phase: "new" | "update" | "lost" | null;
  at: number;
  payload: R;
}

export type Offer<R> =
  | { kind: "decide"; best: TrackedRead<R>; reads: number }
  | { kind: "pending"; decideBy: number }
  | { kind: "duplicate"; arrivalStartedAt: number };

interface Arrival<R> {
  plates: Set<string>;
  startedAt: number;
  lastReadAt: number;
  /** The read to decide on; let go once decided (only the plates are needed to recognise its repeats). */
  best: TrackedRead<R> | null;
  reads: number;
  decided: boolean;
  lost: boolean;
}

function better<R>(a: TrackedRead<R>, b: TrackedRead<R>): TrackedRead<R> {
  return (b.confidence ?? -1) > (a.confidence ?? -1) ? b : a;
}

export class ArrivalTracker<R> {
  /** Open arrivals per lane: at a barrier there are one or two at a time. */
  private readonly open = new Map<string, Arrival<R>[]>();

  constructor(private readonly config: ArrivalConfig) {}

  /** Take one read; say whether to decide now, wait, or drop it as part of an arrival already decided. */
  offer(lane: string, read: TrackedRead<R>): Offer<R> {
    this.expire(lane, read.at);
    const arrivals = this.open.get(lane) ?? [];
    let arrival = arrivals.find((a) => this.sameVehicle(a, read.plate));
    if (!arrival) {
      arrival = {
        plates: new Set([read.plate]),
        startedAt: read.at,
        lastReadAt: read.at,
        best: read,
        reads: 0,
        decided: false,
        lost: false,
      };
      arrivals.push(arrival);
      this.open.set(lane, arrivals);
    }
    arrival.plates.add(read.plate);
    arrival.lastReadAt = read.at;
    arrival.reads++;
    if (!arrival.decided)
      arrival.best = arrival.reads === 1 || !arrival.best ? read : better(arrival.best, read);
    if (read.phase === "lost") arrival.lost = true;

    if (arrival.decided) {
      if (arrival.lost) this.close(lane, arrival);
      return { kind: "duplicate", arrivalStartedAt: arrival.startedAt };
    }
    const { decideOn } = this.config;
    const decideNow =
      decideOn === "first" ||
      (decideOn === "best-of" && arrival.reads >= this.config.bestOfCount) ||
      arrival.lost;
    if (decideNow) return this.decide(lane, arrival);
    return { kind: "pending", decideBy: this.deadline(arrival) };
  }

  /** Arrivals whose window or timeout has run out by `now`: decide them now. */
  due(now: number): { lane: string; best: TrackedRead<R>; reads: number }[] {
    const out: { lane: string; best: TrackedRead<R>; reads: number }[] = [];
    for (const [lane, arrivals] of this.open)
      for (const arrival of [...arrivals])
        if (!arrival.decided && this.deadline(arrival) <= now) {
          const decided = this.decide(lane, arrival);
          if (decided.kind === "decide") out.push({ lane, best: decided.best, reads: decided.reads });
        }
    for (const lane of this.open.keys()) this.expire(lane, now);
    return out;
  }

  /**
   * The earliest time `due()` has something to decide, or null. Decided arrivals need no timer: they are
   * closed lazily by the next read on their lane or the next `due()`.
   */
  nextDueAt(): number | null {
    let next: number | null = null;
    for (const arrivals of this.open.values())
      for (const a of arrivals) {
        if (a.decided) continue;
        const at = this.deadline(a);
        if (next === null || at < next) next = at;
      }
    return next;
  }

  /** Forget a lane's open arrivals (for example after a manual reset). */
  reset(lane: string): void {
    this.open.delete(lane);
  }

  get openCount(): number {
    let n = 0;
    for (const arrivals of this.open.values()) n += arrivals.length;
    return n;
  }

  private decide(lane: string, arrival: Arrival<R>): Offer<R> {
    const best = arrival.best as TrackedRead<R>;
    arrival.decided = true;
    // Its payload (the whole read, pictures included) is the gate's now: a decided arrival keeps none.
    arrival.best = null;
    if (arrival.lost) this.close(lane, arrival);
    return { kind: "decide", best, reads: arrival.reads };
  }

  private deadline(arrival: Arrival<R>): number {
    if (this.config.decideOn === "best-of") return arrival.startedAt + this.config.windowMs;
    if (this.config.decideOn === "lost") return arrival.startedAt + this.config.lostTimeoutMs;
    return arrival.startedAt;
  }

  /**
   * Reads of one vehicle from two cameras may differ by OCR confusions (AB123CD / AB123C0): same skeleton.
   * Plates that differ otherwise are different vehicles — merging them could swallow the next car's decision.
   */
  private sameVehicle(arrival: Arrival<R>, plate: string): boolean {
    if (arrival.plates.has(plate)) return true;
    const folded = skeleton(plate);
    for (const known of arrival.plates) if (skeleton(known) === folded) return true;
    return false;
  }

  /** Close decided arrivals that have gone quiet; undecided ones wait for `due()`. */
  private expire(lane: string, now: number): void {
    const arrivals = this.open.get(lane);
    if (!arrivals) return;
    const kept = arrivals.filter((a) => !(a.decided && now - a.lastReadAt >= this.config.rearmMs));
    if (kept.length) this.open.set(lane, kept);
    else this.open.delete(lane);
  }

  private close(lane: string, arrival: Arrival<R>): void {
    const kept = (this.open.get(lane) ?? []).filter((a) => a !== arrival);
    if (kept.length) this.open.set(lane, kept);
    else this.open.delete(lane);
  }
}
