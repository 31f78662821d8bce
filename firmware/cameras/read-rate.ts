/** Reads per minute over a sliding window of one-second buckets: constant memory at any read rate. */
const BUCKETS = 60;

export class ReadRate {
  private readonly counts = new Uint32Array(BUCKETS);
  /** The second (monotonic) each bucket was last counted in; a bucket from an older minute counts zero. */
  private readonly seconds = new Float64Array(BUCKETS).fill(-1);

  add(monoMs: number): void {
    const second = Math.floor(monoMs / 1000);
    const slot = second % BUCKETS;
    if (this.seconds[slot] !== second) {
      this.seconds[slot] = second;
      this.counts[slot] = 0;
    }
    this.counts[slot] = (this.counts[slot] ?? 0) + 1;
  }

  /** Reads in the last 60 seconds. */
  perMinute(monoMs: number): number {
    const now = Math.floor(monoMs / 1000);
    let total = 0;
    for (let i = 0; i < BUCKETS; i++) {
      const second = this.seconds[i] ?? -1;
      if (second > now - BUCKETS && second <= now) total += this.counts[i] ?? 0;
    }
    return total;
  }
}
