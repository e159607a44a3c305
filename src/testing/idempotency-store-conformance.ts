import { randomBytes, randomUUID } from 'node:crypto';
import type { ClaimOutcome, IdempotencyRecord, IdempotencyStore } from '../runtime/store';
import { OptionChecker } from '../runtime/validation';
import {
  fail,
  isConformanceClock,
  moveClock,
  registerConformance,
  runConformance,
  show,
  storesFrom,
  type ConformanceClock,
  type ConformanceReport,
  type ConformanceStores,
  type ConformanceTestFramework,
} from './conformance-runner';

// The conformance suite for IdempotencyStore. It asserts by throwing an Error, and registers its
// checks through the describe/it it is given: it imports no test framework, so that it runs under
// jest, vitest, mocha and node:test alike, and loads where none is installed.

/**
 * The clock a store decides by, when that is not the `now` argument (RedisStore decides by Redis's
 * TIME, or by its `clock` option). The suite reads `now()` and moves time forward with
 * `advance(ms)` (a FakeClock the store also reads), or, lacking that, waits with `sleep(ms)` (the
 * real clock: `systemClock`).
 */
export type IdempotencyStoreConformanceClock = ConformanceClock;

/** How the checks drive time and how hard they press. */
export interface IdempotencyStoreConformanceSettings {
  /**
   * The clock the store decides by. Omitted (the default, and right for a store that decides by
   * the `now` argument, as MemoryStore does): the suite passes a virtual time as `now` and moves it
   * forward itself, so no check sleeps. Given: the suite passes `clock.now()` as `now` and moves
   * time with `clock.advance(ms)` or `clock.sleep(ms)`; with a real clock, lower `step`.
   */
  readonly clock?: IdempotencyStoreConformanceClock;
  /**
   * ms: the lease and the ttl of the records a check lets lapse; a check moves time by halves and
   * quarters of it (default 1000). With a real clock, a few hundred ms: long enough that a store
   * round trip is small beside a quarter of it.
   */
  readonly step?: number;
  /**
   * ms the lease end a store reports may differ from the suite's `now` + lease (default 0): for a
   * store whose clock is on another host.
   */
  readonly clockTolerance?: number;
  /** Claims of one key raced at once in the atomicity check (default 32). */
  readonly concurrency?: number;
  /**
   * Fail the renew checks when the store has no `renew` (default false: `renew` is optional, and a
   * store without it passes them without being asked).
   */
  readonly requireRenew?: boolean;
}

/** What the suite runs the checks against. */
export interface IdempotencyStoreConformanceOptions extends IdempotencyStoreConformanceSettings {
  /**
   * A store for one check; called once per check. Each check uses fresh random keys, so stores over
   * one shared database (a RedisStore on one server) do not disturb each other.
   */
  createStore(): IdempotencyStore | Promise<IdempotencyStore>;
  /** Called after each check, passed or failed, with its store: close connections here. */
  disposeStore?(store: IdempotencyStore): unknown;
}

/** One check of the contract: resolves when the store conforms, else rejects saying how not. */
export interface IdempotencyStoreConformanceCheck {
  /** Reads as a sentence after the store's name: 'claims a key that holds nothing'. */
  readonly name: string;
  run(store: IdempotencyStore): Promise<void>;
}

/** What `runIdempotencyStoreConformance` found. */
export type IdempotencyStoreConformanceReport = ConformanceReport;

const SETTING_KEYS = ['clock', 'step', 'clockTolerance', 'concurrency', 'requireRenew'] as const;
const OPTION_KEYS = ['createStore', 'disposeStore', ...SETTING_KEYS] as const;
/** Where the virtual clock starts: a plausible epoch time, so that stores storing it as a date cope. */
const VIRTUAL_EPOCH = 1_700_000_000_000;
/** A lease or ttl that no check lets run out. */
const LONG_MS = 3_600_000;

/** The checks of the IdempotencyStore contract, to run one by one with a store of one's own. */
export function idempotencyStoreConformanceChecks(
  settings: IdempotencyStoreConformanceSettings = {},
): IdempotencyStoreConformanceCheck[] {
  const checker = new OptionChecker('idempotencyStoreConformanceChecks()', undefined);
  return checksFor(resolveSettings(checker, settings));
}

