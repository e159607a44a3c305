import type { OutcomeWindow } from './outcome-window';

/** At most this many buckets: a time window's precision is size / BUCKETS ms. */
const BUCKETS = 10;

/**
 * The calls of the last `size` ms, kept in fixed buckets of size/10 ms (fewer for tiny windows).
 * A bucket that falls out is subtracted from the running totals as time moves on. The window
 * holds the bucket `now` falls in and the 9 before it: between 0.9·size and size ms of history.
 */
export class TimeWindow implements OutcomeWindow {
  calls = 0;
  failures = 0;
  slowCalls = 0;
  private readonly bucketCount: number;
  private readonly bucketWidth: number;
  private readonly bucketCalls: Float64Array;
  private readonly bucketFailures: Float64Array;
  private readonly bucketSlow: Float64Array;
  /** Absolute index (floor(now / width)) of the newest bucket in use; -Infinity when empty. */
  private newest = Number.NEGATIVE_INFINITY;

  constructor(readonly size: number) {
    this.bucketCount = Math.min(BUCKETS, size);
    this.bucketWidth = size / this.bucketCount;
    this.bucketCalls = new Float64Array(this.bucketCount);
    this.bucketFailures = new Float64Array(this.bucketCount);
    this.bucketSlow = new Float64Array(this.bucketCount);
  }

  record(now: number, failed: boolean, slow: boolean): void {
    this.advance(now);
    const slot = this.slotOf(this.newest);
    this.bucketCalls[slot]++;
    this.calls++;
    if (failed) {
      this.bucketFailures[slot]++;
      this.failures++;
    }
    if (slow) {
      this.bucketSlow[slot]++;
      this.slowCalls++;
    }
  }

  advance(now: number): void {
    const current = Math.floor(now / this.bucketWidth);
    if (current <= this.newest) return;
    // Clear every bucket between the newest one used and the current one (at most all of them).
    const steps = Math.min(current - this.newest, this.bucketCount);
    for (let i = 1; i <= steps; i++) this.evict(this.slotOf(current - steps + i));
    this.newest = current;
  }

  clear(): void {
    this.calls = this.failures = this.slowCalls = 0;
    this.bucketCalls.fill(0);
    this.bucketFailures.fill(0);
    this.bucketSlow.fill(0);
    this.newest = Number.NEGATIVE_INFINITY;
  }

  private slotOf(index: number): number {
    return ((index % this.bucketCount) + this.bucketCount) % this.bucketCount;
  }

  private evict(slot: number): void {
    this.calls -= this.bucketCalls[slot] as number;
    this.failures -= this.bucketFailures[slot] as number;
    this.slowCalls -= this.bucketSlow[slot] as number;
    this.bucketCalls[slot] = this.bucketFailures[slot] = this.bucketSlow[slot] = 0;
  }
}
