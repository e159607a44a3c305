import { randomBytes } from 'node:crypto';
import type {
  SharedBreakerChange,
  SharedBreakerOperation,
  SharedBreakerReply,
  SharedBreakerSettings,
  SharedBreakerStore,
} from '../runtime/shared-breaker-store';
import { OptionChecker } from '../runtime/validation';
import {
  fail,
  isConformanceClock,
  moveClock,
  registerConformance,
  runConformance,
  show,
  storesFrom,
  type ConformanceCheck,
  type ConformanceClock,
  type ConformanceReport,
  type ConformanceTestFramework,
} from './conformance-runner';

// The conformance suite for SharedBreakerStore: each check sends requests as processes of a fleet
// would (several reporters) and asserts what the store answers. It asserts by throwing an Error
// and imports no test framework.

/** How the checks drive the store's clock and how hard they press. */
export interface SharedBreakerStoreConformanceSettings {
  /**
   * The clock the store decides by (required: the store's own clock is the contract's): a
   * FakeClock the store also reads (RedisStore's and MemoryFleetStore's `clock` option), moved
   * with `advance(ms)`, or the real clock (`systemClock`), waited on with `sleep(ms)`.
   */
  readonly clock: ConformanceClock;
  /** ms: openDuration and permit leases of the checks (default 1000; a few hundred with a real clock) */
  readonly step?: number;
  /** Acquires raced at once in the atomicity check (default 32). */
  readonly concurrency?: number;
  /** Fail the watch check when the store has no `watchBreakers` (default false: it is optional). */
  readonly requireWatch?: boolean;
}

export interface SharedBreakerStoreConformanceOptions extends SharedBreakerStoreConformanceSettings {
  /** A store for one check; each check uses fresh random breaker names. */
  createStore(): SharedBreakerStore | Promise<SharedBreakerStore>;
  /** Called after each check, passed or failed, with its store. */
  disposeStore?(store: SharedBreakerStore): unknown;
}

export type SharedBreakerStoreConformanceCheck = ConformanceCheck<SharedBreakerStore>;
export type SharedBreakerStoreConformanceReport = ConformanceReport;

const SETTING_KEYS = ['clock', 'step', 'concurrency', 'requireWatch'] as const;
const OPTION_KEYS = ['createStore', 'disposeStore', ...SETTING_KEYS] as const;

/** The checks of the SharedBreakerStore contract, to run one by one. */
export function sharedBreakerStoreConformanceChecks(
  settings: SharedBreakerStoreConformanceSettings,
): SharedBreakerStoreConformanceCheck[] {
  const checker = new OptionChecker('sharedBreakerStoreConformanceChecks()', undefined);
  return checksFor(resolveSettings(checker, settings as unknown as Record<string, unknown>));
}

/**
 * Registers the suite with a test framework: `describe(name)` with one `it` per check.
 *
 * ```ts
 * describeSharedBreakerStoreConformance('MyStore', { clock, createStore: () => new MyStore({ clock }) }, { describe, it });
 * ```
 */
export function describeSharedBreakerStoreConformance(
  name: string,
  options: SharedBreakerStoreConformanceOptions,
  framework: ConformanceTestFramework,
): void {
  const checker = new OptionChecker('describeSharedBreakerStoreConformance()', undefined);
  const { stores, checks } = prepare(checker, options);
  registerConformance(checker, name, checks, stores, framework);
}

/** Runs every check in turn, outside any test framework, and says which the store passed. */
export async function runSharedBreakerStoreConformance(
  options: SharedBreakerStoreConformanceOptions,
): Promise<SharedBreakerStoreConformanceReport> {
  const checker = new OptionChecker('runSharedBreakerStoreConformance()', undefined);
  const { stores, checks } = prepare(checker, options);
  return runConformance(checks, stores);
}

interface Resolved {
  readonly clock: ConformanceClock;
  readonly step: number;
  readonly concurrency: number;
  readonly requireWatch: boolean;
}

