import { Idempotent, Retryable, type RetryOptions } from '../../../src';
import type { FakeClock } from '../../../src/testing';

/** The largest value `Math.random()` can return: a jittered delay gets as close to its upper bound as it can. */
export const TOP_RANDOM = 1 - 2 ** -53;

/** A service whose `fetch()` fails `failures` times (a new Error each time), then resolves 'ok'. */
export interface FlakyService {
  fetch(): Promise<string>;
  /** body runs so far */
  readonly runs: number;
  /** every error the body threw, in order */
  readonly errors: readonly Error[];
}

/** Declares a fresh `Flaky` class with `@Idempotent() @Retryable(options)` on `fetch()`. */
export function flakyService(options: RetryOptions, failures = Infinity): FlakyService {
  class Flaky {
    runs = 0;
    readonly errors: Error[] = [];

    @Idempotent()
    @Retryable(options)
    async fetch(): Promise<string> {
      this.runs++;
      if (this.runs > failures) return 'ok';
      const error = new Error(`attempt ${this.runs} failed`);
      this.errors.push(error);
      throw error;
    }
  }
  return new Flaky();
}

/** Wakes every sleep until the call settles; returns the reason it rejects with (fails if it resolves). */
export async function rejectionOf(clock: FakeClock, call: Promise<unknown>): Promise<unknown> {
  const settled = call.then(
    (value: unknown) => ({ rejected: false, value }),
    (reason: unknown) => ({ rejected: true, value: reason }),
  );
  await clock.runAll();
  const outcome = await settled;
  if (!outcome.rejected)
    throw new Error(`expected the call to reject, it resolved with ${String(outcome.value)}`);
  return outcome.value;
}

/** Wakes every sleep until the call settles; returns what it resolves with (rejects if it rejects). */
export async function resultOf<T>(clock: FakeClock, call: Promise<T>): Promise<T> {
  const settled = call.then(
    (value: T) => ({ rejected: false as const, value }),
    (reason: unknown) => ({ rejected: true as const, reason }),
  );
  await clock.runAll();
  const outcome = await settled;
  if (outcome.rejected) throw outcome.reason;
  return outcome.value;
}

/** The reason a promise rejects with, without running any clock (fails if it resolves). */
export async function reasonOf(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (reason) {
    return reason;
  }
  throw new Error('expected the call to reject, it resolved');
}
