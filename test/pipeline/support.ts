import { ConfigError, SteadfastError, type SteadfastMethodDecorator } from '../../src';
import { useHarness, type Harness } from '../support/harness';
import { definitionLabel, thrownBy } from '../decorators/helpers';

export { deferred, type Deferred } from '../support/deferred';
export { decoratorMode } from '../support/harness';
export { definitionLabel, settle, thrownBy } from '../decorators/helpers';

/** useHarness() (FakeClock, RecordingLogger, scripted random), which records every event, timeout, fallback and bulkheadRejected included. */
export const useStageHarness = (): Harness => useHarness();

/** A body that never settles: a hung call. */
export function hang<T = never>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

/** Thrown by bodies in these tests, so assertions can tell it from the library's errors. */
export class DownstreamError extends Error {
  override readonly name = 'DownstreamError';
}

/** A call's state, readable at any moment while the fake clock runs (no rejection left unhandled). */
export interface Tracked<T> {
  readonly state: 'pending' | 'resolved' | 'rejected';
  readonly value: T | undefined;
  readonly error: unknown;
}

export function track<T>(promise: Promise<T>): Tracked<T> {
  const tracked: { state: Tracked<T>['state']; value: T | undefined; error: unknown } = {
    state: 'pending',
    value: undefined,
    error: undefined,
  };
  promise.then(
    (value) => {
      tracked.state = 'resolved';
      tracked.value = value;
    },
    (error: unknown) => {
      tracked.state = 'rejected';
      tracked.error = error;
    },
  );
  return tracked;
}

let names = 0;
/** A breaker or bulkhead name no other test uses (explicit names are shared process-wide). */
export function uniqueName(what: string): string {
  return `${what}-${++names}`;
}

/** The class statement threw a ConfigError naming `option` and the method (`Class.method`, or `method` in standard mode). */
export function expectConfigError(
  define: () => unknown,
  option: string | undefined,
  className: string,
  methodName: string,
): ConfigError {
  const error = thrownBy(define);
  expect(error).toBeInstanceOf(ConfigError);
  expect(error).toBeInstanceOf(SteadfastError);
  const configError = error as ConfigError;
  expect(configError.code).toBe('STEADFAST_CONFIG');
  if (option !== undefined) {
    expect(configError.option).toBe(option);
    expect(configError.message).toContain(option);
  }
  const label = definitionLabel(className, methodName);
  expect(configError.method).toBe(label);
  expect(configError.message).toContain(label);
  return configError;
}

/** Calls a decorator factory with arguments its types rule out, to reach its runtime checks. */
export function rawDecorator(
  factory: unknown,
  params: readonly unknown[],
): SteadfastMethodDecorator {
  return (factory as (...args: unknown[]) => SteadfastMethodDecorator)(...params);
}
