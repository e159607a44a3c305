import { CircuitOpenError, isAbortError } from '../errors';
import type { CircuitState } from '../events';
import type { ErrorClass } from '../retry/retry-options';
import type { BreakerSettings, ErrorPredicate } from './breaker-options';
import type { OutcomeWindow } from './outcome-window';
import { CountWindow } from './count-window';
import { TimeWindow } from './time-window';

/** A breaker's figures; counts cover the calls recorded since it entered its current state. */
export interface CircuitBreakerMetrics {
  /** the breaker's name, as in logs, events and `engine.breaker(name)` */
  readonly name: string;
  readonly state: CircuitState;
  /** when the breaker entered its state (the engine clock's time) */
  readonly since: number;
  /** calls, failures and slow calls in the sliding window */
  readonly calls: number;
  readonly failures: number;
  readonly slowCalls: number;
  /** failures / calls in the window (0 without calls) */
  readonly failureRate: number;
  /** slow calls / calls in the window (0 without calls) */
  readonly slowCallRate: number;
  /** recorded failures in a row */
  readonly consecutiveFailures: number;
  /** calls refused since the breaker entered its state */
  readonly rejected: number;
  /** openings in a row without a close between them */
  readonly openings: number;
  /** trial calls running now (half-open) */
  readonly trialCalls: number;
}

/** What `engine.breaker(name)` gives: the state, the figures, and the hand controls. */
export interface CircuitBreakerHandle {
  readonly name: string;
  /** the current state; an open breaker whose openDuration has passed reads as half-open */
  readonly state: CircuitState;
  metrics(): CircuitBreakerMetrics;
  /** holds the breaker open until reset() */
  isolate(): void;
  /** closes the breaker and forgets its history */
  reset(): void;
}

/** Told of every transition, to log and emit it. */
export interface BreakerObserver {
  stateChanged(breaker: Breaker, from: CircuitState, to: CircuitState, reason: string): void;
}

/** Returned by tryAcquire() when the call is refused. Permits are the breaker's epoch (≥ 0). */
export const REFUSED = -1;
/** Returned by tryAcquire() when only an asynchronous check can decide: await acquireAsync(). */
export const ASK_ASYNC = -2;

/** A breaker's state as another party (a fleet's shared store) reports it. */
export interface ReportedState {
  readonly state: CircuitState;
  readonly epoch: number;
  readonly since: number;
  readonly openUntil: number;
  readonly openings: number;
}

const ALLOWED: Record<CircuitState, readonly CircuitState[]> = {
  closed: ['open', 'isolated'],
  open: ['half-open', 'closed', 'isolated'],
  'half-open': ['open', 'closed', 'isolated'],
  isolated: ['closed'],
};

/**
 * The state machine. Open → half-open is decided from timestamps on the next call (or read of
 * `state`): there is no timer. Each transition starts a new epoch; an outcome that arrives with
 * a permit from an earlier epoch is stale and ignored, so a slow call admitted while closed can
 * neither spend nor release a half-open trial permit.
 */
export class Breaker implements CircuitBreakerHandle {
  protected current: CircuitState = 'closed';
  protected epoch = 0;
  protected since: number;
  protected consecutive = 0;
  protected openUntil = 0;
  protected openings = 0;
  protected trialsInFlight = 0;
  protected trialsSucceeded = 0;
  protected rejected = 0;
  protected readonly window: OutcomeWindow;
  private readonly windowNeedsTime: boolean;
  /** true when calls must be timed (slowCall is set) */
  readonly timesCalls: boolean;
  /** A success in the closed state only resets counters: no criterion can open on it. */
  protected successIsBookkeeping: boolean;
  /**
   * The last refusal, kept alive on purpose: while one CircuitOpenError lives, V8 keeps its hidden
   * class, and the optimised code of the rejection path survives full GCs instead of deoptimising.
   */
  protected lastRefusal: CircuitOpenError | undefined;

