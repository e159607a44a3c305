import type { IdempotencyStore } from '../store';
import { hasMethod, type OptionChecker } from '../validation';

/** The options of `@Idempotent`. With none, it only declares the method safe to repeat. */
export interface IdempotentOptions {
  /**
   * Names the logical operation from the call's arguments: within `ttl` the body runs at most once
   * per key (per method), and later calls get the recorded result.
   */
  key?(...args: never[]): string | number;
  /**
   * Names the operation's records (default `Class.method`): the same name in every process of a
   * fleet finds the same records. A name used by another method is a ConfigError.
   */
  readonly name?: string;
  /**
   * What identifies the call's arguments, compared for the same key (default: the arguments
   * themselves): return plain data, for arguments that cannot be fingerprinted as they are.
   */
  fingerprint?(...args: never[]): unknown;
  /** ms a recorded result is replayed (default 86 400 000: 24 h) */
  readonly ttl?: number;
  /** where records live (default: the engine's store) */
  readonly store?: IdempotencyStore;
  /** ms an in-progress claim holds; a crashed runner's claim lapses after it (default 60 000) */
  readonly lease?: number;
  /** ms a duplicate waits for the same call in progress elsewhere, then IdempotencyInProgressError (default 10 000) */
  readonly wait?: number;
  /** when the store fails: 'reject' the call (default: a charge never runs twice because the store was down) or 'proceed' without deduplication */
  readonly onStoreError?: 'reject' | 'proceed';
}

/** Keyed idempotency with defaults filled in. */
export interface KeyedSettings {
  readonly key: (...args: unknown[]) => unknown;
  readonly name: string | undefined;
  readonly fingerprint: ((...args: unknown[]) => unknown) | undefined;
  readonly ttl: number;
  readonly store: IdempotencyStore | undefined;
  readonly lease: number;
  readonly wait: number;
  readonly onStoreError: 'reject' | 'proceed';
}

const KEYS = [
  'key',
  'name',
  'fingerprint',
  'ttl',
  'store',
  'lease',
  'wait',
  'onStoreError',
] as const;

export const IDEMPOTENCY_DEFAULTS = {
  ttl: 86_400_000,
  lease: 60_000,
  wait: 10_000,
  onStoreError: 'reject',
} as const;

/** Checks the options; returns keyed settings, or undefined for a plain @Idempotent(). */
export function checkIdempotentOptions(
  raw: unknown,
  checker: OptionChecker,
): KeyedSettings | undefined {
  if (raw === undefined) return undefined;
  const options = checker.object('', raw, KEYS);
  if (options.key === undefined) {
    const stray = KEYS.find((key) => options[key] !== undefined);
    if (stray !== undefined)
      checker.fail(
        stray,
        'only applies with a key: @Idempotent({ key: (...args) => string, … })',
        options[stray],
      );
    return undefined;
  }
  const store = options.store;
  if (store !== undefined && !isStore(store))
    checker.fail('store', 'must be an idempotency store (MemoryStore, RedisStore)', store);
  return Object.freeze({
    key: checker.func<(...args: unknown[]) => unknown>('key', options.key),
    name: options.name === undefined ? undefined : checker.text('name', options.name),
    fingerprint:
      options.fingerprint === undefined
        ? undefined
        : checker.func<(...args: unknown[]) => unknown>('fingerprint', options.fingerprint),
    ttl:
      options.ttl === undefined ? IDEMPOTENCY_DEFAULTS.ttl : positive(checker, 'ttl', options.ttl),
    store: store as IdempotencyStore | undefined,
    lease:
      options.lease === undefined
        ? IDEMPOTENCY_DEFAULTS.lease
        : positive(checker, 'lease', options.lease),
    wait:
      options.wait === undefined
        ? IDEMPOTENCY_DEFAULTS.wait
        : checker.duration('wait', options.wait),
    onStoreError:
      options.onStoreError === undefined
        ? IDEMPOTENCY_DEFAULTS.onStoreError
        : checker.oneOf('onStoreError', options.onStoreError, ['reject', 'proceed'] as const),
  });
}

function positive(checker: OptionChecker, option: string, value: unknown): number {
  const duration = checker.duration(option, value);
  if (duration === 0) checker.fail(option, 'must be > 0 ms', value);
  return duration;
}

/** A store's methods must be its own (or its class's): one on a polluted Object.prototype does not count. */
export function isStore(value: unknown): value is IdempotencyStore {
  return (
    typeof value === 'object' &&
    value !== null &&
    STORE_METHODS.every((method) => hasMethod(value, method))
  );
}

const STORE_METHODS = ['claim', 'complete', 'release', 'read'] as const;