/**
 * Registers the conformance suite with a test framework: `describe(name)` with one `it` per check,
 * each with a store of its own from `createStore`.
 *
 * ```ts
 * import { describe, it } from 'node:test'; // or jest's, vitest's, mocha's globals
 * describeIdempotencyStoreConformance('MyStore', { createStore: () => new MyStore() }, { describe, it });
 * ```
 */
export function describeIdempotencyStoreConformance(
  name: string,
  options: IdempotencyStoreConformanceOptions,
  framework: ConformanceTestFramework,
): void {
  const checker = new OptionChecker('describeIdempotencyStoreConformance()', undefined);
  const { stores, checks } = prepare(checker, options);
  registerConformance(checker, name, checks, stores, framework);
}

/** Runs every check in turn, outside any test framework, and says which the store passed. */
export async function runIdempotencyStoreConformance(
  options: IdempotencyStoreConformanceOptions,
): Promise<IdempotencyStoreConformanceReport> {
  const checker = new OptionChecker('runIdempotencyStoreConformance()', undefined);
  const { stores, checks } = prepare(checker, options);
  return runConformance(checks, stores);
}

// --- running ---------------------------------------------------------------------------------

interface Resolved {
  readonly clock: IdempotencyStoreConformanceClock | undefined;
  readonly step: number;
  readonly clockTolerance: number;
  readonly concurrency: number;
  readonly requireRenew: boolean;
}

function resolveSettings(
  checker: OptionChecker,
  settings: IdempotencyStoreConformanceSettings,
): Resolved {
  const given = checker.object('', settings, SETTING_KEYS);
  const clock = given.clock as IdempotencyStoreConformanceClock | undefined;
  if (clock !== undefined && !isConformanceClock(clock))
    checker.fail(
      'clock',
      'must have now() and advance(ms) or sleep(ms) (a FakeClock, systemClock)',
      clock,
    );
  const flag = (value: unknown): boolean =>
    typeof value === 'boolean' ? value : checker.fail('requireRenew', 'must be a boolean', value);
  const positive = (option: string, value: unknown, fallback: number): number =>
    value === undefined ? fallback : checker.atLeast(option, value, 1);
  return {
    clock,
    step: positive('step', given.step, 1_000),
    clockTolerance:
      given.clockTolerance === undefined
        ? 0
        : checker.duration('clockTolerance', given.clockTolerance),
    concurrency:
      given.concurrency === undefined
        ? 32
        : checker.integer('concurrency', given.concurrency, 2, 10_000),
    requireRenew: given.requireRenew === undefined ? false : flag(given.requireRenew),
  };
}

function prepare(
  checker: OptionChecker,
  options: IdempotencyStoreConformanceOptions,
): {
  stores: ConformanceStores<IdempotencyStore>;
  checks: IdempotencyStoreConformanceCheck[];
} {
  const given = checker.object('', options, OPTION_KEYS);
  const stores = storesFrom<IdempotencyStore>(checker, given);
  const settings: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) if (given[key] !== undefined) settings[key] = given[key];
  return { stores, checks: checksFor(resolveSettings(checker, settings)) };
}

function checksFor(resolved: Resolved): IdempotencyStoreConformanceCheck[] {
  return CHECKS.map(({ name, body }) => ({
    name,
    run: (store: IdempotencyStore) => body(new CheckContext(store, resolved)),
  }));
}

// --- what a check has at hand ----------------------------------------------------------------

/** When an operation was made, by the suite's clock: a lease end it reports lies in [from, to] + lease. */
interface Span {
  readonly from: number;
  readonly to: number;
}

class CheckContext {
  private virtualNow = VIRTUAL_EPOCH;
  readonly step: number;
  readonly concurrency: number;
  readonly requireRenew: boolean;

  constructor(
    readonly store: IdempotencyStore,
    private readonly settings: Resolved,
  ) {
    this.step = settings.step;
    this.concurrency = settings.concurrency;
    this.requireRenew = settings.requireRenew;
  }

  now(): number {
    return this.settings.clock === undefined ? this.virtualNow : this.settings.clock.now();
  }

