import type { CircuitState } from './events';
import { hasMethod } from './validation';

/**
 * A shared breaker's settings as its store decides by them: what every process of the fleet
 * declared with `@CircuitBreaker`, resolved (defaults applied, durations in ms).
 */
export interface SharedBreakerSettings {
  /** The last `size` calls, or the calls of the last `buckets × bucketMs` ms. */
  readonly window:
    | { readonly type: 'count'; readonly size: number }
    | { readonly type: 'time'; readonly buckets: number; readonly bucketMs: number };
  /** Opens after this many failures in a row, across the fleet (undefined: not a criterion). */
  readonly consecutiveFailures: number | undefined;
  /** Opens when failures / calls in the window reach this (0..1; undefined: not a criterion). */
  readonly failureRateThreshold: number | undefined;
  /** Opens when slow calls / calls in the window reach this (0..1; undefined: not a criterion). */
  readonly slowCallRateThreshold: number | undefined;
  /** The rates are judged once the window holds at least this many calls. */
  readonly minimumCalls: number;
  /** Trial permits a half-open breaker grants; that many successes close it. */
  readonly halfOpenMaxCalls: number;
  /** Processes (reporters) whose failures it takes to open the breaker (1: any one). */
  readonly quorum: number;
  /** How long the nth opening in a row lasts (ms): `openDurations[n - 1]`, the last for later ones. */
  readonly openDurations: readonly number[];
}

/** What a request asks of a shared breaker. */
export type SharedBreakerOperation =
  /**
   * Outcomes one process saw in the request's epoch since its last record, aggregated: `calls`
   * (failures and slow calls among them), the failures before the first success
   * (`leadingFailures`: all of them when there was no success), after the last
   * (`trailingFailures`), and the longest run of failures (`longestFailureRun`). Applied only
   * while the breaker is closed in that epoch; else ignored.
   */
  | {
      readonly type: 'record';
      readonly calls: number;
      readonly failures: number;
      readonly slowCalls: number;
      readonly leadingFailures: number;
      readonly trailingFailures: number;
      readonly longestFailureRun: number;
    }
  /**
   * A permit to call. Closed: granted. Open before `openUntil`: refused. Open from `openUntil`:
   * the breaker goes half-open first. Half-open: granted while fewer than `halfOpenMaxCalls`
   * permits are held plus trial successes counted, the permit named `token` (≤ 64 bytes) held
   * until settled, released, or `leaseMs` after the grant, whichever comes first.
   */
  | { readonly type: 'acquire'; readonly token: string; readonly leaseMs: number }
  /**
   * The outcome of the trial call of permit `token`, granted in the request's epoch (else
   * ignored, as is a permit no longer held): `'failure'` or `'slow'` opens the breaker again,
   * `'success'` counts toward closing it, `'ignored'` frees the permit.
   */
  | {
      readonly type: 'settle';
      readonly outcome: 'success' | 'failure' | 'slow' | 'ignored';
      readonly token: string;
    }
  /** Frees permit `token`, unused (half-open only; nothing otherwise). */
  | { readonly type: 'release'; readonly token: string }
  /** The breaker's state, changed by nothing but time (a time window's buckets falling out). */
  | { readonly type: 'read' }
  /** Isolated until reset: every permit refused. */
  | { readonly type: 'isolate' }
  /** Closed, its window and consecutive failures cleared, its run of openings ended. */
  | { readonly type: 'reset' };

/** One operation on one breaker, as a process of the fleet sends it. */
export interface SharedBreakerRequest {
  /** the breaker's name (`@CircuitBreaker({ name })`), the same in every process */
  readonly name: string;
  /** the epoch (number of transitions) the operation is about: a record or settle of another is ignored */
  readonly epoch: number;
  /** names the settings: equal settings have equal ids, in every process */
  readonly settingsId: number;
  /**
   * The sender's settings, or undefined when the store already told it that it holds them. When
   * the store holds none for the breaker, or ones of another id: given, they replace them (a
   * window of another shape starts empty); not given, the store decides by what it holds and
   * answers `settingsDiffer`, or, holding none, answers `settingsMissing` and changes nothing.
   */
  readonly settings: SharedBreakerSettings | undefined;
  readonly operation: SharedBreakerOperation;
}

