import { createHash, randomBytes } from 'node:crypto';
import {
  ASK_ASYNC,
  Breaker,
  REFUSED,
  type BreakerObserver,
  type CircuitBreakerMetrics,
} from '../runtime/breaker/breaker';
import type { BreakerSettings } from '../runtime/breaker/breaker-options';
import type { CircuitOpenError } from '../runtime/errors';
import type { CircuitState } from '../runtime/events';
import type { LogSink } from '../runtime/log';
import type { SharedBreakerReply } from '../runtime/shared-breaker-store';
import { describeError } from '../runtime/log';
import { ProcessBreaker } from './process-breaker';

/** What the store answers for a breaker (the public reply), with the store's time of the decision. */
export type FleetReply = SharedBreakerReply & {
  /** the store's time of the decision (Redis's clock, or the store's own clock) */
  readonly at: number;
};

/** Operations sent on their own, at once; outcomes travel in the store's batches. */
export type FleetOperation = 'read' | 'acquire' | 'settle' | 'release' | 'isolate' | 'reset';

/** How a fleet breaker talks to its store. */
export interface FleetLink {
  /** Sends one operation now (a round trip of its own): the breaker's entry for `epoch`, then `args`. */
  run(
    breaker: FleetBreaker,
    operation: FleetOperation,
    epoch: number,
    args: readonly (string | number)[],
  ): Promise<FleetReply>;
  /**
   * The breaker has outcomes to send: the store takes them (batchEntry()) with every other breaker's
   * in its next batch, within flushInterval when `urgent` (a failure or a slow call), later otherwise.
   */
  schedule(breaker: FleetBreaker, urgent: boolean): void;
  /** The store's own clock, when it has one (tests): the store's time is then read, not estimated. */
  readonly clock: (() => number) | undefined;
  readonly log: LogSink;
}

/** How often a breaker that refuses calls (open, isolated) reads the fleet's state, in case it missed a change. */
const REFRESH_WHILE_REFUSING_MS = 1_000;
/** How long a breaker that lost the store waits before asking it again (on the next call after). */
const RESYNC_AFTER_MS = 1_000;
/** Trial permits are numbered from here, so that one never equals a closed call's permit. */
const FIRST_TRIAL_PERMIT = 2 ** 52;
/** A closed call's permit: the fleet's epoch + this × the process breaker's epoch tag (quorum > 1). */
const FLEET_EPOCH_SPAN = 2 ** 32;
/** After the fleet refused a permit, calls are refused here without asking for this long (a lapse or a freed slot waits at most this). */
const PERMIT_RECHECK_MS = 50;
/** A trial permit's lease when the caller gives none: the opening's openDuration plus this. */
const LEASE_BEYOND_OPEN_DURATION_MS = 5_000;
/** The longest lease taken (about 24 days): a longer one is no lease at all. */
const MAX_LEASE_MS = 2_147_483_647;
/** An estimate of the store's clock from a round trip longer than this is not taken over a better one. */
const CLOCK_SAMPLE_MAX_MS = 1_000;
/** How long the best clock estimate stands before a worse (slower round trip) one replaces it. */
const CLOCK_SAMPLE_KEPT_MS = 10_000;
/** Openings whose openDuration the store is told (the 16th and later use the 16th's). */
const OPENINGS_TOLD = 16;

/** A fleet trial permit this process holds: the epoch it was granted in and its name in the store. */
interface Trial {
  readonly epoch: number;
  readonly token: string;
}

/**
 * One process's outcomes since its last batch, aggregated: what the fleet's window and the
 * consecutive-failures rule need, in O(1) space whatever the number of calls.
 */
class OutcomeCounts {
  calls = 0;
  failures = 0;
  slow = 0;
  /** failures before the first success */
  lead = 0;
  /** failures after the last success */
  trail = 0;
  /** the longest run of failures */
  run = 0;

  add(failed: boolean, slow: boolean): void {
    this.calls++;
    if (slow) this.slow++;
    if (!failed) {
      this.trail = 0;
      return;
    }
    this.failures++;
    if (this.lead === this.calls - 1) this.lead++;
    if (++this.trail > this.run) this.run = this.trail;
  }

  clear(): void {
    this.calls = this.failures = this.slow = this.lead = this.trail = this.run = 0;
  }

