import { randomBytes } from 'node:crypto';
import {
  ASK_ASYNC,
  Breaker,
  REFUSED,
  type BreakerObserver,
  type CircuitBreakerMetrics,
} from '../runtime/breaker/breaker';
import type { BreakerSettings } from '../runtime/breaker/breaker-options';
import type { CircuitState } from '../runtime/events';
import type { LogSink } from '../runtime/log';
import { describeError } from '../runtime/log';

/** What a shared breaker's store answers: the fleet's state and its window. */
export interface FleetReply {
  readonly state: CircuitState;
  readonly epoch: number;
  readonly since: number;
  readonly openUntil: number;
  readonly openings: number;
  readonly calls: number;
  readonly failures: number;
  readonly slowCalls: number;
  readonly consecutive: number;
  readonly granted: boolean;
  readonly reason: string;
}

export type FleetOperation =
  'read' | 'record' | 'acquire' | 'settle' | 'release' | 'isolate' | 'reset';

/** How a fleet breaker talks to its store. */
export interface FleetLink {
  run(
    breaker: FleetBreaker,
    operation: FleetOperation,
    extra: readonly (string | number)[],
  ): Promise<FleetReply>;
  readonly flushInterval: number;
  readonly log: LogSink;
}

/** How long a breaker that lost the store waits before asking it again (on the next call after). */
const RESYNC_AFTER_MS = 1_000;
/** Trial permits are numbered from here, so that one never equals an epoch (a closed call's permit). */
const FIRST_TRIAL_PERMIT = 2 ** 52;
/** After the fleet refused a permit, calls are refused here without asking for this long (a lapse or a freed slot waits at most this). */
const PERMIT_RECHECK_MS = 50;
/** A trial permit's lease when the caller gives none: the opening's openDuration plus this. */
const LEASE_BEYOND_OPEN_DURATION_MS = 5_000;
/** The longest lease taken (about 24 days): a longer one is no lease at all. */
const MAX_LEASE_MS = 2_147_483_647;

/** A fleet trial permit this process holds: the epoch it was granted in and its name in the store. */
interface Trial {
  readonly epoch: number;
  readonly token: string;
}

/**
 * A breaker whose state is the fleet's. The closed path never waits on the store: outcomes are
 * buffered and sent in batches every `flushInterval` ms, and state comes back with each batch and
 * through pub/sub. Only what the fleet must decide together waits: the first call (to learn the
 * fleet's state) and half-open trial permits. When the store fails, the breaker carries on as a
 * local breaker from the state it last knew, and follows the fleet again once the store answers.
 *
 * Trial permits are leased: the store frees a permit whose holder neither settles nor releases it
 * within its lease (a process killed mid-trial, a grant that came after the caller gave up), and
 * ignores that permit's late outcome. A process asks for at most as many permits at once as it
 * could be granted, so a burst at a half-open breaker costs a few round trips, not one a call.
 */
export class FleetBreaker extends Breaker {
  private mode: 'unsynced' | 'fleet' | 'local' = 'unsynced';
  private syncing: Promise<void> | undefined;
  private lastSyncAttempt = Number.NEGATIVE_INFINITY;
  private pendingOutcomes = '';
  private pendingEpoch = -1;
  private flushTimer: NodeJS.Timeout | undefined;
  private inFlightFlush: Promise<void> | undefined;
  private fleetWindow = { calls: 0, failures: 0, slowCalls: 0, consecutive: 0 };
  /** trial permits held, by the permit number the pipeline got */
  private readonly trials = new Map<number, Trial>();
  private nextTrialPermit = FIRST_TRIAL_PERMIT;
  /** names this process's permits apart from every other process's in the store */
  private readonly tokenPrefix = randomBytes(6).toString('base64url');
  /** permit requests sent and not yet answered */
  private permitRequests = 0;
  /** the fleet refused a permit in epoch `fullEpoch`: ask again only from `fullUntil` */
  private fullEpoch = -1;
  private fullUntil = 0;

