/** Recent call outcomes with running totals: O(1) work a call, memory fixed by the window's size. */
export interface OutcomeWindow {
  /** calls, failures and slow calls in the window, as of the last record() or advance() */
  readonly calls: number;
  readonly failures: number;
  readonly slowCalls: number;
  record(now: number, failed: boolean, slow: boolean): void;
  /** Drops what has fallen out of the window by `now` (a count window has nothing to drop). */
  advance(now: number): void;
  clear(): void;
}
