/** Read filters applied before deciding: minimum confidence and the repetition filter. Time is injected. */

/**
 * One decision per plate per lane within `windowMs`: cameras send many reads of one car, and a car
 * waiting at the barrier must not trigger a second decision. The same plate is decided again once the
 * window has passed since its last *decided* read.
 */
export class RepetitionFilter {
  private readonly lastDecided = new Map<string, number>();

  constructor(private readonly windowMs: number) {}

  /** True when this read repeats one decided less than the window ago; otherwise records it and returns false. */
  isRepeat(lane: string, plate: string, nowMs: number): boolean {
    const key = `${lane}\u0000${plate}`;
    const last = this.lastDecided.get(key);
    if (last !== undefined && nowMs - last < this.windowMs) return true;
    this.lastDecided.delete(key);
    this.lastDecided.set(key, nowMs);
    this.prune(nowMs);
    return false;
  }

  /** Forget everything (for example after a manual list change the operator wants applied at once). */
  clear(): void {
    this.lastDecided.clear();
  }

  get size(): number {
    return this.lastDecided.size;
  }

  /** Entries are kept in insertion order, which is time order, so expired ones sit at the front. */
  private prune(nowMs: number): void {
    for (const [key, at] of this.lastDecided) {
      if (nowMs - at < this.windowMs) break;
      this.lastDecided.delete(key);
    }
  }
}

/** Confidence is 0–100; a camera that sends none is trusted (it filtered itself). */
export function meetsConfidence(confidence: number | null, minimum: number): boolean {
  return confidence === null || confidence >= minimum;
}