  async advance(ms: number): Promise<void> {
    const { clock } = this.settings;
    if (clock === undefined) this.virtualNow += ms;
    else await moveClock(clock, ms);
  }

  /** A fresh key, as the engine gives them: SHA-256, hex. */
  key(): string {
    return randomBytes(32).toString('hex');
  }

  fingerprint(): string {
    return randomBytes(32).toString('hex');
  }

  token(): string {
    return randomUUID();
  }

  async claim(
    key: string,
    fingerprint: string,
    token: string,
    leaseMs: number,
  ): Promise<{ outcome: ClaimOutcome; span: Span }> {
    const from = this.now();
    const outcome = await this.store.claim(key, fingerprint, token, leaseMs, from);
    return { outcome, span: { from, to: this.now() } };
  }

  complete(key: string, token: string, fingerprint: string, result: string, ttlMs: number) {
    return this.store.complete(key, token, fingerprint, result, ttlMs, this.now());
  }

  release(key: string, token: string): Promise<void> {
    return this.store.release(key, token, this.now());
  }

  read(key: string): Promise<IdempotencyRecord | undefined> {
    return this.store.read(key, this.now());
  }

  /** The store's renew, or undefined when it has none (and the settings allow that). */
  renewer(): ((key: string, token: string, leaseMs: number) => Promise<boolean>) | undefined {
    const { store } = this;
    if (typeof store.renew !== 'function') {
      if (this.requireRenew)
        throw new Error('the store has no renew(), and the suite was run with requireRenew: true');
      return undefined;
    }
    return (key, token, leaseMs) =>
      (store.renew as NonNullable<IdempotencyStore['renew']>).call(
        store,
        key,
        token,
        leaseMs,
        this.now(),
      );
  }

  /** Claims `key` for `token` and fails unless the store says it did. */
  async mustClaim(
    key: string,
    fingerprint: string,
    token: string,
    leaseMs: number,
    what: string,
  ): Promise<Span> {
    const { outcome, span } = await this.claim(key, fingerprint, token, leaseMs);
    expectClaimed(outcome, what);
    return span;
  }

  /** The lease end a record reports must be `lease` after the claim or renewal, within the tolerance. */
  expectLeaseEnd(record: IdempotencyRecord, span: Span, leaseMs: number, what: string): void {
    if (record.state !== 'in-progress') return;
    const low = span.from + leaseMs - this.settings.clockTolerance;
    const high = span.to + leaseMs + this.settings.clockTolerance;
    if (!(
      typeof record.leaseUntil === 'number' &&
      record.leaseUntil >= low &&
      record.leaseUntil <= high
    ))
      fail(
        what,
        `leaseUntil from ${low} to ${high} (the time of the claim + its lease of ${leaseMs} ms)`,
        record.leaseUntil,
      );
  }
}

// --- assertions ------------------------------------------------------------------------------

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function expectClaimed(outcome: ClaimOutcome, what: string): void {
  if (!isObject(outcome) || outcome.claimed !== true) fail(what, '{ claimed: true }', outcome);
}

function expectRecordFrom(outcome: ClaimOutcome, what: string): IdempotencyRecord {
  if (!isObject(outcome) || outcome.claimed !== false || !isObject(outcome.record))
    fail(what, '{ claimed: false, record } (the record that stands)', outcome);
  return outcome.record;
}

function expectInProgress(
  record: IdempotencyRecord | undefined,
  expected: { fingerprint: string; token: string },
  what: string,
): IdempotencyRecord {
  if (
    !isObject(record) ||
    record.state !== 'in-progress' ||
    record.fingerprint !== expected.fingerprint ||
    record.token !== expected.token
  )
    fail(what, `an in-progress record ${show({ state: 'in-progress', ...expected })}`, record);
  if (typeof record.leaseUntil !== 'number' || !Number.isFinite(record.leaseUntil))
    fail(what, 'leaseUntil to be a finite number (ms)', record.leaseUntil);
  return record;
}

