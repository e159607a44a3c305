/** Buckets a window is cut into: its precision is window / BUCKETS. */
export const BUCKETS = 10;

/**
 * Two running counts over the last `window` ms (calls and retries, calls and hedges), kept in 10
 * buckets of window/10 ms: O(1) a record (amortised), memory fixed. The counts cover between 0.9 and
 * 1 window of history.
 */
export class WindowedCounts {
  /** the two counts over the window, as of the last record() or read() */
  first = 0;
  second = 0;
  private readonly width: number;
  private readonly firsts = new Float64Array(BUCKETS);
  private readonly seconds = new Float64Array(BUCKETS);
  /** absolute index (floor(now / width)) of the newest bucket in use */
  private newest = Number.NEGATIVE_INFINITY;

  constructor(readonly window: number) {
    this.width = window / BUCKETS;
  }

  add(now: number, first: number, second: number): void {
    this.advance(now);
    const slot = this.slotOf(this.newest);
    this.firsts[slot] += first;
    this.seconds[slot] += second;
    this.first += first;
    this.second += second;
  }

  /** Moves the window to `now`: what fell out of it no longer counts. */
  advance(now: number): void {
    const current = Math.floor(now / this.width);
    if (current <= this.newest) return;
    const steps = Math.min(current - this.newest, BUCKETS);
    for (let i = 1; i <= steps; i++) {
      const slot = this.slotOf(current - steps + i);
      this.first -= this.firsts[slot] as number;
      this.second -= this.seconds[slot] as number;
      this.firsts[slot] = this.seconds[slot] = 0;
    }
    this.newest = current;
  }

  /**
   * Replaces the counts with another window's (the fleet's, in the store's time): `newest` is the
   * absolute index of its newest bucket, `pairs` the (first, second) counts of its buckets from the
   * newest back, at most 10 pairs.
   */
  load(newest: number, pairs: readonly number[]): void {
    this.firsts.fill(0);
    this.seconds.fill(0);
    this.first = this.second = 0;
    this.newest = newest;
    for (let back = 0; back < BUCKETS && 2 * back + 1 < pairs.length; back++) {
      const slot = this.slotOf(newest - back);
      const first = pairs[2 * back] as number;
      const second = pairs[2 * back + 1] as number;
      this.firsts[slot] = first;
      this.seconds[slot] = second;
      this.first += first;
      this.second += second;
    }
  }

  private slotOf(index: number): number {
    return ((index % BUCKETS) + BUCKETS) % BUCKETS;
  }
}