  constructor(
    name: string,
    settings: BreakerSettings,
    now: () => number,
    observer: BreakerObserver,
    private readonly link: FleetLink,
  ) {
    super(name, settings, now, observer);
    // Every outcome of a fleet breaker goes through settle(), to reach the fleet's window.
    this.successIsBookkeeping = false;
  }

  /** The engine clock's time, for the store's scripts. */
  clockNow(): number {
    return this.now();
  }

  /** The settings every process of the fleet must agree on, as the store's script reads them. */
  fleetSettings(): string {
    const { settings } = this;
    const window = settings.window;
    const buckets = window.type === 'time' ? Math.min(10, window.size) : 0;
    const durations: number[] = [];
    for (let openings = 1; openings <= 16; openings++)
      durations.push(this.openDurationFor(openings));
    return JSON.stringify({
      type: window.type,
      size: window.size,
      buckets,
      width: buckets === 0 ? 0 : window.size / buckets,
      consecutive: settings.consecutiveFailures,
      threshold: settings.failureRateThreshold,
      minimum: settings.minimumCalls,
      slowRate: settings.slowCall?.rateThreshold,
      halfOpenMax: settings.halfOpenMaxCalls,
      durations,
    });
  }

  override get state(): CircuitState {
    if (this.mode !== 'fleet') return super.state;
    // The fleet moves an open breaker to half-open on the next call; until then it reads as half-open.
    return this.current === 'open' && this.now() >= this.openUntil ? 'half-open' : this.current;
  }

  override tryAcquire(): number {
    if (this.mode === 'unsynced') return ASK_ASYNC;
    if (this.mode === 'local') {
      this.resyncInBackground();
      return super.tryAcquire();
    }
    const state = this.current;
    if (state === 'closed') return this.epoch;
    if (
      state === 'isolated' ||
      (state === 'open' && this.now() < this.openUntil) ||
      !this.mayAskForPermit()
    ) {
      this.rejected++;
      return REFUSED;
    }
    return ASK_ASYNC;
  }

  /**
   * Asks the fleet for a trial permit (or, before the first call's read, for the state). `lease`
   * (ms) is how long the permit stays taken if its holder never settles it; without one, the
   * current opening's openDuration + 5 000 ms.
   */
  override async acquireAsync(lease?: number): Promise<number> {
    if (this.mode === 'unsynced') await this.sync();
    const permit = this.tryAcquire();
    if (permit !== ASK_ASYNC) return permit;
    const trialPermit = this.nextTrialPermit++;
    const token = `${this.tokenPrefix}.${(trialPermit - FIRST_TRIAL_PERMIT).toString(36)}`;
    let reply: FleetReply;
    this.permitRequests++;
    try {
      reply = await this.link.run(this, 'acquire', [token, this.leaseFor(lease)]);
    } catch (error) {
      // Redis may still grant it after we gave up: freed at once if it hears us, by the lease if not.
      this.release(token);
      this.fallBack(error);
      return super.tryAcquire();
    } finally {
      this.permitRequests--;
    }
    this.adoptReply(reply);
    if (reply.granted) {
      if (reply.state !== 'half-open') return reply.epoch;
      if (this.mode === 'fleet' && reply.epoch === this.epoch) {
        this.trialsInFlight++;
        this.trials.set(trialPermit, { epoch: reply.epoch, token });
        return trialPermit;
      }
      // This process saw that half-open end meanwhile, or lost the store: the permit is not used.
      this.release(token);
      if (this.mode === 'local') return super.tryAcquire();
    } else {
      this.fullEpoch = reply.epoch;
      this.fullUntil = this.now() + PERMIT_RECHECK_MS;
    }
    this.rejected++;
    return REFUSED;
  }

  override isolate(): void {
    if (this.mode === 'local') return super.isolate();
    this.announce('isolated', 'isolated by hand');
    this.command('isolate');
  }

  override reset(): void {
    if (this.mode === 'local') return super.reset();
    this.announce('closed', 'reset by hand');
    this.command('reset');
  }

