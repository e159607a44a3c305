import type { Breaker, BreakerObserver } from './breaker/breaker';
import type { BreakerSettings } from './breaker/breaker-options';
import type { LogSink } from './log';
import { hasMethod } from './validation';

/**
 * Where idempotency records live: MemoryStore in one process, RedisStore across a fleet. Keys and
 * fingerprints arrive already hashed (SHA-256, hex); results arrive as JSON text.
 */
export type IdempotencyRecord =
  | {
      readonly state: 'in-progress';
      readonly fingerprint: string;
      /** identifies the claim, so only its owner completes or releases it */
      readonly token: string;
      /** a crashed runner's claim lapses at this time (store clock, ms) */
      readonly leaseUntil: number;
    }
  | {
      readonly state: 'completed';
      readonly fingerprint: string;
      /** the encoded result (see result-codec) */
      readonly result: string;
    };

export type ClaimOutcome =
  { readonly claimed: true } | { readonly claimed: false; readonly record: IdempotencyRecord };

export interface IdempotencyStore {
  /** Atomically: with no live record (none, expired, or a lapsed lease), write an in-progress claim; else return the record. */
  claim(
    key: string,
    fingerprint: string,
    token: string,
    leaseMs: number,
    now: number,
  ): Promise<ClaimOutcome>;
  /** Replaces the claim `token` holds with the completed result, kept for `ttlMs`. */
  complete(
    key: string,
    token: string,
    fingerprint: string,
    result: string,
    ttlMs: number,
    now: number,
  ): Promise<void>;
  /** Removes the claim `token` holds (its run failed), so a later call may run the body. */
  release(key: string, token: string, now: number): Promise<void>;
  /** The live record under `key`, if any. */
  read(key: string, now: number): Promise<IdempotencyRecord | undefined>;
  /**
   * Extends the claim `token` holds to a lease end of now + leaseMs; false when the claim is no
   * longer this token's (it lapsed and another call took it over, or it is gone). Optional: while a
   * keyed body runs, the engine renews its claim every third of `lease` through this; a store
   * without it is not renewed, so a body that outlives its `lease` there may run twice.
   */
  renew?(key: string, token: string, leaseMs: number, now: number): Promise<boolean>;
}

/** A store that can share circuit breakers across processes (RedisStore). */
export interface SharedBreakerStore {
  createBreaker(
    name: string,
    settings: BreakerSettings,
    now: () => number,
    observer: BreakerObserver,
    log: LogSink,
  ): Breaker;
}

export function sharesBreakers(store: unknown): store is SharedBreakerStore {
  return hasMethod(store, 'createBreaker');
}