  constructor(
    readonly name: string,
    readonly settings: BreakerSettings,
    protected readonly now: () => number,
    protected readonly observer: BreakerObserver,
  ) {
    this.window =
      settings.window.type === 'count'
        ? new CountWindow(settings.window.size)
        : new TimeWindow(settings.window.size);
    this.windowNeedsTime = settings.window.type === 'time';
    this.timesCalls = settings.slowCall !== undefined;
    // With a failure rate, a success can complete minimumCalls and so open the breaker; a time
    // window needs the time of every call.
    this.successIsBookkeeping =
      !this.timesCalls &&
      settings.recordOnResult === undefined &&
      settings.failureRateThreshold === undefined &&
      settings.window.type === 'count';
    this.since = now();
  }

  /** when the breaker entered its current state (the engine clock's time) */
  get enteredAt(): number {
    return this.since;
  }

  get state(): CircuitState {
    if (this.current === 'open' && this.now() >= this.openUntil)
      this.transition('half-open', 'openDuration elapsed');
    return this.current;
  }

  /** A permit (the epoch) if the call may run, else REFUSED. */
  tryAcquire(): number {
    const state = this.current;
    if (state === 'closed') return this.epoch;
    // The call that notices openDuration has passed is the first trial candidate.
    if (state === 'open' && this.now() >= this.openUntil)
      this.transition('half-open', 'openDuration elapsed');
    if (
      this.current === 'half-open' &&
      this.trialsInFlight + this.trialsSucceeded < this.settings.halfOpenMaxCalls
    ) {
      this.trialsInFlight++;
      return this.epoch;
    }
    this.rejected++;
    return REFUSED;
  }

  /** Whether a call now would surely be refused (open before openDuration has passed, or isolated). */
  isRefusing(): boolean {
    return this.current === 'isolated' || (this.current === 'open' && this.now() < this.openUntil);
  }

  /**
   * For breakers whose decision may need a round trip (a fleet's half-open permits); `lease` is how
   * long the attempt may hold a permit (ms), when its deadline bounds that.
   */
  acquireAsync(_lease?: number): Promise<number> {
    return Promise.resolve(this.tryAcquire());
  }