function resolveSettings(checker: OptionChecker, settings: Record<string, unknown>): Resolved {
  const given = checker.object('', settings, SETTING_KEYS);
  if (!isConformanceClock(given.clock))
    checker.fail(
      'clock',
      'must have now() and advance(ms) or sleep(ms) (a FakeClock the store reads, systemClock)',
      given.clock,
    );
  const requireWatch = given.requireWatch ?? false;
  if (typeof requireWatch !== 'boolean')
    checker.fail('requireWatch', 'must be a boolean', requireWatch);
  return {
    clock: given.clock,
    step: given.step === undefined ? 1_000 : checker.integer('step', given.step, 8, 3_600_000),
    concurrency:
      given.concurrency === undefined
        ? 32
        : checker.integer('concurrency', given.concurrency, 2, 10_000),
    requireWatch,
  };
}

function prepare(
  checker: OptionChecker,
  options: SharedBreakerStoreConformanceOptions,
): {
  stores: ReturnType<typeof storesFrom<SharedBreakerStore>>;
  checks: SharedBreakerStoreConformanceCheck[];
} {
  const given = checker.object('', options, OPTION_KEYS);
  const stores = storesFrom<SharedBreakerStore>(checker, given);
  const settings: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) if (given[key] !== undefined) settings[key] = given[key];
  return { stores, checks: checksFor(resolveSettings(checker, settings)) };
}

function checksFor(resolved: Resolved): SharedBreakerStoreConformanceCheck[] {
  return CHECKS.map(({ name, body }) => ({
    name,
    run: (store: SharedBreakerStore) => body(new Fleet(store, resolved)),
  }));
}

// --- what a check has at hand ----------------------------------------------------------------

/** Settings of a check's breaker: consecutive failures 3 unless a check says otherwise. */
type Overrides = Partial<SharedBreakerSettings>;

/** One breaker of a check, as processes of a fleet (reporters) send it requests. */
class Subject {
  /** the breaker's epoch as the processes last heard it */
  epoch = 0;
  readonly settings: SharedBreakerSettings;
  private readonly settingsId: number;
  private static nextId = 1;

  constructor(
    private readonly fleet: Fleet,
    readonly name: string,
    overrides: Overrides,
  ) {
    const step = fleet.step;
    this.settings = {
      window: { type: 'count', size: 100 },
      consecutiveFailures: 3,
      failureRateThreshold: undefined,
      slowCallRateThreshold: undefined,
      minimumCalls: 1,
      halfOpenMaxCalls: 2,
      quorum: 1,
      openDurations: [step, 2 * step],
      ...overrides,
    };
    this.settingsId = Subject.nextId++;
  }

  /** Sends one operation from `reporter` (with the settings) and keeps the epoch it answers. */
  async send(
    reporter: string,
    operation: SharedBreakerOperation,
    options: { epoch?: number; settings?: SharedBreakerSettings | null; settingsId?: number } = {},
  ): Promise<SharedBreakerReply & { at: number }> {
    const [reply] = await this.fleet.exchange(reporter, [
      {
        name: this.name,
        epoch: options.epoch ?? this.epoch,
        settingsId: options.settingsId ?? this.settingsId,
        settings: options.settings === null ? undefined : (options.settings ?? this.settings),
        operation,
      },
    ]);
    this.epoch = reply.epoch;
    return reply;
  }

  /** Outcomes in the order given ('f' failure, 's' success, 'w' slow success), aggregated as a process sends them. */
  record(reporter: string, outcomes: string, epoch?: number) {
    return this.send(reporter, recordOf(outcomes), { epoch });
  }

  acquire(reporter: string, token: string, leaseMs = 60 * this.fleet.step) {
    return this.send(reporter, { type: 'acquire', token, leaseMs });
  }

  settle(reporter: string, token: string, outcome: 'success' | 'failure' | 'slow' | 'ignored') {
    return this.send(reporter, { type: 'settle', outcome, token });
  }

  read(reporter = 'reader') {
    return this.send(reporter, { type: 'read' });
  }

