import type { CircuitBreakerOptions } from '../../../../src/runtime/breaker/breaker-options';
import type { CircuitBreakerMetrics } from '../../../../src/runtime/breaker/breaker';
import type { CircuitState } from '../../../../src/runtime/events';
import { ReferenceWindow } from './reference-window';

/** How a settled call counts: the test decides it from the outcome it produced. */
export type Verdict = 'success' | 'failure' | 'ignored';

/** A call the reference admitted: it belongs to the stretch of state it was admitted in. */
export interface ReferenceTicket {
  readonly stretch: number;
}

/** The reference reports the same figures as the breaker's public metrics, computed its own way. */
export type ReferenceMetrics = Omit<CircuitBreakerMetrics, 'name'>;

/**
 * The circuit breaker as SPEC.md and the option docs describe it, written plainly and without
 * looking for efficiency: every recorded outcome is kept, and the window is filtered when asked.
 *
 * - A "stretch" is the time between two state changes. Counts (window, failures in a row,
 *   refusals, trials) cover the current stretch only; a call admitted in an earlier stretch
 *   counts for nothing when it ends, and frees no trial permit.
 * - Open turns half-open when someone looks (a call or a read of the state) at or after
 *   openedAt + openDuration.
 * - Half-open admits halfOpenMaxCalls trials; one failed or slow trial reopens, all of them
 *   succeeding closes; an ignored trial gives its permit back.
 * - `reset()` of a closed breaker forgets the counts but is not a state change.
 */
export class ReferenceBreaker {
  /** The state as last decided, before any lazy open → half-open. */
  current: CircuitState = 'closed';
  enteredAt: number;
  /** When an open breaker starts admitting trials. */
  reopensAt = 0;
  /** Every state change, as 'from->to'. */
  readonly transitions: string[] = [];
  /** How often each notable situation arose, to show the generated runs reach them. */
  readonly milestones = new Map<string, number>();

  private stretch = 0;
  private readonly window: ReferenceWindow;
  private failuresInARow = 0;
  private refused = 0;
  private openingsInARow = 0;
  private trialsRunning = 0;
  private trialsPassed = 0;

  // The documented defaults: 5 failures in a row unless a failure rate is asked for; a count
  // window of 100; minimumCalls 10 (at most a count window's size); open 30 s, at most 600 s or
  // a fixed openDuration if that is longer.
  private readonly failureStreakLimit: number | undefined;
  private readonly failureRateThreshold: number | undefined;
  private readonly minimumCalls: number;
  private readonly slowAfter: number | undefined;
  private readonly slowRateThreshold: number;
  private readonly halfOpenMaxCalls: number;
  private readonly openDuration: number | ((openings: number) => number);
  private readonly maxOpenDuration: number;

  constructor(
    options: CircuitBreakerOptions,
    private readonly clock: () => number,
  ) {
    const rate = options.failureRate;
    const window = rate?.window ?? { type: 'count', size: 100 };
    this.window = new ReferenceWindow(window.type, window.size);
    this.failureStreakLimit = rate === undefined ? (options.consecutiveFailures ?? 5) : undefined;
    this.failureRateThreshold = rate?.threshold;
    this.minimumCalls =
      rate?.minimumCalls ?? (window.type === 'count' ? Math.min(10, window.size) : 10);
    this.slowAfter = options.slowCall?.duration;
    this.slowRateThreshold = options.slowCall?.rateThreshold ?? Number.POSITIVE_INFINITY;
    this.halfOpenMaxCalls = options.halfOpenMaxCalls ?? 1;
    this.openDuration = options.openDuration ?? 30_000;
    const fixedOpenDuration = typeof this.openDuration === 'number' ? this.openDuration : 0;
    this.maxOpenDuration = options.maxOpenDuration ?? Math.max(600_000, fixedOpenDuration);
    this.enteredAt = clock();
  }

  /** Reading the state: an open breaker past its openDuration becomes half-open. */
  readState(): CircuitState {
    this.wakeIfDue();
    return this.current;
  }

  /** Whether a call now would surely be refused, without looking (no lazy open → half-open). */
  isRefusing(): boolean {
    return (
      this.current === 'isolated' || (this.current === 'open' && this.clock() < this.reopensAt)
    );
  }

  /** A ticket if the call may run, undefined if it is refused. */
  acquire(): ReferenceTicket | undefined {
    if (this.current === 'closed') return { stretch: this.stretch };
    this.wakeIfDue();
    if (
      this.current === 'half-open' &&
      this.trialsRunning + this.trialsPassed < this.halfOpenMaxCalls
    ) {
      this.trialsRunning++;
      this.note('a trial call was admitted');
      if (this.trialsRunning === 3) this.note('three trial calls ran at once');
      return { stretch: this.stretch };
    }
    this.refused++;
    this.note(`a call was refused while ${this.current}`);
    return undefined;
  }

