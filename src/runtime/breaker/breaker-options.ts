import type { ErrorClass } from '../retry/retry-options';
import { OptionChecker } from '../validation';

/** Decides whether an error counts (for `recordOn`) or is ignored (for `ignoreOn`). */
export type ErrorPredicate = { check(error: unknown): boolean }['check'];

export interface SlidingWindowOptions {
  /** 'count': the last `size` calls; 'time': the calls of the last `size` ms */
  readonly type: 'count' | 'time';
  readonly size: number;
}

export interface FailureRateOptions {
  /** open when failures / calls in the window reaches this, in (0, 1] */
  readonly threshold: number;
  /** default { type: 'count', size: 100 } */
  readonly window?: SlidingWindowOptions;
  /** calls the window must hold before the rate counts (default 10, at most a count window's size) */
  readonly minimumCalls?: number;
}

export interface SlowCallOptions {
  /** ms; a call that takes longer is slow, whether it succeeds or fails */
  readonly duration: number;
  /** open when slow calls / calls in the window reaches this, in (0, 1] */
  readonly rateThreshold: number;
}

/** The options of `@CircuitBreaker`. */
export interface CircuitBreakerOptions {
  /** breakers are shared by name (default: one breaker for the method, named `Class.method`) */
  readonly name?: string;
  /** 'class' (default): one breaker for all instances; 'instance': one per instance */
  readonly scope?: 'class' | 'instance';
  /** open after this many recorded failures in a row (default 5 unless failureRate is given) */
  readonly consecutiveFailures?: number;
  /** open when the failure ratio in a sliding window reaches a threshold */
  readonly failureRate?: FailureRateOptions;
  /** open when the ratio of slow calls in the window reaches a threshold */
  readonly slowCall?: SlowCallOptions;
  /** ms the breaker stays open (default 30 000), or a function of the consecutive openings (1, 2, …) */
  readonly openDuration?: number | ((openings: number) => number);
  /** cap on openDuration, ms (default 600 000, or a fixed openDuration if longer) */
  readonly maxOpenDuration?: number;
  /** trial calls allowed while half-open; all must succeed to close (default 1) */
  readonly halfOpenMaxCalls?: number;
  /**
   * On a shared store (RedisStore): the fleet opens only when the failures that trip the breaker
   * came from at least this many processes (store instances); failures fewer processes see open it
   * in those processes alone. An integer >= 1 (default 1: any process's failures count for the
   * fleet). Without a shared store it changes nothing.
   */
  readonly quorum?: number;
  /** which errors count as failures (default: all); the others count as successes */
  readonly recordOn?: readonly ErrorClass[] | ErrorPredicate;
  /** errors that count neither way (default: aborts); checked before recordOn */
  readonly ignoreOn?: readonly ErrorClass[] | ErrorPredicate;
  /** a resolved value that counts as a failure */
  recordOnResult?(result: unknown): boolean;
}

/** Everything a breaker runs on, defaults filled in. */
export interface BreakerSettings {
  readonly consecutiveFailures: number | undefined;
  readonly failureRateThreshold: number | undefined;
  readonly window: SlidingWindowOptions;
  readonly minimumCalls: number;
  readonly slowCall: SlowCallOptions | undefined;
  readonly openDuration: number | ((openings: number) => number);
  readonly maxOpenDuration: number;
  readonly halfOpenMaxCalls: number;
  readonly quorum: number;
  readonly recordOn: readonly ErrorClass[] | ErrorPredicate | undefined;
  readonly ignoreOn: readonly ErrorClass[] | ErrorPredicate | undefined;
  readonly recordOnResult: ((result: unknown) => boolean) | undefined;
}

/** The largest count window: it is an array of that many calls, per breaker. */
export const MAX_COUNT_WINDOW_SIZE = 1_000_000;

export const BREAKER_DEFAULTS = {
  consecutiveFailures: 5,
  window: { type: 'count', size: 100 } as SlidingWindowOptions,
  minimumCalls: 10,
  openDuration: 30_000,
  maxOpenDuration: 600_000,
  halfOpenMaxCalls: 1,
  quorum: 1,
} as const;

const KEYS = [
  'name',
  'scope',
  'consecutiveFailures',
  'failureRate',
  'slowCall',
  'openDuration',
  'maxOpenDuration',
  'halfOpenMaxCalls',
  'quorum',
  'recordOn',
  'ignoreOn',
  'recordOnResult',
] as const;

