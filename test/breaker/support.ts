import { CircuitOpenError, defaultEngine, type CircuitBreakerHandle } from '../../src';
import { decoratorMode } from '../support/harness';

export { deferred, type Deferred } from '../support/deferred';

/** A call's outcome, observed without leaving a rejection unhandled while the clock runs. */
export type Outcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

export function settle<T>(promise: Promise<T>): Promise<Outcome<T>> {
  return promise.then(
    (value): Outcome<T> => ({ ok: true, value }),
    (error: unknown): Outcome<T> => ({ ok: false, error }),
  );
}

/** The error a call rejected with; fails the test if it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  const outcome = await settle(promise);
  if (outcome.ok)
    throw new Error(`expected the call to reject, but it resolved with ${String(outcome.value)}`);
  return outcome.error;
}

/** The CircuitOpenError a call was refused with; fails the test for any other outcome. */
export async function refusalOf(promise: Promise<unknown>): Promise<CircuitOpenError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(CircuitOpenError);
  return error as CircuitOpenError;
}

/** Runs `define` (a function holding a class statement) and returns what it threw. */
export function thrownBy(define: () => unknown): unknown {
  try {
    define();
  } catch (error) {
    return error;
  }
  throw new Error('expected the class definition to throw, but it did not');
}

/** How the decorators name a method at class definition: `Class.method` in legacy mode, `method` in standard. */
export function definitionLabel(className: string, methodName: string): string {
  return decoratorMode === 'legacy' ? `${className}.${methodName}` : methodName;
}

let circuits = 0;
/** A breaker name no other test in this file uses (explicit names are shared process-wide). */
export function uniqueCircuit(what: string): string {
  return `${what}-${decoratorMode}-${++circuits}`;
}

/** The class-scoped breaker declared under `name`. */
export function breakerNamed(name: string): CircuitBreakerHandle {
  return defaultEngine.breaker(name);
}

/** Thrown by bodies in these tests, so assertions can tell it from the library's errors. */
export class DownstreamError extends Error {
  override readonly name = 'DownstreamError';
}
