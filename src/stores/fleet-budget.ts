import type { RetryBudgetSettings } from '../runtime/budget/budget-options';
import { RetryBudget } from '../runtime/budget/retry-budget';
import { WindowedCounts } from '../runtime/budget/windowed-counts';
import { describeError, type LogSink } from '../runtime/log';

/** What the store answers for a budget: the fleet's window, in the store's time. */
export interface FleetBudgetReply {
  /** BUDGET_WINDOW_DIFFERS */
  readonly flags: number;
  /** the window (ms) the store counts by */
  readonly window: number;
  /** absolute index of its newest bucket: floor(store time / (window / 10)) */
  readonly newest: number;
  /** calls and retries started in each bucket, from the newest back */
  readonly pairs: readonly number[];
  /** the store's time of the reply (Redis's clock, or the store's own clock) */
  readonly at: number;
}

/** The store counts this budget by another window than this process's (a process wrote its own since). */
export const BUDGET_WINDOW_DIFFERS = 1;

/** How a fleet budget talks to its store. */
export interface FleetBudgetLink {
  /**
   * The budget has counts to send: the store takes them (batchEntry()) in its next batch, within
   * flushInterval when `urgent` (a retry started, or the fleet's view is stale), later otherwise.
   */
  schedule(budget: FleetBudget, urgent: boolean): void;
  /** The store's own clock, when it has one (tests): the store's time is then read, not estimated. */
  readonly clock: (() => number) | undefined;
  /** ms after the store's last answer from which a call sends the budget's counts urgently */
  readonly staleAfter: number;
  readonly log: LogSink;
}

/** How long a budget that lost the store waits before sending to it again. */
const RESYNC_AFTER_MS = 1_000;
/** An estimate of the store's clock from a round trip longer than this is not taken over a better one. */
const CLOCK_SAMPLE_MAX_MS = 1_000;
/** How long the best clock estimate stands before a worse (slower round trip) one replaces it. */
const CLOCK_SAMPLE_KEPT_MS = 10_000;

/**
 * A named retry budget shared by every process on one store. Decisions stay in the process and
 * synchronous: the fleet's window (as of the store's last answer, aged here bucket by bucket) plus
 * this process's counts the store has not yet answered for. The counts travel in the store's
 * batches with the breakers' (no round trip of their own); a retry makes the batch urgent. When the
 * store fails, the budget decides by this process's own counts, as a local budget would, and
 * follows the fleet again once a batch is answered.
 */
export class FleetBudget extends RetryBudget {
  private mode: 'unsynced' | 'fleet' | 'local' = 'unsynced';
  /** the fleet's calls and retries, in the store's time, as of its last answer */
  private fleet: WindowedCounts;
  /** counts not yet taken into a batch, and those of the batch in flight */
  private pendingCalls = 0;
  private pendingRetries = 0;
  private sendingCalls = 0;
  private sendingRetries = 0;
  /** this clock's time when the batch in flight was taken, when the store last answered, when a batch was last sent */
  private sentAt = 0;
  private repliedAt = Number.NEGATIVE_INFINITY;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private scheduled = false;
  private scheduledUrgent = false;
  /** the store has counted by this process's window */
  private windowConfirmed = false;
  private warnedWindow = false;
  /** the store's time minus this clock's, from the round trip that took offsetRtt ms at offsetAt */
  private offset = 0;
  private offsetRtt = Number.POSITIVE_INFINITY;
  private offsetAt = Number.NEGATIVE_INFINITY;

  constructor(
    name: string,
    settings: RetryBudgetSettings,
    private readonly now: () => number,
    private readonly link: FleetBudgetLink,
  ) {
    super(name, settings);
    this.fleet = new WindowedCounts(settings.window);
  }

  override callStarted(now: number): void {
    this.counts.add(now, 1, 0);
    this.pendingCalls++;
    // A view the store has not refreshed lately (or ever) is refreshed before the call's retries, mostly.
    if (!this.scheduled)
      this.schedule(this.mode !== 'local' && now - this.repliedAt > this.link.staleAfter);
  }

  override tryRetry(now: number): boolean {
    if (this.mode === 'local') {
      if (!super.tryRetry(now)) return false;
    } else {
      const { fleet } = this;
      fleet.advance(now + this.offset);
      const calls = fleet.first + this.sendingCalls + this.pendingCalls;
      const retries = fleet.second + this.sendingRetries + this.pendingRetries;
      if (retries + 1 > this.settings.ratio * calls + this.floor) {
        this.refused++;
        return false;
      }
      this.counts.add(now, 0, 1);
    }
    this.pendingRetries++;
    if (!this.scheduledUrgent) this.schedule(true);
    return true;
  }