  /**
   * One order of outcomes these counts could have come from (for a local breaker to take them in):
   * the leading failures, the successes with the other failures spread between them, the trailing
   * failures; the first `slow` of them slow.
   */
  *sequence(): Generator<{ failed: boolean; slow: boolean }> {
    let slowLeft = this.slow;
    const next = (failed: boolean) => ({ failed, slow: slowLeft-- > 0 });
    if (this.lead === this.calls) {
      for (let i = 0; i < this.calls; i++) yield next(true);
      return;
    }
    const successes = this.calls - this.failures;
    let middle = this.failures - this.lead - this.trail;
    for (let i = 0; i < this.lead; i++) yield next(true);
    for (let i = 0; i < successes; i++) {
      yield next(false);
      const gaps = successes - 1 - i;
      const here = gaps > 0 ? Math.ceil(middle / gaps) : 0;
      for (let j = 0; j < here; j++) yield next(true);
      middle -= here;
    }
    for (let i = 0; i < this.trail; i++) yield next(true);
  }
}

/**
 * A breaker whose state is the fleet's. The closed path never waits on the store: outcomes are
 * counted here and the counts travel in the store's next batch (with every other breaker's), and
 * the state comes back with each batch and through pub/sub. Only what the fleet must decide
 * together waits: the first call (to learn the fleet's state) and half-open trial permits. When the
 * store fails, the breaker carries on as a local breaker from the state it last knew, and follows
 * the fleet again once the store answers.
 *
 * Times come from the store (Redis's clock): this process translates them to its own clock with an
 * offset estimated from each round trip, so hosts whose clocks disagree agree on the breaker.
 *
 * Trial permits are leased: the store frees a permit whose holder neither settles nor releases it
 * within its lease (a process killed mid-trial, a grant that came after the caller gave up), and
 * ignores that permit's late outcome. A process asks for at most as many permits at once as it
 * could be granted, so a burst at a half-open breaker costs a few round trips, not one a call.
 *
 * With a quorum above 1, the process also judges its own outcomes (a ProcessBreaker): the fleet
 * opens only on failures from `quorum` processes, and failures fewer processes see open the breaker
 * in those processes alone.
 */
