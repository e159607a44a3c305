import {
  checkBudgetOptions,
  type RetryBudgetOptions,
  type RetryBudgetSettings,
} from '../budget/budget-options';
import type { AbortSignalLike } from '../clock';
import type { OptionChecker } from '../validation';

export type JitterKind = 'full' | 'equal' | 'decorrelated' | 'none';

/** An error class to match with `instanceof`. */
export type ErrorClass = abstract new (...args: never[]) => unknown;

/** Decides whether the failure of `attempt` (1-based) is retried. */
export type RetryPredicate = { check(error: unknown, attempt: number): boolean }['check'];

/** The options of `@Retryable`. Every one is optional; see the README for defaults. */
export interface RetryOptions {
  /** attempts in all, the first included; an integer ≥ 1 (default 3) */
  readonly maxAttempts?: number;
  /** ms before the second attempt (default 100) */
  readonly initialDelay?: number;
  /** ms; no computed delay exceeds it (default 10 000) */
  readonly maxDelay?: number;
  /** growth of the delay per attempt, ≥ 1 (default 2) */
  readonly multiplier?: number;
  /** how delays are randomised (default 'full') */
  readonly jitter?: JitterKind;
  /** which failures are retried: error classes, or a predicate (default: every error but the library's own and aborts) */
  readonly retryOn?: readonly ErrorClass[] | RetryPredicate;
  /** a resolved value that still counts as a failure */
  retryOnResult?(result: unknown): boolean;
  /** ms budget for the whole call, sleeps included; no sleep starts that would end past it */
  readonly maxElapsed?: number;
  /** ms; the most a server's Retry-After (or an error's `retryAfter`) may make a retry wait (default: no cap) */
  readonly maxRetryAfter?: number;
  /** the method's own retry budget (methods naming the same one share it), or false for none (default: the engine's, if configured) */
  readonly budget?: RetryBudgetOptions | false;
  /** picks the call's AbortSignal from its arguments (default: an AbortSignal argument, or an argument's `signal`) */
  signal?(args: readonly unknown[]): AbortSignalLike | undefined;
}

/** Retry options with every default filled in. */
export interface RetrySettings {
  readonly maxAttempts: number;
  readonly initialDelay: number;
  readonly maxDelay: number;
  readonly multiplier: number;
  readonly jitter: JitterKind;
  readonly retryOn: readonly ErrorClass[] | RetryPredicate | undefined;
  readonly retryOnResult: ((result: unknown) => boolean) | undefined;
  readonly maxElapsed: number | undefined;
  readonly maxRetryAfter: number | undefined;
  /** the method's own budget, false for none, undefined for the engine's */
  readonly budget: RetryBudgetSettings | false | undefined;
  readonly signal: ((args: readonly unknown[]) => AbortSignalLike | undefined) | undefined;
}

export const RETRY_DEFAULTS = {
  maxAttempts: 3,
  initialDelay: 100,
  maxDelay: 10_000,
  multiplier: 2,
  jitter: 'full',
} as const satisfies RetryOptions;

const RETRY_OPTION_KEYS = [
  'maxAttempts',
  'initialDelay',
  'maxDelay',
  'multiplier',
  'jitter',
  'retryOn',
  'retryOnResult',
  'maxElapsed',
  'maxRetryAfter',
  'budget',
  'signal',
] as const;

const JITTER_KINDS: readonly JitterKind[] = ['full', 'equal', 'decorrelated', 'none'];

/** Checks every option given (unknown keys included) and returns a frozen copy. */
export function checkRetryOptions(raw: unknown, checker: OptionChecker): RetryOptions {
  const options = checker.object('', raw, RETRY_OPTION_KEYS);
  // Null prototype: reading an option left out finds nothing, whatever Object.prototype holds.
  const checked: Record<string, unknown> = Object.create(null);
  const read = (
    key: (typeof RETRY_OPTION_KEYS)[number],
    check: (value: unknown) => unknown,
  ): void => {
    if (options[key] !== undefined) checked[key] = check(options[key]);
  };
  read('maxAttempts', (v) => checker.integer('maxAttempts', v, 1));
  read('initialDelay', (v) => checker.duration('initialDelay', v));
  read('maxDelay', (v) => checker.duration('maxDelay', v));
  read('multiplier', (v) => checker.atLeast('multiplier', v, 1));
  read('jitter', (v) => checker.oneOf('jitter', v, JITTER_KINDS));
  read('retryOn', (v) => checkRetryOn(v, checker));
  read('retryOnResult', (v) => checker.func('retryOnResult', v));
  read('maxElapsed', (v) => checker.duration('maxElapsed', v));
  read('maxRetryAfter', (v) => checker.duration('maxRetryAfter', v));
  read('budget', (v) => (v === false ? false : checkBudgetOptions(v, 'budget', checker, true)));
  read('signal', (v) => checker.func('signal', v));
  const own = Object.freeze(checked) as RetryOptions;
  // Checked whole against the library's defaults now; against configured defaults at the first call.
  resolveRetrySettings(own, undefined, checker);
  return own;
}

function checkRetryOn(value: unknown, checker: OptionChecker): RetryOptions['retryOn'] {
  if (typeof value === 'function') return value as RetryPredicate;
  return checker.errorClasses<ErrorClass>('retryOn', value, '(error, attempt) => boolean');
}

/** Fills in defaults (the library's, then configured ones, then the decorator's) and checks the whole. */
export function resolveRetrySettings(
  own: RetryOptions,
  configured: RetryOptions | undefined,
  checker: OptionChecker,
): RetrySettings {
  // Own properties only (a null-prototype target), so a polluted Object.prototype fills in nothing.
  const merged: Required<Pick<RetryOptions, keyof typeof RETRY_DEFAULTS>> & RetryOptions =
    Object.assign(Object.create(null) as object, RETRY_DEFAULTS, configured, own);
  if (merged.maxDelay < merged.initialDelay) {
    // Blame the side that was written: a maxDelay left to its default is not the user's mistake.
    const maxDelayGiven = own.maxDelay !== undefined || configured?.maxDelay !== undefined;
    if (maxDelayGiven)
      checker.fail('maxDelay', `must be >= initialDelay (${merged.initialDelay})`, merged.maxDelay);
    checker.fail(
      'initialDelay',
      `must be <= maxDelay (${merged.maxDelay}, the default)`,
      merged.initialDelay,
    );
  }
  return {
    maxAttempts: merged.maxAttempts,
    initialDelay: merged.initialDelay,
    maxDelay: merged.maxDelay,
    multiplier: merged.multiplier,
    jitter: merged.jitter,
    retryOn: merged.retryOn,
    retryOnResult: merged.retryOnResult,
    maxElapsed: merged.maxElapsed,
    maxRetryAfter: merged.maxRetryAfter,
    budget: merged.budget as RetryBudgetSettings | false | undefined,
    signal: merged.signal,
  };
}
