import type { Breaker, BreakerObserver } from './breaker/breaker';
import type { BreakerSettings } from './breaker/breaker-options';
import type { RetryBudget } from './budget/retry-budget';
import type { RetryBudgetSettings } from './budget/budget-options';
import type { LogSink } from './log';
import { hasMethod } from './validation';

/**
 * What an idempotency store holds under a key: a claim while the body runs (`in-progress`), then
 * its recorded result (`completed`). Every field is given back exactly as the engine gave it.
 */
export type IdempotencyRecord =
  | {
      readonly state: 'in-progress';
      readonly fingerprint: string;
      /** identifies the claim (a UUID per call): only its owner completes, releases, renews it */
      readonly token: string;
      /**
       * When the claim lapses (ms, by the clock the store decides by: the `now` argument, or the
       * store's own). A claim is live while `leaseUntil > now`; after that, a crashed runner's
       * claim is taken over by the next claim(). The engine does not compare it with its clock.
       */
      readonly leaseUntil: number;
    }
  | {
      readonly state: 'completed';
      readonly fingerprint: string;
      /** the result as JSON text (the engine's envelope around the value), byte for byte */
      readonly result: string;
    };

/**
 * What claim() found: the key was claimed for the caller's token, or the live record that stands
 * (another call's claim, or a recorded result), whatever its fingerprint.
 */
export type ClaimOutcome =
  { readonly claimed: true } | { readonly claimed: false; readonly record: IdempotencyRecord };

/**
 * Where `@Idempotent({ key })` keeps its records: MemoryStore (the reference implementation) in one
 * process, RedisStore across a fleet, or a store of one's own, which
 * `describeIdempotencyStoreConformance` (from `steadfast/testing`) checks against this contract.
 *
 * - **What arrives.** `key` and `fingerprint` are already hashed (SHA-256, 64 hex characters; the
 *   key covers the method's record name); `token` is a random UUID per call; `result` is JSON text.
 *   Keep them as given: store `result` as text (a JSON column type that reorders keys or rewrites
 *   numbers changes what is replayed).
 * - **Clock.** `now` is the engine's clock (`engine.clock.now()`: ms since the epoch, or a
 *   FakeClock's time). A store decides leases and expiry by it (MemoryStore) or by a clock of its
 *   own, the same for every process of a fleet: RedisStore ignores `now` and decides leases by
 *   Redis's `TIME` (or by its `clock` option, in tests), and expires records with Redis's own key
 *   expiry, in real time. Renewals are scheduled in real time, every third of `lease`.
 * - **Atomicity.** claim() is one atomic check-and-set: of any number of concurrent claims of a key
 *   with no live record, from any number of processes, exactly one claims it. complete(), release()
 *   and renew() act only for the token that holds the claim, each as one atomic step.
 * - **Failure.** An operation that rejects means "the store is unavailable". On claim() the call
 *   follows `onStoreError`: `'reject'` (default) fails it with IdempotencyStoreError, the body not
 *   run; `'proceed'` runs the body without deduplication. A rejection with a CorruptRecordError
 *   (`isCorruptRecordError`) means the store answered with a record it cannot trust: the call fails
 *   closed whatever `onStoreError` says. Rejections of complete(), release() and renew() are logged
 *   and the call goes on (see each). An operation should settle within a bounded time (RedisStore:
 *   `commandTimeout`): a call waits for it.
 */
export interface IdempotencyStore {
  /**
   * Atomically: when `key` holds no live record (none; a completed one past its ttl; a claim past
   * its `leaseUntil`), writes the in-progress claim `{ fingerprint, token, leaseUntil: now +
   * leaseMs }` and answers `{ claimed: true }`; else answers `{ claimed: false, record }` with the
   * record that stands, unchanged, whatever its fingerprint (the engine then replays a completed
   * one, fails a different fingerprint with IdempotencyConflictError, or waits for a claim in
   * progress, polling claim() for up to `wait`).
   */
  claim(
    key: string,
    fingerprint: string,
    token: string,
    leaseMs: number,
    now: number,
  ): Promise<ClaimOutcome>;
  /**
   * Atomically: replaces the claim `token` holds with the completed record
   * `{ fingerprint, result }`, live for `ttlMs` from now. Does nothing when the key holds another
   * token's claim (this one lapsed and was taken over) or a completed record (the first result
   * stays). When the key holds nothing (the claim lapsed and expired, untaken), MemoryStore and
   * RedisStore record the result. A rejection is logged as an error: the caller still gets the
   * body's result, and a duplicate may run the body again once the claim lapses.
   */
  complete(
    key: string,
    token: string,
    fingerprint: string,
    result: string,
    ttlMs: number,
    now: number,
  ): Promise<void>;
  /**
   * Atomically: deletes the claim `token` holds (its run failed), so a later call may run the
   * body. Does nothing for another token's claim or for a completed record. A rejection is logged
   * as an error and the call fails with the body's own error; the claim lapses after its lease.
   */
  release(key: string, token: string, now: number): Promise<void>;
  /**
   * The live record under `key` (what claim() would answer with), or undefined: none, a completed
   * record past its ttl, or a claim past its `leaseUntil`. Changes no record. For tools and tests:
   * the engine decides by claim() alone.
   */
  read(key: string, now: number): Promise<IdempotencyRecord | undefined>;
  /**
   * Extends the claim `token` holds to a lease end of now + leaseMs; false when the claim is no
   * longer this token's (it lapsed and another call took it over, or it is gone). Optional: while a
   * keyed body runs, the engine renews its claim every third of `lease` through this; a store
   * without it is not renewed, so a body that outlives its `lease` there may run twice. Atomic, as
   * claim() is. On false the engine stops renewing and logs an error (the run's result will not be
   * recorded); a rejection is logged as a warning and the renewal tried again a third of a lease
   * later.
   */
  renew?(key: string, token: string, leaseMs: number, now: number): Promise<boolean>;
}

/**
 * A store that makes its own fleet breakers (RedisStore: its breakers' outcomes ride in batches
 * with its budgets'). A store of one's own implements SharedBreakerStore instead.
 */
export interface BreakerFactoryStore {
  createBreaker(
    name: string,
    settings: BreakerSettings,
    now: () => number,
    observer: BreakerObserver,
    log: LogSink,
  ): Breaker;
}

export function makesBreakers(store: unknown): store is BreakerFactoryStore {
  return hasMethod(store, 'createBreaker');
}

/** A store that can share named retry budgets across processes (RedisStore). */
export interface SharedBudgetStore {
  /** The fleet's budget `name`: this process's calls and retries count with every other's. */
  createBudget(
    name: string,
    settings: RetryBudgetSettings,
    now: () => number,
    log: LogSink,
  ): RetryBudget;
}

export function sharesBudgets(store: unknown): store is SharedBudgetStore {
  return hasMethod(store, 'createBudget');
}