  /** The calls and retries the budget decides by now: the fleet's (with this process's unsent), or this process's alone. */
  override usage(now: number): { calls: number; retries: number } {
    if (this.mode === 'local') return super.usage(now);
    this.fleet.advance(now + this.offset);
    return {
      calls: this.fleet.first + this.sendingCalls + this.pendingCalls,
      retries: this.fleet.second + this.sendingRetries + this.pendingRetries,
    };
  }

  /** Whether the budget follows the fleet ('fleet'), has yet to hear from it, or decides alone since the store failed. */
  get following(): 'unsynced' | 'fleet' | 'local' {
    return this.mode;
  }

  /**
   * The arguments of this budget's entry for the store's batch (name, window, claim, calls,
   * retries since the last one), or undefined when it has none to send.
   */
  batchEntry(): (string | number)[] | undefined {
    this.scheduled = this.scheduledUrgent = false;
    if (this.pendingCalls === 0 && this.pendingRetries === 0) return undefined;
    const now = this.now();
    if (this.mode === 'local' && now - this.lastSentAt < RESYNC_AFTER_MS) {
      // The store failed a moment ago: these count in this process's own counts alone.
      this.pendingCalls = this.pendingRetries = 0;
      return undefined;
    }
    this.sentAt = this.lastSentAt = now;
    this.sendingCalls = this.pendingCalls;
    this.sendingRetries = this.pendingRetries;
    this.pendingCalls = this.pendingRetries = 0;
    const claim = this.windowConfirmed ? 0 : 1;
    return [this.name, this.settings.window, claim, this.sendingCalls, this.sendingRetries];
  }

  /** The store's answer to this budget's entry: the fleet's window, this batch's counts in it. */
  recorded(reply: FleetBudgetReply): void {
    this.sendingCalls = this.sendingRetries = 0;
    const receivedAt = this.now();
    this.noteClock(reply.at, receivedAt);
    this.repliedAt = receivedAt;
    if ((reply.flags & BUDGET_WINDOW_DIFFERS) === 0) this.windowConfirmed = true;
    else if (this.windowConfirmed && !this.warnedWindow) {
      this.warnedWindow = true;
      this.link.log.warn(
        `retry budget '${this.name}': another process of the fleet declares it with another window (${reply.window} ms); the fleet counts by the window written last (each process writes its own in its first batch)`,
        { budget: this.name },
      );
    }
    if (reply.window !== this.fleet.window) this.fleet = new WindowedCounts(reply.window);
    this.fleet.load(reply.newest, reply.pairs);
    const recovered = this.mode === 'local';
    this.mode = 'fleet';
    if (recovered)
      this.link.log.warn(
        `retry budget '${this.name}': the shared store answers again; counting the fleet's calls and retries`,
        { budget: this.name },
      );
  }

  /** The store's batch failed: the counts it carried stay in this process's own, which decide from now on. */
  recordFailed(error: unknown): void {
    this.sendingCalls = this.sendingRetries = 0;
    if (this.mode === 'local') return;
    this.mode = 'local';
    this.link.log.warn(
      `retry budget '${this.name}': the shared store failed (${describeError(error)}); deciding by this process's calls and retries until it answers again`,
      { budget: this.name, error },
    );
  }

  private schedule(urgent: boolean): void {
    this.scheduled = true;
    if (urgent) this.scheduledUrgent = true;
    this.link.schedule(this, urgent);
  }

  /** Learns the store's clock: its time at the decision against the middle of the round trip. */
  private noteClock(storeTime: number, receivedAt: number): void {
    const { clock } = this.link;
    if (clock !== undefined) {
      this.offset = clock() - receivedAt;
      return;
    }
    const rtt = receivedAt - this.sentAt;
    if (!(rtt >= 0) || !Number.isFinite(storeTime)) return;
    if (
      rtt <= this.offsetRtt ||
      (rtt <= CLOCK_SAMPLE_MAX_MS && receivedAt - this.offsetAt > CLOCK_SAMPLE_KEPT_MS)
    ) {
      this.offset = storeTime - (this.sentAt + receivedAt) / 2;
      this.offsetRtt = rtt;
      this.offsetAt = receivedAt;
    }
  }
}