function expectCompleted(
  record: IdempotencyRecord | undefined,
  expected: { fingerprint: string; result: string },
  what: string,
): void {
  if (
    !isObject(record) ||
    record.state !== 'completed' ||
    record.fingerprint !== expected.fingerprint ||
    record.result !== expected.result
  )
    fail(what, `a completed record ${show({ state: 'completed', ...expected })}`, record);
}

function expectAbsent(record: IdempotencyRecord | undefined, what: string): void {
  if (record !== undefined) fail(what, 'undefined (no live record)', record);
}

function expectVoid(value: unknown, what: string): void {
  if (value !== undefined) fail(what, 'the promise to resolve to undefined', value);
}

// --- the checks ------------------------------------------------------------------------------

interface CheckDefinition {
  readonly name: string;
  body(context: CheckContext): Promise<void>;
}

/** Result texts as the engine writes them (an envelope around the JSON of the value), and plain JSON. */
const RESULT_TEXTS: readonly string[] = [
  '{"u":1}',
  '{"v":null}',
  '{"v":true}',
  '{"v":0}',
  '{"v":-12.5e-7}',
  '{"v":9007199254740991}',
  '{"v":""}',
  '{"v":"with \\"quotes\\", a back\\\\slash, a\\nnewline, a tab\\t and \\u0000"}',
  '{"v":"ünïcödé, 漢字, 🧾 and a lone \\ud800 escape"}',
  '{"v":[]}',
  '{"v":[1,"two",null,[3,[4]],{"five":5}]}',
  '{"v":{}}',
  '{"v":{"z":1,"a":2,"m":{"nested":{"deeper":[{"x":null}]}}}}',
  '{"v":{"id":"o-1","amount":1999,"currency":"EUR","lines":[{"sku":"a","qty":2}],"paid":false}}',
  '{"x":"(result).at is a Date, which JSON turns into a string"}',
  'null',
  '"a bare string"',
  '[1,2,3]',
  '  { "spaced" : [ 1 , 2 ] }  ',
  `{"v":"${'x'.repeat(100_000)}"}`,
];