  override metrics(): CircuitBreakerMetrics {
    const local = super.metrics();
    if (this.mode !== 'fleet') return local;
    const { calls, failures, slowCalls, consecutive } = this.fleetWindow;
    return {
      ...local,
      calls,
      failures,
      slowCalls,
      consecutiveFailures: consecutive,
      failureRate: calls === 0 ? 0 : failures / calls,
      slowCallRate: calls === 0 ? 0 : slowCalls / calls,
    };
  }

  /** A state change another process published. */
  onPublished(
    reported: Omit<FleetReply, 'calls' | 'failures' | 'slowCalls' | 'consecutive' | 'granted'>,
  ): void {
    if (this.mode !== 'fleet') return;
    if (reported.epoch > this.epoch) this.clearFleetWindow();
    this.adopt(reported, reported.reason);
  }

  /** The store (re)connected: learn the fleet's state again before trusting the local view. */
  markUnsynced(): void {
    if (this.mode === 'fleet') this.mode = 'unsynced';
  }

  /** Reads the fleet's state again, in the background, and takes it if it is newer. */
  refresh(): void {
    if (this.mode !== 'fleet') return;
    this.link.run(this, 'read', []).then(
      (reply) => this.adoptReply(reply),
      (error: unknown) => this.fallBack(error),
    );
  }

  /** Sends what is buffered now; resolves when the store has it (or has failed). */
  async flush(): Promise<void> {
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    await this.inFlightFlush;
    const outcomes = this.pendingOutcomes;
    if (outcomes === '') return;
    const epoch = this.pendingEpoch;
    this.pendingOutcomes = '';
    this.inFlightFlush = this.link
      .run(this, 'record', [epoch, outcomes])
      .then(
        (reply) => this.adoptReply(reply),
        (error: unknown) => this.fallBack(error, outcomes),
      )
      .finally(() => (this.inFlightFlush = undefined));
    await this.inFlightFlush;
  }