  /** The error for a refused call; built without a stack trace, which would only point here. */
  refusal(): CircuitOpenError {
    const state = this.current === 'closed' ? 'half-open' : this.current;
    const retryAfter =
      state === 'open'
        ? Math.max(0, this.openUntil - this.now())
        : state === 'isolated'
          ? Number.POSITIVE_INFINITY
          : 0;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return (this.lastRefusal = new CircuitOpenError(this.name, state, retryAfter));
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  /** The call with this permit resolved with `result`, taking `duration` ms (0 if untimed). */
  succeeded(permit: number, result: unknown, duration: number): void {
    if (this.successIsBookkeeping && permit === this.epoch && this.current === 'closed') {
      this.window.record(0, false, false);
      this.consecutive = 0;
      return;
    }
    this.settle(permit, this.judgeResult(result), duration);
  }

  /** The call with this permit threw `error`. */
  failed(permit: number, error: unknown, duration: number): void {
    this.settle(permit, this.classify(error), duration);
  }

  isolate(): void {
    if (this.current !== 'isolated') this.transition('isolated', 'isolated by hand');
  }

  reset(): void {
    if (this.current !== 'closed') this.transition('closed', 'reset by hand');
    else this.clearHistory();
  }

  metrics(): CircuitBreakerMetrics {
    const state = this.state;
    if (this.windowNeedsTime) this.window.advance(this.now());
    const { calls, failures, slowCalls } = this.window;
    return {
      name: this.name,
      state,
      since: this.since,
      calls,
      failures,
      slowCalls,
      failureRate: calls === 0 ? 0 : failures / calls,
      slowCallRate: calls === 0 ? 0 : slowCalls / calls,
      consecutiveFailures: this.consecutive,
      rejected: this.rejected,
      openings: this.openings,
      trialCalls: this.trialsInFlight,
    };
  }

  protected judgeResult(result: unknown): 'success' | 'failure' {
    const { recordOnResult } = this.settings;
    if (recordOnResult === undefined) return 'success';
    try {
      return recordOnResult(result) === true ? 'failure' : 'success';
    } catch {
      return 'failure';
    }
  }

  protected classify(error: unknown): 'success' | 'failure' | 'ignored' {
    const { ignoreOn, recordOn } = this.settings;
    // The caller gave up; that says nothing about the service.
    if (isAbortError(error)) return 'ignored';
    if (ignoreOn !== undefined && matches(ignoreOn, error)) return 'ignored';
    if (recordOn === undefined || matches(recordOn, error)) return 'failure';
    return 'success';
  }

  protected settle(
    permit: number,
    outcome: 'success' | 'failure' | 'ignored',
    duration: number,
  ): void {
    if (permit !== this.epoch) return;
    const state = this.current;
    if (state === 'half-open') this.trialsInFlight--;
    else if (state !== 'closed') return;
    if (outcome === 'ignored') return;
    const failed = outcome === 'failure';
    const slow =
      this.timesCalls && duration > (this.settings.slowCall as { duration: number }).duration;
    this.window.record(this.windowNeedsTime ? this.now() : 0, failed, slow);
    this.consecutive = failed ? this.consecutive + 1 : 0;
    if (state === 'half-open') {
      if (failed || slow)
        this.transition('open', failed ? 'a trial call failed' : 'a trial call was slow');
      else if (++this.trialsSucceeded >= this.settings.halfOpenMaxCalls)
        this.transition('closed', 'all trial calls succeeded');
      return;
    }
    const reason = this.reasonToOpen();
    if (reason !== undefined) this.transition('open', reason);
  }

  private reasonToOpen(): string | undefined {
    const { consecutiveFailures, failureRateThreshold, slowCall, minimumCalls } = this.settings;
    if (consecutiveFailures !== undefined && this.consecutive >= consecutiveFailures)
      return `${this.consecutive} consecutive failures`;
    const { calls, failures, slowCalls } = this.window;
    if (calls < minimumCalls) return undefined;
    if (failureRateThreshold !== undefined && failures / calls >= failureRateThreshold) {
      return `failure rate ${percent(failures / calls)} >= ${percent(failureRateThreshold)} over ${calls} calls`;
    }
    if (slowCall !== undefined && slowCalls / calls >= slowCall.rateThreshold) {
      return `slow-call rate ${percent(slowCalls / calls)} >= ${percent(slowCall.rateThreshold)} over ${calls} calls`;
    }
    return undefined;
  }

  protected transition(to: CircuitState, reason: string): void {
    const from = this.current;
    if (!ALLOWED[from].includes(to))
      throw new Error(`circuit '${this.name}': illegal transition ${from} -> ${to}`);
    const now = this.now();
    this.current = to;
    this.epoch++;
    this.since = now;
    this.clearHistory();
    if (to === 'open') {
      this.openings++;
      this.openUntil = now + this.openDurationFor(this.openings);
    } else if (to === 'closed') {
      this.openings = 0;
    }
    this.observer.stateChanged(this, from, to, reason);
  }

  /**
   * Takes a state decided elsewhere (a fleet's shared store) if it is newer than ours (or always,
   * with `force`), and reports the change as any transition is reported.
   */
  adopt(reported: ReportedState, reason: string, force = false): void {
    if (
      !force &&
      (reported.epoch < this.epoch ||
        (reported.epoch === this.epoch && reported.state === this.current))
    )
      return;
    const from = this.current;
    this.current = reported.state;
    this.epoch = reported.epoch;
    this.since = reported.since;
    this.openUntil = reported.openUntil;
    this.openings = reported.openings;
    this.clearHistory();
    if (from !== reported.state) this.observer.stateChanged(this, from, reported.state, reason);
  }

  protected clearHistory(): void {
    this.window.clear();
    this.consecutive = 0;
    this.rejected = 0;
    this.trialsInFlight = 0;
    this.trialsSucceeded = 0;
  }

  protected openDurationFor(openings: number): number {
    const { openDuration, maxOpenDuration } = this.settings;
    let wanted: number;
    try {
      wanted = typeof openDuration === 'number' ? openDuration : openDuration(openings);
    } catch {
      wanted = Number.NaN;
    }
    // A growth function that returns nonsense (or throws) still leaves the breaker bounded.
    return Number.isFinite(wanted) && wanted >= 0
      ? Math.min(wanted, maxOpenDuration)
      : maxOpenDuration;
  }
}

function matches(matcher: readonly ErrorClass[] | ErrorPredicate, error: unknown): boolean {
  if (typeof matcher === 'function') {
    try {
      return matcher(error) === true;
    } catch {
      return false;
    }
  }
  for (const errorClass of matcher) if (error instanceof errorClass) return true;
  return false;
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10}%`;
}