const CHECKS: readonly CheckDefinition[] = [
  {
    name: 'claims a key that holds nothing, and read() then gives the claim',
    async body(c) {
      const [key, fingerprint, token] = [c.key(), c.fingerprint(), c.token()];
      expectAbsent(await c.read(key), 'read() of a key never used');
      const span = await c.mustClaim(
        key,
        fingerprint,
        token,
        LONG_MS,
        'claim() of a key never used',
      );
      const record = expectInProgress(
        await c.read(key),
        { fingerprint, token },
        'read() after the claim',
      );
      c.expectLeaseEnd(record, span, LONG_MS, 'read() after the claim');
    },
  },
  {
    name: 'answers a second claim, with the same fingerprint, with the claim in progress',
    async body(c) {
      const [key, fingerprint, first, second] = [c.key(), c.fingerprint(), c.token(), c.token()];
      const span = await c.mustClaim(key, fingerprint, first, LONG_MS, 'the first claim()');
      const { outcome } = await c.claim(key, fingerprint, second, LONG_MS);
      const record = expectInProgress(
        expectRecordFrom(outcome, 'a second claim() while the first is in progress'),
        { fingerprint, token: first },
        'a second claim() while the first is in progress',
      );
      c.expectLeaseEnd(record, span, LONG_MS, 'a second claim() while the first is in progress');
    },
  },
  {
    name: 'answers a second claim, with another fingerprint, with the claim in progress, unchanged',
    async body(c) {
      const [key, fingerprint, other, first, second] = [
        c.key(),
        c.fingerprint(),
        c.fingerprint(),
        c.token(),
        c.token(),
      ];
      await c.mustClaim(key, fingerprint, first, LONG_MS, 'the first claim()');
      const { outcome } = await c.claim(key, other, second, LONG_MS);
      expectInProgress(
        expectRecordFrom(outcome, 'a claim() with another fingerprint'),
        { fingerprint, token: first },
        'a claim() with another fingerprint (the engine answers IdempotencyConflictError from it)',
      );
      expectInProgress(await c.read(key), { fingerprint, token: first }, 'read() afterwards');
    },
  },
  {
    name: 'records the result complete() gives, and answers later claims with it (a replay)',
    async body(c) {
      const [key, fingerprint, other, token] = [
        c.key(),
        c.fingerprint(),
        c.fingerprint(),
        c.token(),
      ];
      const result = '{"v":{"receipt":"r-1","amount":42}}';
      await c.mustClaim(key, fingerprint, token, LONG_MS, 'claim()');
      expectVoid(await c.complete(key, token, fingerprint, result, LONG_MS), 'complete()');
      for (const [what, given] of [
        ['a claim() after complete()', fingerprint],
        ['a claim() with another fingerprint after complete()', other],
      ] as const) {
        const { outcome } = await c.claim(key, given, c.token(), LONG_MS);
        expectCompleted(expectRecordFrom(outcome, what), { fingerprint, result }, what);
      }
      expectCompleted(await c.read(key), { fingerprint, result }, 'read() after complete()');
    },
  },
  {
    name: 'keeps a recorded result for its ttl, and not after it',
    async body(c) {
      const [key, fingerprint, token] = [c.key(), c.fingerprint(), c.token()];
      const result = '{"v":"kept for one step"}';
      await c.mustClaim(key, fingerprint, token, LONG_MS, 'claim()');
      await c.complete(key, token, fingerprint, result, c.step);
      await c.advance(c.step / 2);
      expectCompleted(await c.read(key), { fingerprint, result }, 'read() halfway through the ttl');
      const { outcome } = await c.claim(key, fingerprint, c.token(), LONG_MS);
      expectCompleted(
        expectRecordFrom(outcome, 'claim() halfway through the ttl'),
        { fingerprint, result },
        'claim() halfway through the ttl',
      );
      await c.advance(c.step);
      expectAbsent(await c.read(key), 'read() after the ttl');
      await c.mustClaim(key, fingerprint, c.token(), LONG_MS, 'claim() after the ttl');
    },
  },
  {
    name: 'lets a claim lapse at the end of its lease, and another token then claims the key',
    async body(c) {
      const [key, fingerprint, first, second] = [c.key(), c.fingerprint(), c.token(), c.token()];
      await c.mustClaim(key, fingerprint, first, c.step, 'the first claim()');
      await c.advance(c.step / 2);
      const { outcome } = await c.claim(key, fingerprint, second, c.step);
      expectInProgress(
        expectRecordFrom(outcome, 'claim() by another token halfway through the lease'),
        { fingerprint, token: first },
        'claim() by another token halfway through the lease',
      );
      await c.advance(c.step);
      expectAbsent(await c.read(key), 'read() after the lease ended');
      const span = await c.mustClaim(
        key,
        fingerprint,
        second,
        LONG_MS,
        'claim() by another token after the lease ended',
      );
      const record = expectInProgress(
        await c.read(key),
        { fingerprint, token: second },
        'read() after the take-over',
      );
      c.expectLeaseEnd(record, span, LONG_MS, 'read() after the take-over');
    },
  },
  {
    name: 'ignores complete() and release() by a token whose claim lapsed and was taken over',
    async body(c) {
      const [key, fingerprint, stale, current] = [c.key(), c.fingerprint(), c.token(), c.token()];
      await c.mustClaim(key, fingerprint, stale, c.step, 'the first claim()');
      await c.advance(c.step * 1.5);
      await c.mustClaim(key, fingerprint, current, LONG_MS, 'claim() after the lease ended');
      await c.complete(key, stale, fingerprint, '{"v":"from the stale token"}', LONG_MS);
      expectInProgress(
        await c.read(key),
        { fingerprint, token: current },
        'read() after complete() by the stale token',
      );
      await c.release(key, stale);
      expectInProgress(
        await c.read(key),
        { fingerprint, token: current },
        'read() after release() by the stale token',
      );
      const result = '{"v":"from the current token"}';
      await c.complete(key, current, fingerprint, result, LONG_MS);
      expectCompleted(
        await c.read(key),
        { fingerprint, result },
        'read() after complete() by the current token',
      );
    },
  },
  {
    name: 'ignores release() by a token that does not hold the claim',
    async body(c) {
      const [key, fingerprint, holder, stranger] = [c.key(), c.fingerprint(), c.token(), c.token()];
      await c.mustClaim(key, fingerprint, holder, LONG_MS, 'claim()');
      expectVoid(await c.release(key, stranger), 'release() by another token');
      expectInProgress(
        await c.read(key),
        { fingerprint, token: holder },
        'read() after release() by another token',
      );
      const { outcome } = await c.claim(key, fingerprint, stranger, LONG_MS);
      expectRecordFrom(outcome, 'claim() after release() by another token');
    },
  },
  {
    name: 'removes the claim on release() by its token, so that another call may claim the key',
    async body(c) {
      const [key, fingerprint, first, second] = [c.key(), c.fingerprint(), c.token(), c.token()];
      await c.mustClaim(key, fingerprint, first, LONG_MS, 'claim()');
      expectVoid(await c.release(key, first), 'release()');
      expectAbsent(await c.read(key), 'read() after release()');
      await c.mustClaim(key, fingerprint, second, LONG_MS, 'claim() after release()');
      expectInProgress(
        await c.read(key),
        { fingerprint, token: second },
        'read() after the new claim',
      );
    },
  },
  {
    name: 'leaves a recorded result alone: release() and a second complete() do not change it',
    async body(c) {
      const [key, fingerprint, token, other] = [c.key(), c.fingerprint(), c.token(), c.token()];
      const result = '{"v":"the first result"}';
      await c.mustClaim(key, fingerprint, token, LONG_MS, 'claim()');
      await c.complete(key, token, fingerprint, result, LONG_MS);
      await c.release(key, token);
      expectCompleted(
        await c.read(key),
        { fingerprint, result },
        'read() after release() of a completed record',
      );
      await c.complete(key, token, fingerprint, '{"v":"a second result"}', LONG_MS);
      expectCompleted(
        await c.read(key),
        { fingerprint, result },
        'read() after a second complete() by the same token',
      );
      await c.complete(key, other, fingerprint, '{"v":"another token\'s result"}', LONG_MS);
      expectCompleted(
        await c.read(key),
        { fingerprint, result },
        'read() after complete() by another token',
      );
    },
  },
  {
    name: 'extends the lease on renew() by the token that holds the claim (when the store has renew)',
    async body(c) {
      const renew = c.renewer();
      if (renew === undefined) return;
      const [key, fingerprint, token, other] = [c.key(), c.fingerprint(), c.token(), c.token()];
      await c.mustClaim(key, fingerprint, token, c.step, 'claim()');
      await c.advance(c.step / 2);
      const from = c.now();
      const renewed = await renew(key, token, c.step);
      const span = { from, to: c.now() };
      if (renewed !== true) fail('renew() by the token that holds the claim', 'true', renewed);
      const record = expectInProgress(
        await c.read(key),
        { fingerprint, token },
        'read() after renew()',
      );
      c.expectLeaseEnd(record, span, c.step, 'read() after renew()');
      // Past the lease first given, before the renewed one ends: the claim still stands.
      await c.advance(c.step * 0.75);
      const { outcome } = await c.claim(key, fingerprint, other, c.step);
      expectInProgress(
        expectRecordFrom(
          outcome,
          'claim() by another token after the first lease end, before the renewed one',
        ),
        { fingerprint, token },
        'claim() by another token after the first lease end, before the renewed one',
      );
      await c.advance(c.step * 0.75);
      await c.mustClaim(
        key,
        fingerprint,
        other,
        LONG_MS,
        'claim() by another token after the renewed lease ended',
      );
    },
  },
  {
    name: 'answers renew() with false for a token that lost its claim, and changes nothing (when the store has renew)',
    async body(c) {
      const renew = c.renewer();
      if (renew === undefined) return;
      const [key, fingerprint, stale, current] = [c.key(), c.fingerprint(), c.token(), c.token()];
      await c.mustClaim(key, fingerprint, stale, c.step, 'the first claim()');
      await c.advance(c.step * 1.5);
      const span = await c.mustClaim(
        key,
        fingerprint,
        current,
        LONG_MS,
        'claim() after the lease ended',
      );
      const lost = await renew(key, stale, LONG_MS * 2);
      if (lost !== false) fail('renew() by a token whose claim was taken over', 'false', lost);
      const record = expectInProgress(
        await c.read(key),
        { fingerprint, token: current },
        'read() after renew() by the stale token',
      );
      c.expectLeaseEnd(record, span, LONG_MS, 'read() after renew() by the stale token');
      const never = await renew(c.key(), stale, LONG_MS);
      if (never !== false) fail('renew() of a key that holds nothing', 'false', never);
      await c.release(key, current);
      const released = await renew(key, current, LONG_MS);
      if (released !== false) fail('renew() after release()', 'false', released);
      expectAbsent(await c.read(key), 'read() after renew() of a released claim');
      const done = c.key();
      await c.mustClaim(done, fingerprint, current, LONG_MS, 'claim()');
      await c.complete(done, current, fingerprint, '{"v":1}', LONG_MS);
      const completed = await renew(done, current, LONG_MS);
      if (completed !== false) fail('renew() of a completed record', 'false', completed);
      expectCompleted(
        await c.read(done),
        { fingerprint, result: '{"v":1}' },
        'read() after renew() of a completed record',
      );
    },
  },
  {
    name: 'lets exactly one of many concurrent claims of one key claim it (claim is atomic)',
    async body(c) {
      const key = c.key();
      const fingerprint = c.fingerprint();
      const tokens = Array.from({ length: c.concurrency }, () => c.token());
      const now = c.now();
      const outcomes = await Promise.all(
        tokens.map((token) => c.store.claim(key, fingerprint, token, LONG_MS, now)),
      );
      const winners = tokens.filter((_, index) => outcomes[index]?.claimed === true);
      if (winners.length !== 1)
        fail(
          `${tokens.length} concurrent claim() calls of one key`,
          'exactly one { claimed: true }',
          `${winners.length} claimed it`,
        );
      const winner = winners[0] as string;
      outcomes.forEach((outcome, index) => {
        if (tokens[index] === winner) return;
        expectInProgress(
          expectRecordFrom(outcome, `concurrent claim() #${index + 1} that lost`),
          { fingerprint, token: winner },
          `concurrent claim() #${index + 1} that lost (it must see the winner's claim)`,
        );
      });
      expectInProgress(await c.read(key), { fingerprint, token: winner }, 'read() after the race');
    },
  },
  {
    name: 'gives back every result text exactly as complete() was given it (JSON of any shape)',
    async body(c) {
      const fingerprint = c.fingerprint();
      for (const result of RESULT_TEXTS) {
        const key = c.key();
        const token = c.token();
        const what = `the result ${show(result)}`;
        await c.mustClaim(key, fingerprint, token, LONG_MS, `claim() for ${what}`);
        await c.complete(key, token, fingerprint, result, LONG_MS);
        const { outcome } = await c.claim(key, fingerprint, c.token(), LONG_MS);
        expectCompleted(
          expectRecordFrom(outcome, `claim() replaying ${what}`),
          { fingerprint, result },
          `claim() replaying ${what}`,
        );
        expectCompleted(await c.read(key), { fingerprint, result }, `read() of ${what}`);
      }
    },
  },
  {
    name: 'keeps keys independent of each other',
    async body(c) {
      const [done, released, untouched] = [c.key(), c.key(), c.key()];
      const fingerprint = c.fingerprint();
      const [first, second] = [c.token(), c.token()];
      await c.mustClaim(done, fingerprint, first, LONG_MS, 'claim() of the first key');
      // The same token and fingerprint on another key: a claim is per key, not per token.
      await c.mustClaim(released, fingerprint, first, LONG_MS, 'claim() of a second key');
      const result = '{"v":"first key"}';
      await c.complete(done, first, fingerprint, result, LONG_MS);
      await c.release(released, first);
      expectCompleted(await c.read(done), { fingerprint, result }, 'read() of the completed key');
      expectAbsent(await c.read(released), 'read() of the released key');
      expectAbsent(await c.read(untouched), 'read() of a key never used');
      await c.mustClaim(released, fingerprint, second, LONG_MS, 'claim() of the released key');
      expectCompleted(
        await c.read(done),
        { fingerprint, result },
        'read() of the completed key at the end',
      );
    },
  },
];