  /** What the refusal of a call says: the state, and ms until trials are admitted. */
  refusal(): { state: CircuitState; retryAfter: number } {
    if (this.current === 'open')
      return { state: 'open', retryAfter: this.reopensAt - this.clock() };
    if (this.current === 'isolated')
      return { state: 'isolated', retryAfter: Number.POSITIVE_INFINITY };
    return { state: 'half-open', retryAfter: 0 };
  }

  settle(ticket: ReferenceTicket, verdict: Verdict, duration: number): void {
    if (ticket.stretch !== this.stretch) {
      this.note('a call from an earlier state ended');
      return;
    }
    const trial = this.current === 'half-open';
    if (trial) this.trialsRunning--;
    if (verdict === 'ignored') {
      if (trial) this.note('an ignored trial gave its permit back');
      return;
    }
    const failed = verdict === 'failure';
    const slow = this.slowAfter !== undefined && duration > this.slowAfter;
    this.window.record(this.clock(), failed, slow);
    this.failuresInARow = failed ? this.failuresInARow + 1 : 0;
    if (trial) {
      if (failed || slow) {
        this.note(failed ? 'a failed trial reopened' : 'a slow trial reopened');
        this.enter('open');
      } else if (++this.trialsPassed === this.halfOpenMaxCalls) {
        this.enter('closed');
      }
      return;
    }
    if (this.shouldOpen()) this.enter('open');
  }

  isolate(): void {
    if (this.current !== 'isolated') this.enter('isolated');
  }

  reset(): void {
    if (this.current !== 'closed') {
      this.enter('closed');
      return;
    }
    this.forgetCounts();
  }

  metrics(): ReferenceMetrics {
    const state = this.readState();
    this.window.advance(this.clock());
    if (this.window.forgotten() > 0) this.note('the window forgot a call');
    const { calls, failures, slowCalls } = this.window.totals();
    return {
      state,
      since: this.enteredAt,
      calls,
      failures,
      slowCalls,
      failureRate: calls === 0 ? 0 : failures / calls,
      slowCallRate: calls === 0 ? 0 : slowCalls / calls,
      consecutiveFailures: this.failuresInARow,
      rejected: this.refused,
      openings: this.openingsInARow,
      trialCalls: this.trialsRunning,
    };
  }

  private wakeIfDue(): void {
    if (this.current !== 'open' || this.clock() < this.reopensAt) return;
    if (this.clock() === this.reopensAt)
      this.note('the breaker half-opened at exactly openedAt + openDuration');
    this.enter('half-open');
  }

  private shouldOpen(): boolean {
    if (this.failureStreakLimit !== undefined && this.failuresInARow >= this.failureStreakLimit)
      return true;
    const { calls, failures, slowCalls } = this.window.totals();
    if (calls < this.minimumCalls) return false;
    if (this.failureRateThreshold !== undefined && failures / calls >= this.failureRateThreshold)
      return true;
    return slowCalls / calls >= this.slowRateThreshold;
  }

  private enter(to: CircuitState): void {
    this.transitions.push(`${this.current}->${to}`);
    this.current = to;
    this.stretch++;
    this.enteredAt = this.clock();
    this.forgetCounts();
    this.trialsRunning = 0;
    this.trialsPassed = 0;
    if (to === 'open') {
      this.openingsInARow++;
      if (this.openingsInARow === 3) this.note('the breaker opened three times in a row');
      this.reopensAt = this.clock() + this.openDurationFor(this.openingsInARow);
    } else if (to === 'closed') {
      this.openingsInARow = 0;
    }
  }

  private openDurationFor(openings: number): number {
    const asked =
      typeof this.openDuration === 'function' ? this.openDuration(openings) : this.openDuration;
    if (
      typeof asked !== 'number' ||
      Number.isNaN(asked) ||
      asked < 0 ||
      asked === Number.POSITIVE_INFINITY
    ) {
      this.note('openDuration gave nonsense');
      return this.maxOpenDuration;
    }
    if (asked > this.maxOpenDuration) this.note('openDuration was capped');
    return Math.min(asked, this.maxOpenDuration);
  }

  private forgetCounts(): void {
    this.window.clear();
    this.failuresInARow = 0;
    this.refused = 0;
  }

  private note(milestone: string): void {
    this.milestones.set(milestone, (this.milestones.get(milestone) ?? 0) + 1);
  }
}