  /** Opens the breaker with three failures from one reporter. */
  async open(): Promise<SharedBreakerReply & { at: number }> {
    const reply = await this.record('opener', 'fff');
    expectState(reply, 'open', 'three failures in a row (consecutiveFailures 3)');
    return reply;
  }

  /** Opens it and waits out its openDuration; the next acquire makes it half-open. */
  async openAndWait(): Promise<void> {
    await this.open();
    await this.fleet.advance(this.settings.openDurations[0]);
  }
}

class Fleet {
  readonly step: number;
  readonly concurrency: number;
  readonly requireWatch: boolean;

  constructor(
    readonly store: SharedBreakerStore,
    private readonly settings: Resolved,
  ) {
    this.step = settings.step;
    this.concurrency = settings.concurrency;
    this.requireWatch = settings.requireWatch;
  }

  breaker(overrides: Overrides = {}): Subject {
    return new Subject(this, `conformance-${randomBytes(6).toString('hex')}`, overrides);
  }

  advance(ms: number): Promise<void> {
    return moveClock(this.settings.clock, ms);
  }

  async exchange(
    reporter: string,
    requests: Parameters<SharedBreakerStore['exchangeBreakers']>[1],
  ): Promise<(SharedBreakerReply & { at: number })[]> {
    const answer = await this.store.exchangeBreakers(reporter, requests);
    if (typeof answer !== 'object' || answer === null || !Array.isArray(answer.replies))
      fail('exchangeBreakers()', '{ replies, at }', answer);
    if (answer.replies.length !== requests.length)
      fail('exchangeBreakers()', `${requests.length} replies, one a request`, answer.replies);
    if (typeof answer.at !== 'number' || !Number.isFinite(answer.at))
      fail('exchangeBreakers()', 'at: the store time, a finite number', answer.at);
    return answer.replies.map((reply) => ({ ...reply, at: answer.at }));
  }
}

/** A record operation for outcomes in order: 'f' failure, 's' success, 'w' a slow success. */
function recordOf(outcomes: string): SharedBreakerOperation {
  let failures = 0;
  let slowCalls = 0;
  let lead = 0;
  let trail = 0;
  let run = 0;
  [...outcomes].forEach((outcome, index) => {
    if (outcome === 'w') slowCalls++;
    if (outcome !== 'f') {
      trail = 0;
      return;
    }
    failures++;
    if (lead === index) lead++;
    trail++;
    run = Math.max(run, trail);
  });
  return {
    type: 'record',
    calls: outcomes.length,
    failures,
    slowCalls,
    leadingFailures: lead,
    trailingFailures: trail,
    longestFailureRun: run,
  };
}

// --- assertions ------------------------------------------------------------------------------

function expectState(reply: SharedBreakerReply, state: string, what: string): void {
  if (reply.state !== state) fail(what, `state '${state}'`, reply);
}

function expectField<K extends keyof SharedBreakerReply>(
  reply: SharedBreakerReply,
  field: K,
  value: SharedBreakerReply[K],
  what: string,
): void {
  if (reply[field] !== value) fail(what, `${field} ${show(value)}`, reply);
}

function expectTransition(
  reply: SharedBreakerReply & { at: number },
  state: string,
  epoch: number,
  what: string,
): void {
  expectState(reply, state, what);
  expectField(reply, 'epoch', epoch, what);
  expectField(reply, 'since', reply.at, `${what} (since: the time of the transition)`);
  if (typeof reply.reason !== 'string' || reply.reason === '')
    fail(what, 'a reason for the transition', reply);
}

// --- the checks ------------------------------------------------------------------------------

interface Check {
  readonly name: string;
  body(fleet: Fleet): Promise<void>;
}

