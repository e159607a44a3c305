import { WindowedCounts } from './windowed-counts';
import type { RetryBudgetSettings } from './budget-options';

/**
 * A retry budget, Finagle's and gRPC's answer to retry storms: in any window, retries (and hedges)
 * started may not exceed `ratio` × calls started + `minPerSecond` × window / 1000. A call's first
 * attempt is never refused; a retry the budget refuses is not made.
 */
export class RetryBudget {
  /** this process's calls started (first) and retries started (second) in the window */
  protected readonly counts: WindowedCounts;
  /** retries refused since the budget was made */
  refused = 0;
  /** minPerSecond × window / 1000: the retries a window always allows */
  protected readonly floor: number;

  constructor(
    /** the budget's name in logs and events: its own, or `Class.method`, or 'engine' */
    readonly name: string,
    readonly settings: RetryBudgetSettings,
  ) {
    this.counts = new WindowedCounts(settings.window);
    this.floor = (settings.minPerSecond * settings.window) / 1000;
  }

  callStarted(now: number): void {
    this.counts.add(now, 1, 0);
  }

  /** Spends one retry if the budget allows it now. */
  tryRetry(now: number): boolean {
    const { counts } = this;
    counts.advance(now);
    if (counts.second + 1 > this.settings.ratio * counts.first + this.floor) {
      this.refused++;
      return false;
    }
    counts.add(now, 0, 1);
    return true;
  }

  /** calls and retries started in the window now */
  usage(now: number): { calls: number; retries: number } {
    this.counts.advance(now);
    return { calls: this.counts.first, retries: this.counts.second };
  }
}
