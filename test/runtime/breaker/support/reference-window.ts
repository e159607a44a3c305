/** One recorded call, as the naive reference keeps it: every outcome, with its time. */
export interface RecordedOutcome {
  readonly at: number;
  readonly failed: boolean;
  readonly slow: boolean;
}

export interface WindowTotals {
  readonly calls: number;
  readonly failures: number;
  readonly slowCalls: number;
}

export function totalsOf(outcomes: readonly RecordedOutcome[]): WindowTotals {
  let failures = 0;
  let slowCalls = 0;
  for (const outcome of outcomes) {
    if (outcome.failed) failures++;
    if (outcome.slow) slowCalls++;
  }
  return { calls: outcomes.length, failures, slowCalls };
}

/** What a count window of `size` holds: the last `size` outcomes. */
export function lastCalls(outcomes: readonly RecordedOutcome[], size: number): RecordedOutcome[] {
  return outcomes.slice(Math.max(0, outcomes.length - size));
}

/**
 * What a time window of `size` ms holds at `now`: it keeps min(10, size) buckets of size/bucketCount
 * ms, the bucket `now` falls in and the ones before it, so an outcome stays while
 * floor(at / width) > floor(now / width) - bucketCount.
 */
export function recentCalls(
  outcomes: readonly RecordedOutcome[],
  size: number,
  now: number,
): RecordedOutcome[] {
  const bucketCount = Math.min(10, size);
  const width = size / bucketCount;
  const oldestKeptBucket = Math.floor(now / width) - bucketCount + 1;
  return outcomes.filter((outcome) => Math.floor(outcome.at / width) >= oldestKeptBucket);
}

/** A naive window: keeps every outcome and filters on demand, to check the real ones against. */
export class ReferenceWindow {
  private outcomes: RecordedOutcome[] = [];
  private latest = Number.NEGATIVE_INFINITY;

  constructor(
    readonly type: 'count' | 'time',
    readonly size: number,
  ) {}

  record(now: number, failed: boolean, slow: boolean): void {
    this.latest = Math.max(this.latest, now);
    this.outcomes.push({ at: now, failed, slow });
    // Nothing older than what the window keeps can come back; trimming keeps long runs cheap.
    if (this.outcomes.length > 4 * this.size + 64) this.outcomes = this.held();
  }

  advance(now: number): void {
    this.latest = Math.max(this.latest, now);
  }

  clear(): void {
    this.outcomes = [];
  }

  /** The outcomes in the window as of the latest time it was given. */
  held(): RecordedOutcome[] {
    return this.type === 'count'
      ? lastCalls(this.outcomes, this.size)
      : recentCalls(this.outcomes, this.size, this.latest);
  }

  /** How many recorded outcomes (since the last clear) have fallen out of the window. */
  forgotten(): number {
    return this.outcomes.length - this.held().length;
  }

  totals(): WindowTotals {
    return totalsOf(this.held());
  }
}