export class FleetBreaker extends Breaker {
  /** the settings digest the store keeps, and the settings as the store's script reads them */
  readonly settingsDigest: number;
  private readonly settingsText: string;
  /** the store has confirmed it holds this process's settings */
  private settingsStored = false;
  private warnedSettings = false;
  private mode: 'unsynced' | 'fleet' | 'local' = 'unsynced';
  private syncing: Promise<void> | undefined;
  private lastSyncAttempt = Number.NEGATIVE_INFINITY;
  /** when a refusing breaker last read the fleet's state (see refreshWhileRefusing) */
  private refusingReadAt = Number.NEGATIVE_INFINITY;
  /** outcomes not yet taken into a batch, of epoch pendingEpoch */
  private pending = new OutcomeCounts();
  private pendingEpoch = -1;
  /** the outcomes of the batch in flight, of epoch sendingEpoch, sent at sentAt (this clock) */
  private sending = new OutcomeCounts();
  private sendingEpoch = -1;
  private sentAt = 0;
  /** told the store (scheduled), and whether urgently */
  private scheduled = false;
  private scheduledUrgent = false;
  private fleetWindow = { calls: 0, failures: 0, slowCalls: 0, consecutive: 0 };
  /** the store's time minus this clock's, from the round trip that took offsetRtt ms at offsetAt */
  private offset = 0;
  private offsetRtt = Number.POSITIVE_INFINITY;
  private offsetAt = Number.NEGATIVE_INFINITY;
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
  /** this process's own verdict, with a quorum above 1 */
  private readonly own: ProcessBreaker | undefined;

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
    this.settingsText = this.describeSettings();
    this.settingsDigest = Number.parseInt(
      createHash('sha1').update(this.settingsText).digest('hex').slice(0, 8),
      16,
    );
    if (settings.quorum > 1) {
      const alone = `this process only: the fleet opens on failures from ${settings.quorum} processes`;
      this.own = new ProcessBreaker(name, settings, now, {
        stateChanged: (_breaker, from, to, reason) =>
          observer.stateChanged(this, from, to, `${reason} (${alone})`),
      });
    }
  }

  /** The arguments every entry of this breaker starts with: name, epoch, settings digest, settings if the store may lack them. */
  entryHead(epoch: number, withSettings = false): (string | number)[] {
    return [
      this.name,
      epoch,
      this.settingsDigest,
      withSettings || !this.settingsStored ? this.settingsText : '',
    ];
  }

  override get state(): CircuitState {
    let fleet: CircuitState;
    if (this.mode !== 'fleet') fleet = super.state;
    // The fleet moves an open breaker to half-open on the next call; until then it reads as half-open.
    else
      fleet = this.current === 'open' && this.now() >= this.openUntil ? 'half-open' : this.current;
    return fleet === 'closed' && this.own !== undefined ? this.own.state : fleet;
  }

  override tryAcquire(): number {
    if (this.mode === 'unsynced') return ASK_ASYNC;
    if (this.mode === 'local') {
      this.resyncInBackground();
      const permit = super.tryAcquire();
      return permit >= 0 && this.current === 'closed' ? this.withOwn(permit) : permit;
    }
    const state = this.current;
    if (state === 'closed') return this.own === undefined ? this.epoch : this.withOwn(this.epoch);
    if (state === 'isolated' || (state === 'open' && this.now() < this.openUntil)) {
      this.rejected++;
      this.refreshWhileRefusing();
      return REFUSED;
    }
    if (!this.mayAskForPermit()) {
      this.rejected++;
      return REFUSED;
    }
    return ASK_ASYNC;
  }

  override isRefusing(): boolean {
    if (super.isRefusing()) return true;
    return this.current === 'closed' && this.own !== undefined && this.own.isRefusing();
  }

  override refusal(): CircuitOpenError {
    // Refused while the fleet is closed: this process's own verdict refused it.
    if (this.current === 'closed' && this.own !== undefined && this.mode !== 'unsynced')
      return this.own.refusal();
    return super.refusal();
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
      reply = await this.send('acquire', this.epoch, [token, this.leaseFor(lease)]);
    } catch (error) {
      // Redis may still grant it after we gave up: freed at once if it hears us, by the lease if not.
      this.release(token);
      this.fallBack(error);
      return this.tryAcquire();
    } finally {
      this.permitRequests--;
    }
    this.adoptReply(reply);
    if (reply.granted) {
      if (reply.state !== 'half-open')
        return this.own === undefined ? reply.epoch : this.withOwn(reply.epoch);
      if (this.mode === 'fleet' && reply.epoch === this.epoch) {
        this.trialsInFlight++;
        this.trials.set(trialPermit, { epoch: reply.epoch, token });
        return trialPermit;
      }
      // This process saw that half-open end meanwhile, or lost the store: the permit is not used.
      this.release(token);
      if (this.mode === 'local') return this.tryAcquire();
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
    this.own?.reset();
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

  /** A state change another process published (times in the store's clock). */
  onPublished(
    reported: Pick<FleetReply, 'state' | 'epoch' | 'since' | 'openUntil' | 'openings' | 'reason'>,
  ): void {
    if (this.mode !== 'fleet') return;
    if (reported.epoch > this.epoch) this.clearFleetWindow();
    this.adopt(this.inLocalTime(reported), reported.reason);
  }

  /** The store (re)connected: learn the fleet's state again before trusting the local view. */
  markUnsynced(): void {
    if (this.mode === 'fleet') this.mode = 'unsynced';
  }

  /**
   * An open or isolated breaker sends the store nothing, so a reset or isolation whose published
   * message it missed (a subscriber reconnecting: cluster clients do not say when theirs has) would
   * hold until openDuration ends, or for ever. While it refuses calls, it reads the fleet's state
   * again at most once every REFRESH_WHILE_REFUSING_MS.
   */
  private refreshWhileRefusing(): void {
    const now = this.now();
    // Counted from the state's start too: a fresh opening was just learnt, nothing to read yet.
    if (now - Math.max(this.refusingReadAt, this.since) < REFRESH_WHILE_REFUSING_MS) return;
    this.refusingReadAt = now;
    this.refresh();
  }

  /** Reads the fleet's state again, in the background, and takes it if it is newer. */
  refresh(): void {
    if (this.mode !== 'fleet') return;
    this.send('read', this.epoch, []).then(
      (reply) => this.adoptReply(reply),
      (error: unknown) => this.fallBack(error),
    );
  }

  /**
   * The arguments of this breaker's record entry for the store's batch (its outcomes since the
   * last one), or undefined when it has none to send. The store answers with recorded() or
   * recordFailed().
   */
  batchEntry(): (string | number)[] | undefined {
    this.scheduled = this.scheduledUrgent = false;
    const counts = this.pending;
    if (counts.calls === 0 || this.mode !== 'fleet') return undefined;
    // The two sets of counts swap roles: no allocation a batch.
    this.pending = this.sending;
    this.pending.clear();
    this.sending = counts;
    this.sendingEpoch = this.pendingEpoch;
    this.sentAt = this.now();
    const { calls, failures, slow, lead, trail, run } = counts;
    return [...this.entryHead(this.sendingEpoch), calls, failures, slow, lead, trail, run];
  }

  /** The store's answer to this breaker's entry in a batch. */
  recorded(reply: FleetReply): void {
    this.sending.clear();
    this.noteReply(reply, this.sentAt);
    this.adoptReply(reply);
  }

  /** The store's batch failed: the outcomes it carried count in the local state this breaker carries on with. */
  recordFailed(error: unknown): void {
    this.fallBack(error, this.sending, this.sendingEpoch);
    this.sending.clear();
  }

  protected override settle(
    permit: number,
    outcome: 'success' | 'failure' | 'ignored',
    duration: number,
  ): void {
    if (permit >= FIRST_TRIAL_PERMIT) {
      const trial = this.trials.get(permit);
      if (trial !== undefined) this.settleTrial(permit, trial, outcome, duration);
      return;
    }
    const epoch = permit % FLEET_EPOCH_SPAN;
    const own = this.own;
    if (
      own !== undefined &&
      epoch === this.epoch &&
      this.current === 'closed' &&
      (permit - epoch) / FLEET_EPOCH_SPAN === own.epochTag
    )
      own.record(outcome, duration);
    if (this.mode !== 'fleet') {
      // Alone, this process's own verdict judges the closed state; the state it last knew plays out here.
      if (own === undefined || this.current !== 'closed') super.settle(epoch, outcome, duration);
      return;
    }
    if (epoch !== this.epoch || this.current !== 'closed' || outcome === 'ignored') return;
    const failed = outcome === 'failure';
    const slow =
      this.timesCalls && duration > (this.settings.slowCall as { duration: number }).duration;
    if (epoch !== this.pendingEpoch) {
      // Outcomes of an earlier epoch count nowhere.
      this.pending.clear();
      this.pendingEpoch = epoch;
    }
    this.pending.add(failed, slow);
    if (!this.scheduled || ((failed || slow) && !this.scheduledUrgent))
      this.schedule(failed || slow);
  }

  /** The settings every process of the fleet must agree on, as the store's script reads them. */
  private describeSettings(): string {
    const { settings } = this;
    const window = settings.window;
    const buckets = window.type === 'time' ? Math.min(10, window.size) : 0;
    const durations: number[] = [];
    for (let openings = 1; openings <= OPENINGS_TOLD; openings++)
      durations.push(this.openDurationFor(openings));
    const optional = (value: number | undefined): string => (value === undefined ? '' : `${value}`);
    return [
      window.type,
      window.size,
      buckets,
      buckets === 0 ? 0 : window.size / buckets,
      optional(settings.consecutiveFailures),
      optional(settings.failureRateThreshold),
      settings.minimumCalls,
      optional(settings.slowCall?.rateThreshold),
      settings.halfOpenMaxCalls,
      settings.quorum,
      durations.join(';'),
    ].join(',');
  }

  private schedule(urgent: boolean): void {
    this.scheduled = true;
    if (urgent) this.scheduledUrgent = true;
    this.link.schedule(this, urgent);
  }

  /** A closed permit that also took this process's own verdict's permit (quorum > 1), or REFUSED. */
  private withOwn(permit: number): number {
    const own = this.own;
    if (own === undefined) return permit;
    if (own.tryAcquire() === REFUSED) {
      this.rejected++;
      return REFUSED;
    }
    return permit + own.epochTag * FLEET_EPOCH_SPAN;
  }

  /** Sends one operation; its reply teaches this breaker the store's clock and whether it has the settings. */
  private async send(
    operation: FleetOperation,
    epoch: number,
    args: readonly (string | number)[],
  ): Promise<FleetReply> {
    const sentAt = this.now();
    const reply = await this.link.run(this, operation, epoch, args);
    this.noteReply(reply, sentAt);
    return reply;
  }

  private noteReply(reply: FleetReply, sentAt: number): void {
    this.noteClock(reply.at, sentAt);
    if (reply.settingsMissing) {
      // The store lost this breaker (its keys expired or were deleted): the next call reads it afresh.
      this.settingsStored = false;
      if (this.mode === 'fleet') this.mode = 'unsynced';
    } else if (!reply.settingsDiffer) this.settingsStored = true;
    else if (this.settingsStored && !this.warnedSettings) {
      this.warnedSettings = true;
      this.link.log.warn(
        `circuit '${this.name}': another process of the fleet declares it with other options; the fleet decides by the options written last (each process writes its own when it first uses the breaker)`,
        { circuit: this.name },
      );
    }
  }

  /** Learns the store's clock: its time at the decision against the middle of the round trip. */
  private noteClock(storeTime: number, sentAt: number): void {
    const receivedAt = this.now();
    const { clock } = this.link;
    if (clock !== undefined) {
      this.offset = Math.round(clock() - receivedAt);
      return;
    }
    const rtt = receivedAt - sentAt;
    if (!(rtt >= 0) || !Number.isFinite(storeTime)) return;
    // A faster round trip pins the store's time closer; a slow one is taken only when the best is stale.
    if (
      rtt <= this.offsetRtt ||
      (rtt <= CLOCK_SAMPLE_MAX_MS && receivedAt - this.offsetAt > CLOCK_SAMPLE_KEPT_MS)
    ) {
      this.offset = Math.round(storeTime - (sentAt + receivedAt) / 2);
      this.offsetRtt = rtt;
      this.offsetAt = receivedAt;
    }
  }

  private inLocalTime<T extends { readonly since: number; readonly openUntil: number }>(
    reported: T,
  ): T {
    return {
      ...reported,
      since: reported.since - this.offset,
      openUntil: reported.openUntil - this.offset,
    };
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
    this.send('settle', trial.epoch, [verdict, trial.token]).then(
      (reply) => this.adoptReply(reply),
      (error: unknown) => this.fallBack(error),
    );
  }

  /** Gives a permit back without an outcome; if Redis does not hear it, the permit's lease frees it. */
  private release(token: string): void {
    this.send('release', this.epoch, [token]).then(
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
    // A first contact writes this process's settings, whatever the store holds.
    this.syncing ??= this.sendRead()
      .then(
        (reply) => this.follow(reply),
        (error: unknown) => this.fallBack(error),
      )
      .finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async sendRead(): Promise<FleetReply> {
    this.settingsStored = false;
    return this.send('read', this.epoch, []);
  }

  private resyncInBackground(): void {
    const now = this.now();
    if (now - this.lastSyncAttempt < RESYNC_AFTER_MS || this.syncing !== undefined) return;
    this.lastSyncAttempt = now;
    void this.sync();
  }

  private fallBack(error: unknown, unsent?: OutcomeCounts, unsentEpoch = -1): void {
    this.lastSyncAttempt = this.now();
    if (this.mode === 'local') return;
    this.mode = 'local';
    // Outcomes the fleet never got still count, in the local state the breaker carries on with.
    if (unsent !== undefined && unsentEpoch === this.epoch) this.judgeLocally(unsent);
    if (this.pendingEpoch === this.epoch) this.judgeLocally(this.pending);
    this.pending.clear();
    this.link.log.warn(
      `circuit '${this.name}': the shared store failed (${describeError(error)}); using local state until it answers again`,
      {
        circuit: this.name,
        error,
      },
    );
  }

  /** Counts that never reached the fleet, taken in by the local judge: this process's own verdict, or the state last known. */
  private judgeLocally(counts: OutcomeCounts): void {
    const judge = this.own !== undefined && this.current === 'closed' ? this.own : undefined;
    for (const { failed, slow } of counts.sequence()) {
      const outcome = failed ? 'failure' : 'success';
      const duration = slow ? Number.POSITIVE_INFINITY : 0;
      if (judge !== undefined) judge.record(outcome, duration);
      else super.settle(this.epoch, outcome, duration);
    }
  }

  private adoptReply(reply: FleetReply): void {
    if (this.mode !== 'fleet' || reply.settingsMissing) return;
    if (reply.epoch > this.epoch) this.clearFleetWindow();
    this.adopt(this.inLocalTime(reply), reply.reason || 'decided by the fleet');
    if (reply.epoch === this.epoch) this.setFleetWindow(reply);
  }

  private setFleetWindow(reply: FleetReply): void {
    this.fleetWindow = {
      calls: reply.calls,
      failures: reply.failures,
      slowCalls: reply.slowCalls,
      consecutive: reply.consecutiveFailures,
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
    this.send(operation, this.epoch, []).then(
      (reply) => (this.mode === 'fleet' ? this.adoptReply(reply) : this.follow(reply)),
      (error: unknown) => this.fallBack(error),
    );
  }

  /** Starts following the fleet from a reply of the store. */
  private follow(reply: FleetReply): void {
    const recovered = this.mode === 'local';
    this.mode = 'fleet';
    this.clearFleetWindow();
    this.adopt(this.inLocalTime(reply), reply.reason || 'state read from the fleet', true);
    this.setFleetWindow(reply);
    if (recovered)
      this.link.log.warn(
        `circuit '${this.name}': the shared store answers again; following the fleet's state`,
        { circuit: this.name },
      );
  }
}