/** A shared breaker's state after a request, by the store's clock. */
export interface SharedBreakerReply {
  readonly state: CircuitState;
  /** transitions so far (0 for a breaker the store has just met) */
  readonly epoch: number;
  /** when the current state began (store's clock, ms) */
  readonly since: number;
  /** when an opening ends (store's clock, ms; 0 when it never opened) */
  readonly openUntil: number;
  /** openings in a row (0 once closed again) */
  readonly openings: number;
  /** the window: calls, failures, slow calls in it; failures in a row across the fleet */
  readonly calls: number;
  readonly failures: number;
  readonly slowCalls: number;
  readonly consecutiveFailures: number;
  /** an acquire's permit was granted */
  readonly granted: boolean;
  /** why this request made a transition ('' when it made none) */
  readonly reason: string;
  /** the store decided by the settings it holds, of another id than the request's */
  readonly settingsDiffer: boolean;
  /** the store holds no settings and the request gave none: nothing was applied */
  readonly settingsMissing: boolean;
  /** a criterion was met by bad calls from fewer reporters than the quorum (the breaker stays closed) */
  readonly shortOfQuorum: boolean;
}

/** What one exchange answers: a reply per request, in order, and the store's time of the decisions. */
export interface SharedBreakerExchange {
  readonly replies: readonly SharedBreakerReply[];
  /** the store's clock when it decided (ms since the epoch, or a test clock's time) */
  readonly at: number;
}

/** A transition of a shared breaker, as a watcher hears of it (times by the store's clock). */
export interface SharedBreakerChange {
  readonly name: string;
  readonly state: CircuitState;
  readonly epoch: number;
  readonly since: number;
  readonly openUntil: number;
  readonly openings: number;
  readonly reason: string;
}

/** A subscription to a store's transitions. */
export interface SharedBreakerWatch {
  /** resolves once changes are delivered (a change made before may have been missed) */
  readonly ready: Promise<void>;
  close(): void;
}

/**
 * A store that shares circuit breakers across processes: RedisStore, `MemoryFleetStore` (the
 * reference implementation, from `steadfast/testing`), or a store of one's own, which
 * `describeSharedBreakerStoreConformance` checks against this contract. The engine keeps each
 * breaker's state in the process and talks to the store in batches: a closed breaker's calls
 * never wait for it.
 *
 * - **Atomicity.** Each request is applied as one atomic step on its breaker's state (read,
 *   decide, write), whatever other processes send meanwhile; requests of one exchange are
 *   applied in order, and need not be atomic together.
 * - **Clock.** The store decides every time (windows, `openUntil`, permit leases, `since`) by one
 *   clock of its own, the same for every process (RedisStore: Redis's `TIME`), and answers it as
 *   `at`. Processes translate its times to their own clocks.
 * - **Reporter.** `reporter` names the sending process (the store instance): with a quorum, a
 *   criterion opens the breaker only when bad calls from `quorum` reporters are in the window.
 * - **Failure.** A rejection means "the store is unavailable": the process carries on with a
 *   breaker of its own from the state it last knew, and follows the fleet again once an exchange
 *   succeeds. An exchange should settle within a bounded time.
 */
export interface SharedBreakerStore {
  exchangeBreakers(
    reporter: string,
    requests: readonly SharedBreakerRequest[],
  ): Promise<SharedBreakerExchange>;
  /**
   * Optional: delivers every transition of any breaker of the store, made by any process. Without
   * it, a process learns of another's transition in its next exchange (within half a second while
   * it is calling through the breaker).
   */
  watchBreakers?(listener: (change: SharedBreakerChange) => void): SharedBreakerWatch;
}

export function exchangesBreakers(store: unknown): store is SharedBreakerStore {
  return hasMethod(store, 'exchangeBreakers');
}

/** Tells a watcher of a change; a watcher that throws does not keep the others (or the store) from hearing. */
export function tellWatcher(
  watcher: (change: SharedBreakerChange) => void,
  change: SharedBreakerChange,
): void {
  try {
    watcher(change);
  } catch {
    // The watcher's own fault: the store's breakers go on.
  }
}