/** Checks every option given (unknown keys included) and returns a frozen copy. */
export function checkBreakerOptions(raw: unknown, checker: OptionChecker): CircuitBreakerOptions {
  const options = checker.object('', raw, KEYS);
  // Null prototype: reading an option left out finds nothing, whatever Object.prototype holds.
  const out: Record<string, unknown> = Object.create(null);
  const read = (key: (typeof KEYS)[number], check: (value: unknown) => unknown): void => {
    if (options[key] !== undefined) out[key] = check(options[key]);
  };
  read('name', (v) => checker.text('name', v));
  read('scope', (v) => checker.oneOf('scope', v, ['class', 'instance'] as const));
  read('consecutiveFailures', (v) => checker.integer('consecutiveFailures', v, 1));
  read('failureRate', (v) => checkFailureRate(v, checker));
  read('slowCall', (v) => {
    const slow = checker.object('slowCall', v, ['duration', 'rateThreshold']);
    if (slow.duration === undefined) checker.fail('slowCall.duration', 'is required', undefined);
    if (slow.rateThreshold === undefined)
      checker.fail('slowCall.rateThreshold', 'is required', undefined);
    return Object.freeze({
      duration: checker.duration('slowCall.duration', slow.duration),
      rateThreshold: checker.ratio('slowCall.rateThreshold', slow.rateThreshold),
    });
  });
  read('openDuration', (v) => (typeof v === 'function' ? v : checker.duration('openDuration', v)));
  read('maxOpenDuration', (v) => checker.duration('maxOpenDuration', v));
  read('halfOpenMaxCalls', (v) => checker.integer('halfOpenMaxCalls', v, 1));
  read('quorum', (v) => checker.integer('quorum', v, 1));
  read('recordOn', (v) => checkErrorMatcher('recordOn', v, checker));
  read('ignoreOn', (v) => checkErrorMatcher('ignoreOn', v, checker));
  read('recordOnResult', (v) => checker.func('recordOnResult', v));
  if (out.consecutiveFailures !== undefined && out.failureRate !== undefined) {
    checker.fail(
      'failureRate',
      'cannot be combined with consecutiveFailures: choose one failure criterion',
      raw,
    );
  }
  if (
    typeof out.openDuration === 'number' &&
    typeof out.maxOpenDuration === 'number' &&
    out.openDuration > out.maxOpenDuration
  ) {
    checker.fail(
      'maxOpenDuration',
      `must be >= openDuration (${out.openDuration})`,
      out.maxOpenDuration,
    );
  }
  const own = Object.freeze(out) as CircuitBreakerOptions;
  // Checked whole against the library's defaults now (a breaker that could never open is refused);
  // against configured defaults when the breaker is created.
  resolveBreakerSettings(own, undefined, checker);
  return own;
}

/** Whether every class recordOn matches is a subclass of (or is) a class ignoreOn matches; predicates are not judged. */
function ignoresEveryRecorded(
  recordOn: BreakerSettings['recordOn'],
  ignoreOn: BreakerSettings['ignoreOn'],
): boolean {
  if (
    recordOn === undefined ||
    ignoreOn === undefined ||
    typeof recordOn === 'function' ||
    typeof ignoreOn === 'function'
  )
    return false;
  const ignored = (recorded: ErrorClass): boolean =>
    ignoreOn.some(
      (ignoredClass) =>
        matchesByPrototype(ignoredClass) &&
        (recorded === ignoredClass || isSubclass(recorded, ignoredClass)),
    );
  return recordOn.every((recorded) => matchesByPrototype(recorded) && ignored(recorded));
}

/** A class whose `instanceof` is the ordinary prototype-chain test (no custom Symbol.hasInstance). */
function matchesByPrototype(errorClass: ErrorClass): boolean {
  const prototype: unknown = errorClass.prototype;
  const ordinary =
    (errorClass as { [Symbol.hasInstance]?: unknown })[Symbol.hasInstance] ===
    Function.prototype[Symbol.hasInstance];
  return ordinary && typeof prototype === 'object' && prototype !== null;
}

function isSubclass(subclass: ErrorClass, base: ErrorClass): boolean {
  return Object.prototype.isPrototypeOf.call(base.prototype, subclass.prototype);
}

function checkFailureRate(value: unknown, checker: OptionChecker): FailureRateOptions {
  const rate = checker.object('failureRate', value, ['threshold', 'window', 'minimumCalls']);
  if (rate.threshold === undefined) checker.fail('failureRate.threshold', 'is required', undefined);
  const threshold = checker.ratio('failureRate.threshold', rate.threshold);
  let window: SlidingWindowOptions | undefined;
  if (rate.window !== undefined) {
    const raw = checker.object('failureRate.window', rate.window, ['type', 'size']);
    const type = checker.oneOf('failureRate.window.type', raw.type, ['count', 'time'] as const);
    // A count window is an array of its size, allocated when the breaker is first used.
    const size = checker.integer(
      'failureRate.window.size',
      raw.size,
      1,
      type === 'count' ? MAX_COUNT_WINDOW_SIZE : Number.MAX_SAFE_INTEGER,
    );
    window = Object.freeze({ type, size });
  }
  const minimumCalls =
    rate.minimumCalls === undefined
      ? undefined
      : checker.integer('failureRate.minimumCalls', rate.minimumCalls, 1);
  const counted = window ?? BREAKER_DEFAULTS.window;
  if (counted.type === 'count' && minimumCalls !== undefined && minimumCalls > counted.size) {
    checker.fail(
      'failureRate.minimumCalls',
      mustFitTheWindow(counted.size, window === undefined, false),
      minimumCalls,
    );
  }
  return Object.freeze({ threshold, window, minimumCalls });
}

