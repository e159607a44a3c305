/** What a jitter strategy knows when it picks the n-th delay (n = 1 before the second attempt). */
export interface BackoffInput {
  readonly initialDelay: number;
  readonly maxDelay: number;
  /** min(maxDelay, initialDelay · multiplier^(n-1)): the cap is applied before randomising */
  readonly ceiling: number;
  /** the delay this strategy picked last time; initialDelay before the first */
  readonly previous: number;
  /** uniform in [0, 1) */
  readonly random: () => number;
}

/** One way of randomising a backoff delay. */
export interface JitterStrategy {
  nextDelay(input: BackoffInput): number;
}