const CHECKS: readonly Check[] = [
  {
    name: 'answers settingsMissing and changes nothing for a breaker it holds no settings for',
    async body(fleet) {
      const breaker = fleet.breaker();
      const first = await breaker.send('a', recordOf('fff'), { settings: null });
      expectField(first, 'settingsMissing', true, 'a record without settings for a new breaker');
      expectState(first, 'closed', 'a record without settings for a new breaker');
      const again = await breaker.send('a', { type: 'read' }, { settings: null });
      expectField(again, 'settingsMissing', true, 'a read without settings afterwards');
    },
  },
  {
    name: 'meets a new breaker closed in epoch 0 and grants it permits',
    async body(fleet) {
      const breaker = fleet.breaker();
      const read = await breaker.read();
      expectState(read, 'closed', 'the first read');
      expectField(read, 'epoch', 0, 'the first read');
      expectField(read, 'calls', 0, 'the first read');
      expectField(read, 'settingsMissing', false, 'the first read, with settings');
      expectField(read, 'settingsDiffer', false, 'the first read, with settings');
      const acquire = await breaker.acquire('a', 'closed-permit');
      expectField(acquire, 'granted', true, 'an acquire while closed');
    },
  },
  {
    name: 'opens on consecutive failures across reporters, for the first openDuration',
    async body(fleet) {
      const breaker = fleet.breaker();
      const first = await breaker.record('a', 'ff');
      expectState(first, 'closed', 'two failures of three');
      expectField(first, 'consecutiveFailures', 2, 'two failures of three');
      const opened = await breaker.record('b', 'f');
      expectTransition(opened, 'open', 1, "a third failure, another reporter's");
      expectField(opened, 'openings', 1, 'the first opening');
      expectField(opened, 'openUntil', opened.at + fleet.step, 'the first opening');
      expectField(opened, 'calls', 0, 'the window after a transition');
    },
  },
  {
    name: 'ends a run of failures with a success',
    async body(fleet) {
      const breaker = fleet.breaker();
      const reply = await breaker.record('a', 'ffsff');
      expectState(reply, 'closed', 'failures 2, a success, failures 2');
      expectField(reply, 'consecutiveFailures', 2, 'failures 2, a success, failures 2');
      expectState(await breaker.record('b', 'sf'), 'closed', 'a success first, then a failure');
      expectState(await breaker.record('c', 'ff'), 'open', 'three in a row after the success');
    },
  },
  {
    name: 'opens on a run of failures inside one record',
    async body(fleet) {
      const breaker = fleet.breaker();
      expectState(await breaker.record('a', 'sfffs'), 'open', 'three failures between successes');
    },
  },
  {
    name: 'ignores a record of another epoch',
    async body(fleet) {
      const breaker = fleet.breaker();
      await breaker.open();
      const stale = await breaker.record('a', 'ss', 0);
      expectState(stale, 'open', 'a record of epoch 0 after the opening');
      expectField(stale, 'calls', 0, 'a record of epoch 0 after the opening');
    },
  },
  {
    name: 'opens on the failure rate once minimumCalls are in a count window',
    async body(fleet) {
      const breaker = fleet.breaker({
        consecutiveFailures: undefined,
        failureRateThreshold: 0.5,
        minimumCalls: 4,
        window: { type: 'count', size: 10 },
      });
      const short = await breaker.record('a', 'fff');
      expectState(short, 'closed', '3 failures of 3, minimumCalls 4');
      expectField(short, 'failures', 3, '3 failures of 3');
      const opened = await breaker.record('b', 's');
      expectTransition(opened, 'open', 1, 'a 4th call: failure rate 3/4 >= 0.5');
    },
  },
  {
    name: 'keeps exactly the last size calls in a count window',
    async body(fleet) {
      const breaker = fleet.breaker({
        consecutiveFailures: undefined,
        failureRateThreshold: 0.6,
        minimumCalls: 10,
        window: { type: 'count', size: 10 },
      });
      await breaker.record('a', 'ssssssssss');
      const half = await breaker.record('b', 'fffff');
      expectState(half, 'closed', '5 failures of the last 10 calls, threshold 0.6');
      expectField(half, 'calls', 10, 'the window after 15 calls, size 10');
      expectField(half, 'failures', 5, 'the window after 15 calls, size 10');
      const later = await breaker.record('a', 'ssssssssss');
      expectField(later, 'calls', 10, 'the window after 25 calls');
      expectField(later, 'failures', 0, 'the window after 10 more successes');
    },
  },
  {
    name: 'opens on the slow-call rate',
    async body(fleet) {
      const breaker = fleet.breaker({
        consecutiveFailures: undefined,
        slowCallRateThreshold: 0.5,
        minimumCalls: 2,
      });
      expectState(await breaker.record('a', 'w'), 'closed', 'one slow call, minimumCalls 2');
      const opened = await breaker.record('b', 'w');
      expectTransition(opened, 'open', 1, 'two slow calls of two, threshold 0.5');
    },
  },
  {
    name: "counts a time window's calls only while their bucket is in the window",
    async body(fleet) {
      const bucketMs = Math.max(1, Math.floor(fleet.step / 4));
      const breaker = fleet.breaker({
        consecutiveFailures: undefined,
        failureRateThreshold: 1,
        minimumCalls: 100,
        window: { type: 'time', buckets: 4, bucketMs },
      });
      await breaker.record('a', 'sss');
      await fleet.advance(2 * bucketMs);
      const both = await breaker.record('b', 'ss');
      expectField(both, 'calls', 5, 'two records two buckets apart');
      await fleet.advance(2 * bucketMs);
      const one = await breaker.read();
      expectField(one, 'calls', 2, 'a read once the first bucket fell out');
      await fleet.advance(4 * bucketMs);
      expectField(await breaker.read(), 'calls', 0, 'a read a whole window later');
    },
  },
  {
    name: 'moves an open breaker to half-open at openUntil, not before',
    async body(fleet) {
      const breaker = fleet.breaker();
      await breaker.open();
      const early = await breaker.acquire('a', 'early');
      expectState(early, 'open', 'an acquire before openUntil');
      expectField(early, 'granted', false, 'an acquire before openUntil');
      await fleet.advance(fleet.step);
      const trial = await breaker.acquire('a', 'trial-1');
      expectTransition(trial, 'half-open', 2, 'an acquire at openUntil');
      expectField(trial, 'granted', true, 'the first trial permit');
    },
  },
  {
    name: 'grants at most halfOpenMaxCalls trial permits across reporters, atomically',
    async body(fleet) {
      const breaker = fleet.breaker({ halfOpenMaxCalls: 3 });
      await breaker.openAndWait();
      const replies = await Promise.all(
        Array.from({ length: fleet.concurrency }, (_, i) =>
          breaker.acquire(`reporter-${i}`, `race-${i}`),
        ),
      );
      const granted = replies.filter((reply) => reply.granted).length;
      if (granted !== 3)
        fail(`${fleet.concurrency} acquires at once`, '3 granted (halfOpenMaxCalls)', granted);
      const epochs = new Set(replies.map((reply) => reply.epoch));
      if (epochs.size !== 1) fail('the racing acquires', 'one half-open epoch', [...epochs]);
    },
  },
  {
    name: 'closes after halfOpenMaxCalls trial successes',
    async body(fleet) {
      const breaker = fleet.breaker();
      await breaker.openAndWait();
      await breaker.acquire('a', 't1');
      await breaker.acquire('b', 't2');
      const one = await breaker.settle('a', 't1', 'success');
      expectState(one, 'half-open', 'one trial success of two');
      const closed = await breaker.settle('b', 't2', 'success');
      expectTransition(closed, 'closed', 3, 'the second trial success');
      expectField(closed, 'openings', 0, 'closed again');
    },
  },
  {
    name: 'opens again on a failed or slow trial, for the next openDuration',
    async body(fleet) {
      const breaker = fleet.breaker({ halfOpenMaxCalls: 1 });
      await breaker.openAndWait();
      await breaker.acquire('a', 't1');
      const failed = await breaker.settle('a', 't1', 'failure');
      expectTransition(failed, 'open', 3, 'a failed trial');
      expectField(failed, 'openings', 2, 'the second opening in a row');
      expectField(failed, 'openUntil', failed.at + 2 * fleet.step, 'the second opening');
      await fleet.advance(2 * fleet.step);
      await breaker.acquire('b', 't2');
      const slow = await breaker.settle('b', 't2', 'slow');
      expectTransition(slow, 'open', 5, 'a slow trial');
      expectField(slow, 'openings', 3, 'the third opening in a row');
      expectField(
        slow,
        'openUntil',
        slow.at + 2 * fleet.step,
        'a third opening: the last duration',
      );
    },
  },
  {
    name: 'frees a permit on release and on an ignored outcome, and ignores tokens it does not hold',
    async body(fleet) {
      const breaker = fleet.breaker({ halfOpenMaxCalls: 1 });
      await breaker.openAndWait();
      expectField(await breaker.acquire('a', 'held'), 'granted', true, 'the one trial permit');
      expectField(await breaker.acquire('b', 'other'), 'granted', false, 'a second permit');
      const stranger = await breaker.settle('b', 'never-granted', 'failure');
      expectState(stranger, 'half-open', 'a settle of a token never granted');
      await breaker.send('a', { type: 'release', token: 'held' });
      expectField(await breaker.acquire('b', 'next'), 'granted', true, 'an acquire after release');
      await breaker.settle('b', 'next', 'ignored');
      const third = await breaker.acquire('c', 'third');
      expectField(third, 'granted', true, 'an acquire after an ignored outcome');
      expectState(third, 'half-open', 'after an ignored outcome');
    },
  },
  {
    name: 'lets a permit lapse at the end of its lease and ignores its late outcome',
    async body(fleet) {
      const breaker = fleet.breaker({ halfOpenMaxCalls: 1 });
      await breaker.openAndWait();
      await breaker.acquire('a', 'lapsing', fleet.step);
      const refused = await breaker.acquire('b', 'b1');
      expectField(refused, 'granted', false, 'an acquire within the lease');
      await fleet.advance(fleet.step);
      expectField(await breaker.acquire('b', 'b2'), 'granted', true, 'an acquire after the lease');
      const late = await breaker.settle('a', 'lapsing', 'failure');
      expectState(late, 'half-open', "the lapsed permit's late failure");
      const closed = await breaker.settle('b', 'b2', 'success');
      expectState(closed, 'closed', "the live permit's success");
    },
  },
  {
    name: 'ignores a trial outcome of another epoch',
    async body(fleet) {
      const breaker = fleet.breaker({ halfOpenMaxCalls: 1 });
      await breaker.openAndWait();
      const trial = await breaker.acquire('a', 't1');
      const stale = await breaker.send(
        'a',
        { type: 'settle', outcome: 'failure', token: 't1' },
        { epoch: trial.epoch - 1 },
      );
      expectState(stale, 'half-open', 'a settle naming the epoch before');
      expectState(await breaker.settle('a', 't1', 'success'), 'closed', 'the settle of its epoch');
    },
  },
  {
    name: 'isolates until reset; a reset closes an open breaker and clears a closed one',
    async body(fleet) {
      const breaker = fleet.breaker();
      const isolated = await breaker.send('a', { type: 'isolate' });
      expectTransition(isolated, 'isolated', 1, 'isolate');
      await fleet.advance(10 * fleet.step);
      const refused = await breaker.acquire('b', 'while-isolated');
      expectField(refused, 'granted', false, 'an acquire while isolated');
      expectState(refused, 'isolated', 'an acquire while isolated, much later');
      const reset = await breaker.send('b', { type: 'reset' });
      expectTransition(reset, 'closed', 2, 'reset');
      expectField(reset, 'openings', 0, 'reset');
      await breaker.record('a', 'ff');
      const cleared = await breaker.send('a', { type: 'reset' });
      expectField(cleared, 'epoch', 2, 'a reset of a closed breaker (no transition)');
      expectField(cleared, 'consecutiveFailures', 0, 'a reset of a closed breaker');
      expectField(cleared, 'calls', 0, 'a reset of a closed breaker');
      expectState(await breaker.record('b', 'f'), 'closed', 'one failure after the reset');
    },
  },
  {
    name: 'opens on consecutive failures only when they come from quorum reporters',
    async body(fleet) {
      const breaker = fleet.breaker({ quorum: 2 });
      const alone = await breaker.record('a', 'fff');
      expectState(alone, 'closed', 'three failures from one reporter, quorum 2');
      expectField(alone, 'shortOfQuorum', true, 'three failures from one reporter, quorum 2');
      const opened = await breaker.record('b', 'f');
      expectTransition(opened, 'open', 1, "a fourth failure in the run, another reporter's");
    },
  },
  {
    name: 'opens on a failure rate only when quorum reporters sent failures in the window',
    async body(fleet) {
      const breaker = fleet.breaker({
        consecutiveFailures: undefined,
        failureRateThreshold: 0.5,
        minimumCalls: 4,
        quorum: 2,
        window: { type: 'count', size: 10 },
      });
      const alone = await breaker.record('a', 'ffff');
      expectState(alone, 'closed', 'failure rate 4/4 from one reporter, quorum 2');
      expectField(alone, 'shortOfQuorum', true, 'failure rate 4/4 from one reporter');
      const opened = await breaker.record('b', 'f');
      expectTransition(opened, 'open', 1, 'a failure from a second reporter');
    },
  },
  {
    name: 'replaces settings given with another id, and decides by its own when none are given',
    async body(fleet) {
      const breaker = fleet.breaker({ consecutiveFailures: 5 });
      await breaker.read();
      const other = { ...breaker.settings, consecutiveFailures: 1 };
      const differ = await breaker.send('b', recordOf('f'), { settings: null, settingsId: 9e6 });
      expectField(differ, 'settingsDiffer', true, 'a record of another settings id, without them');
      expectState(differ, 'closed', 'one failure, decided by the stored consecutiveFailures 5');
      const replaced = await breaker.send('b', recordOf('f'), { settings: other, settingsId: 9e6 });
      expectField(replaced, 'settingsDiffer', false, 'a record with settings of another id');
      expectState(replaced, 'open', 'one failure, by the new consecutiveFailures 1');
    },
  },
  {
    name: 'applies the requests of one exchange in order',
    async body(fleet) {
      const breaker = fleet.breaker();
      const common = { name: breaker.name, settingsId: 4242, settings: breaker.settings };
      const [opened, acquired] = await fleet.exchange('a', [
        { ...common, epoch: 0, operation: recordOf('fff') },
        { ...common, epoch: 0, operation: { type: 'acquire', token: 'after', leaseMs: 1000 } },
      ]);
      expectState(opened, 'open', 'the first request: three failures');
      expectState(acquired, 'open', 'the second request: an acquire after the opening');
      expectField(acquired, 'granted', false, 'an acquire after the opening');
    },
  },
  {
    name: 'keeps breakers of different names apart',
    async body(fleet) {
      const one = fleet.breaker();
      const two = fleet.breaker();
      await one.open();
      const other = await two.acquire('a', 'apart');
      expectState(other, 'closed', 'another breaker after the first opened');
      expectField(other, 'granted', true, 'another breaker after the first opened');
    },
  },
  {
    name: 'tells a watcher of a transition made by any reporter',
    async body(fleet) {
      const { store } = fleet;
      if (typeof store.watchBreakers !== 'function') {
        if (fleet.requireWatch)
          throw new Error('the store has no watchBreakers(), and requireWatch is true');
        return;
      }
      const breaker = fleet.breaker();
      const heard: SharedBreakerChange[] = [];
      const watch = store.watchBreakers((change) => {
        if (change.name === breaker.name) heard.push(change);
      });
      try {
        await watch.ready;
        const opened = await breaker.open();
        const deadline = Date.now() + 5_000;
        while (heard.length === 0 && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 10));
        const change = heard[0];
        if (
          change === undefined ||
          change.state !== 'open' ||
          change.epoch !== 1 ||
          change.openUntil !== opened.openUntil
        )
          fail(
            'a watcher, after an opening',
            `{ state: 'open', epoch: 1, openUntil: ${opened.openUntil} }`,
            heard,
          );
      } finally {
        watch.close();
      }
    },
  },
];