/** Why a minimumCalls above a count window's size is refused: the window never holds that many calls. */
function mustFitTheWindow(size: number, defaultWindow: boolean, withDefaults: boolean): string {
  const which = defaultWindow
    ? `the default count window's size (${size})`
    : `the count window's size (${size})`;
  const where = withDefaults ? ', with the defaults given to configure(),' : '';
  return `must be <= ${which}${where}: the window never holds more calls, so the breaker could never open`;
}

function checkErrorMatcher(
  option: string,
  value: unknown,
  checker: OptionChecker,
): readonly ErrorClass[] | ErrorPredicate {
  if (typeof value === 'function') return value as ErrorPredicate;
  return checker.errorClasses<ErrorClass>(option, value, '(error) => boolean');
}

/**
 * Fills in defaults: the library's, then configured ones, then the decorator's; refuses (naming the
 * option) a whole that could never open. Without a checker, errors name no method.
 */
export function resolveBreakerSettings(
  own: CircuitBreakerOptions,
  configured: CircuitBreakerOptions | undefined,
  checker: OptionChecker = new OptionChecker('@CircuitBreaker', undefined),
): BreakerSettings {
  // Own properties only (null-prototype copies), so a polluted Object.prototype fills in nothing.
  const mine: CircuitBreakerOptions = Object.assign(Object.create(null) as object, own);
  const merged: CircuitBreakerOptions = Object.assign(
    Object.create(null) as object,
    configured,
    own,
  );
  // A criterion given by the decorator replaces the configured one rather than adding to it.
  if (mine.failureRate !== undefined && mine.consecutiveFailures === undefined)
    delete (merged as { consecutiveFailures?: number }).consecutiveFailures;
  if (mine.consecutiveFailures !== undefined && mine.failureRate === undefined)
    delete (merged as { failureRate?: FailureRateOptions }).failureRate;
  const failureRate: FailureRateOptions | undefined =
    merged.failureRate === undefined
      ? undefined
      : Object.assign(Object.create(null) as object, merged.failureRate);
  const window = failureRate?.window ?? BREAKER_DEFAULTS.window;
  const minimumCalls =
    failureRate?.minimumCalls ??
    (window.type === 'count'
      ? Math.min(BREAKER_DEFAULTS.minimumCalls, window.size)
      : BREAKER_DEFAULTS.minimumCalls);
  const withDefaults = configured !== undefined;
  if (window.type === 'count' && minimumCalls > window.size) {
    checker.fail(
      'failureRate.minimumCalls',
      mustFitTheWindow(window.size, failureRate?.window === undefined, withDefaults),
      minimumCalls,
    );
  }
  if (
    typeof merged.openDuration === 'number' &&
    merged.maxOpenDuration !== undefined &&
    merged.openDuration > merged.maxOpenDuration
  ) {
    const where = withDefaults ? ', with the defaults given to configure()' : '';
    checker.fail(
      'maxOpenDuration',
      `must be >= openDuration (${merged.openDuration})${where}`,
      merged.maxOpenDuration,
    );
  }
  if (
    merged.slowCall === undefined &&
    merged.recordOnResult === undefined &&
    ignoresEveryRecorded(merged.recordOn, merged.ignoreOn)
  ) {
    const where = withDefaults ? ' (with the defaults given to configure())' : '';
    const why = 'no failure could ever count, so the breaker could never open';
    checker.fail(
      'ignoreOn',
      `ignores every error that recordOn records${where}: ${why}`,
      merged.ignoreOn,
    );
  }
  return {
    consecutiveFailures:
      failureRate === undefined
        ? (merged.consecutiveFailures ?? BREAKER_DEFAULTS.consecutiveFailures)
        : undefined,
    failureRateThreshold: failureRate?.threshold,
    window,
    minimumCalls,
    slowCall: merged.slowCall,
    openDuration: merged.openDuration ?? BREAKER_DEFAULTS.openDuration,
    // A fixed openDuration longer than the default cap raises the cap rather than being cut short.
    maxOpenDuration:
      merged.maxOpenDuration ??
      Math.max(
        BREAKER_DEFAULTS.maxOpenDuration,
        typeof merged.openDuration === 'number' ? merged.openDuration : 0,
      ),
    halfOpenMaxCalls: merged.halfOpenMaxCalls ?? BREAKER_DEFAULTS.halfOpenMaxCalls,
    quorum: merged.quorum ?? BREAKER_DEFAULTS.quorum,
    recordOn: merged.recordOn,
    ignoreOn: merged.ignoreOn,
    recordOnResult: merged.recordOnResult,
  };
}
