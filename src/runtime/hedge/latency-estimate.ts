/** The histogram's buckets: bucket i holds latencies in [FIRST · GROWTH^(i-1), FIRST · GROWTH^i) ms. */
const FIRST = 0.1;
const GROWTH = 1.1;
const BUCKETS = 200;
/** After this many samples, every count is halved: older latencies weigh less and less. */
const HALF_LIFE = 1_000;
/** Below this many (decayed) samples, no percentile is trusted. */
const ENOUGH = 20;

/**
 * A streaming estimate of a percentile of recent latencies, in O(1) memory: a log-scale histogram
 * (10 % wide buckets, 0.1 ms to hours) whose counts decay, so that the estimate follows the service
 * as it changes. Precise to a bucket: within about 10 %.
 */
export class LatencyEstimate {
  private readonly counts = new Float64Array(BUCKETS + 1);
  private total = 0;
  private sinceDecay = 0;

  record(ms: number): void {
    const bucket =
      ms <= FIRST ? 0 : Math.min(BUCKETS, Math.ceil(Math.log(ms / FIRST) / Math.log(GROWTH)));
    this.counts[bucket]++;
    this.total++;
    if (++this.sinceDecay >= HALF_LIFE) {
      this.sinceDecay = 0;
      for (let i = 0; i <= BUCKETS; i++) (this.counts[i] as number) /= 2;
      this.total /= 2;
    }
  }

  /** The `p` percentile in ms (a bucket's upper bound), or undefined while too few latencies are known. */
  percentile(p: number): number | undefined {
    if (this.total < ENOUGH) return undefined;
    const wanted = p * this.total;
    let seen = 0;
    for (let i = 0; i <= BUCKETS; i++) {
      seen += this.counts[i] as number;
      if (seen >= wanted) return FIRST * GROWTH ** i;
    }
    return FIRST * GROWTH ** BUCKETS;
  }
}
