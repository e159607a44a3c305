/*
 * Type-level tests of RetryOptions, checked by `npm run typecheck` in both decorator modes. Never run.
 */
import type { ErrorClass, JitterKind, RetryOptions, RetryPredicate } from '../../src';

export const everyOption: RetryOptions = {
  maxAttempts: 3,
  initialDelay: 100,
  maxDelay: 10_000,
  multiplier: 2,
  jitter: 'full',
  retryOn: [Error],
  retryOnResult: (result: unknown) => result === undefined,
  maxElapsed: 30_000,
  signal: (args: readonly unknown[]) =>
    args.find((arg): arg is AbortSignal => arg instanceof AbortSignal),
};

export const empty: RetryOptions = {};
export const jitters: JitterKind[] = ['full', 'equal', 'decorrelated', 'none'];
export const predicate: RetryPredicate = (error, attempt) =>
  error instanceof TypeError && attempt < 2;
export const errorClasses: readonly ErrorClass[] = [TypeError, class CustomError extends Error {}];
export const withPredicate: RetryOptions = { retryOn: predicate };

// An abstract error class can be matched with instanceof as well.
abstract class AbstractFailure extends Error {}
export const withAbstract: RetryOptions = { retryOn: [AbstractFailure] };

// Unknown keys are rejected.
// @ts-expect-error maxAttempt is a typo of maxAttempts
export const typo: RetryOptions = { maxAttempt: 3 };
// @ts-expect-error delay is not an option
export const unknownKey: RetryOptions = { delay: 100 };

// Wrong types are rejected.
// @ts-expect-error maxAttempts is a number
export const textAttempts: RetryOptions = { maxAttempts: '3' };
// @ts-expect-error initialDelay is a number of ms
export const textDelay: RetryOptions = { initialDelay: '100ms' };
// @ts-expect-error maxDelay is a number of ms
export const booleanDelay: RetryOptions = { maxDelay: true };
// @ts-expect-error multiplier is a number
export const textMultiplier: RetryOptions = { multiplier: 'x2' };
// @ts-expect-error maxElapsed is a number of ms
export const textElapsed: RetryOptions = { maxElapsed: '5s' };
// @ts-expect-error 'random' is not a jitter kind
export const randomJitter: RetryOptions = { jitter: 'random' };
// @ts-expect-error retryOn holds error classes, not instances
export const instances: RetryOptions = { retryOn: [new Error('x')] };
// @ts-expect-error retryOn holds error classes, not strings
export const names: RetryOptions = { retryOn: ['TypeError'] };
// @ts-expect-error retryOnResult is a function
export const resultFlag: RetryOptions = { retryOnResult: true };
// @ts-expect-error signal picks the signal from the arguments; it is not the signal itself
export const signalItself: RetryOptions = { signal: new AbortController().signal };
// @ts-expect-error signal returns an AbortSignal or undefined
export const signalNumber: RetryOptions = { signal: () => 5 };

// Options are read-only once written.
export function readonlyOptions(options: RetryOptions): void {
  // @ts-expect-error maxAttempts is readonly
  options.maxAttempts = 5;
}