  protected override settle(
    permit: number,
    outcome: 'success' | 'failure' | 'ignored',
    duration: number,
  ): void {
    const trial = this.trials.get(permit);
    if (trial !== undefined) return this.settleTrial(permit, trial, outcome, duration);
    if (this.mode !== 'fleet') return super.settle(permit, outcome, duration);
    if (permit !== this.epoch || this.current !== 'closed' || outcome === 'ignored') return;
    const slow =
      this.timesCalls && duration > (this.settings.slowCall as { duration: number }).duration;
    if (permit !== this.pendingEpoch) {
      // Outcomes of an earlier epoch count nowhere.
      this.pendingOutcomes = '';
      this.pendingEpoch = permit;
    }
    this.pendingOutcomes += String((outcome === 'failure' ? 1 : 0) + (slow ? 2 : 0));
    if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => void this.flush(), this.link.flushInterval);
      // Batching is an optimisation, not pending work: it must not hold the process open.
      this.flushTimer.unref();
    }
  }

  /** Reports a trial's outcome to the fleet, which counts it only if the permit has not lapsed. */
  private settleTrial(
    permit: number,
    trial: Trial,
    outcome: 'success' | 'failure' | 'ignored',
    duration: number,
  ): void {
    this.trials.delete(permit);
    const current = trial.epoch === this.epoch;
    if (current && this.current === 'half-open' && this.trialsInFlight > 0) this.trialsInFlight--;
    // The fleet has moved on from that half-open (its epoch came from the fleet): nothing to tell.
    if (!current && this.mode === 'fleet') return;
    const slow =
      this.timesCalls && duration > (this.settings.slowCall as { duration: number }).duration;
    const verdict =
      outcome === 'ignored'
        ? 'ignored'
        : outcome === 'failure'
          ? 'failure'
          : slow
            ? 'slow'
            : 'success';
    this.link.run(this, 'settle', [trial.epoch, verdict, trial.token]).then(
      (reply) => this.adoptReply(reply),
      (error: unknown) => this.fallBack(error),
    );
  }

  /** Gives a permit back without an outcome; if Redis does not hear it, the permit's lease frees it. */
  private release(token: string): void {
    this.link.run(this, 'release', [token]).then(
      (reply) => this.adoptReply(reply),
      () => undefined,
    );
  }

  /**
   * A process never has more permit requests in flight than permits it could be granted, and after
   * the fleet said no it waits a moment before asking again: refused calls cost no round trip.
   */
  private mayAskForPermit(): boolean {
    if (this.permitRequests + this.trialsInFlight >= this.settings.halfOpenMaxCalls) return false;
    return this.epoch !== this.fullEpoch || this.now() >= this.fullUntil;
  }

  private leaseFor(lease: number | undefined): number {
    if (lease !== undefined && Number.isFinite(lease) && lease > 0)
      return Math.min(Math.ceil(lease), MAX_LEASE_MS);
    return this.openDurationFor(Math.max(1, this.openings)) + LEASE_BEYOND_OPEN_DURATION_MS;
  }

  private sync(): Promise<void> {
    this.syncing ??= this.link
      .run(this, 'read', [])
      .then(
        (reply) => this.follow(reply),
        (error: unknown) => this.fallBack(error),
      )
      .finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private resyncInBackground(): void {
    const now = this.now();
    if (now - this.lastSyncAttempt < RESYNC_AFTER_MS || this.syncing !== undefined) return;
    this.lastSyncAttempt = now;
    void this.sync();
  }

  private fallBack(error: unknown, unsent = ''): void {
    this.lastSyncAttempt = this.now();
    if (this.mode === 'local') return;
    this.mode = 'local';
    // Outcomes the fleet never got still count, in the local state the breaker carries on with.
    const outcomes = unsent + this.pendingOutcomes;
    const epoch = this.pendingEpoch;
    this.pendingOutcomes = '';
    for (const code of outcomes) {
      const failed = code === '1' || code === '3';
      super.settle(
        epoch,
        failed ? 'failure' : 'success',
        code >= '2' ? Number.POSITIVE_INFINITY : 0,
      );
    }
    this.link.log.warn(
      `circuit '${this.name}': the shared store failed (${describeError(error)}); using local state until it answers again`,
      {
        circuit: this.name,
        error,
      },
    );
  }

  private adoptReply(reply: FleetReply): void {
    if (this.mode !== 'fleet') return;
    if (reply.epoch > this.epoch) this.clearFleetWindow();
    this.adopt(reply, reply.reason || 'decided by the fleet');
    if (reply.epoch === this.epoch) this.setFleetWindow(reply);
  }

  private setFleetWindow(reply: FleetReply): void {
    this.fleetWindow = {
      calls: reply.calls,
      failures: reply.failures,
      slowCalls: reply.slowCalls,
      consecutive: reply.consecutive,
    };
  }

  private clearFleetWindow(): void {
    this.fleetWindow = { calls: 0, failures: 0, slowCalls: 0, consecutive: 0 };
  }

  /** Shows a hand-made change at once; the fleet's reply then confirms it with its epoch. */
  private announce(to: CircuitState, reason: string): void {
    const from = this.current;
    this.current = to;
    this.clearHistory();
    this.clearFleetWindow();
    if (from !== to) this.observer.stateChanged(this, from, to, reason);
  }

  /** A hand command goes to the fleet even before this process's first call; its reply syncs the view. */
  private command(operation: 'isolate' | 'reset'): void {
    this.link.run(this, operation, []).then(
      (reply) => (this.mode === 'fleet' ? this.adoptReply(reply) : this.follow(reply)),
      (error: unknown) => this.fallBack(error),
    );
  }

  /** Starts following the fleet from a reply of the store. */
  private follow(reply: FleetReply): void {
    const recovered = this.mode === 'local';
    this.mode = 'fleet';
    this.clearFleetWindow();
    this.adopt(reply, reply.reason || 'state read from the fleet', true);
    this.setFleetWindow(reply);
    if (recovered)
      this.link.log.warn(
        `circuit '${this.name}': the shared store answers again; following the fleet's state`,
        { circuit: this.name },
      );
  }
}
