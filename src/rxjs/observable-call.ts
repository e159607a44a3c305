import type { AbortSignalLike } from '../runtime/clock';
import { Cancellation } from '../runtime/cancellation';
import type { MethodPolicy } from '../runtime/policy';
import { isSubscribable, valuesOf, type Subscribable } from './subscribable';

/** The part of RxJS the adapter uses, loaded only when a decorated method returns an Observable. */
interface Rxjs {
  Observable: new (
    subscribe: (subscriber: {
      next(value: unknown): void;
      error(error: unknown): void;
      complete(): void;
      readonly closed: boolean;
    }) => () => void,
  ) => Subscribable;
  from(input: unknown): { pipe(...operators: unknown[]): unknown };
}

let rxjs: Rxjs | undefined;

function loadRxjs(label: string): Rxjs {
  if (rxjs !== undefined) return rxjs;
  try {
    // Loaded here and only here: rxjs is an optional peer, needed once a method returns an Observable.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    rxjs = require('rxjs') as Rxjs;
  } catch (error) {
    throw new Error(
      `steadfast: ${label} returns an Observable, and steadfast needs RxJS 7 to return one in its place (npm install rxjs)`,
      { cause: error },
    );
  }
  return rxjs;
}

/** Runs one call of the method through its pipeline, ended early when `unsubscribed` aborts. */
export type RunCall = (unsubscribed: Cancellation) => Promise<unknown>;

/**
 * The Observable a decorated Observable method returns: each subscription is one call through the
 * pipeline (the body runs once, each attempt subscribes to its source), its values are the values of
 * the attempt that succeeded (or the recorded ones, or the fallback's), and unsubscribing aborts the
 * call, its attempt signal too.
 */
export function observableCall(label: string, run: RunCall): unknown {
  const { Observable } = loadRxjs(label);
  return new Observable((subscriber) => {
    const unsubscribed = new Cancellation();
    let settled = false;
    run(unsubscribed).then(
      (values: unknown) => {
        settled = true;
        for (const value of values as unknown[]) {
          if (subscriber.closed) return;
          subscriber.next(value);
        }
        subscriber.complete();
      },
      (error: unknown) => {
        settled = true;
        subscriber.error(error);
      },
    );
    return () => {
      if (!settled)
        unsubscribed.abort(new DOMException('the subscriber unsubscribed', 'AbortError'));
    };
  });
}

/**
 * A call's result as an Observable method gives it: a fallback's or a body's Observable becomes its
 * values, anything else one value.
 */
export function asValues(
  result: unknown,
  signal: AbortSignalLike | undefined,
): Promise<unknown[]> | unknown[] {
  return isSubscribable(result) ? valuesOf(result, signal) : [result];
}

/**
 * The first call of a method whose kind was not known (standard decorators give no type metadata,
 * and a plain function may return anything): a Promise, as a Promise method's call is, that also
 * subscribes like an Observable (`subscribe()`, `pipe()`, RxJS's `from()`), emitting its values once
 * the call has run.
 */
export function withObservableInterop(
  call: Promise<unknown>,
  policy: MethodPolicy,
  label: string,
  unsubscribed: Cancellation,
): Promise<unknown> {
  let observable: Subscribable | undefined;
  let subscribers = 0;
  let settled = false;
  call.then(
    () => (settled = true),
    () => (settled = true),
  );
  const values = (): Subscribable & { pipe(...operators: unknown[]): unknown } =>
    (observable ??= new (loadRxjs(label).Observable)((subscriber) => {
      subscribers++;
      call.then(
        (result: unknown) => {
          const list = policy.returns === 'observable' && Array.isArray(result) ? result : [result];
          for (const value of list) {
            if (subscriber.closed) return;
            subscriber.next(value);
          }
          subscriber.complete();
        },
        (error: unknown) => subscriber.error(error),
      );
      return () => {
        if (--subscribers === 0 && !settled)
          unsubscribed.abort(new DOMException('the subscriber unsubscribed', 'AbortError'));
      };
    })) as Subscribable & { pipe(...operators: unknown[]): unknown };
  const observableKey = (Symbol as { observable?: symbol }).observable ?? '@@observable';
  Object.defineProperties(call, {
    subscribe: {
      value: (...args: unknown[]) =>
        (values().subscribe as (...args: unknown[]) => unknown)(...args),
      configurable: true,
    },
    pipe: { value: (...operators: unknown[]) => values().pipe(...operators), configurable: true },
    [observableKey]: { value: values, configurable: true },
  });
  return call;
}
