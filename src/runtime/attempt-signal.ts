import { AsyncLocalStorage } from 'node:async_hooks';
import type { MethodBody } from './policy';
import type { AbortSignalLike, PlatformAbortSignal } from './clock';
import type { Call } from './call';
import { attemptOutcome } from './attempt-outcome';

/** What `attemptSignal()` reads: the attempt whose body is running. */
export interface SignalSource {
  signal(): AbortSignal;
}

/**
 * Created by the first attempt that needs it (a method with @Timeout or @Hedge): until then no
 * AsyncLocalStorage exists, and Node keeps no promise hooks on steadfast's account.
 */
let storage: AsyncLocalStorage<SignalSource | undefined> | undefined;

/**
 * The current attempt's AbortSignal, inside the body of a method with `@Timeout` or `@Hedge`
 * (synchronously or after any `await`): it aborts when the attempt's deadline or the call's total
 * deadline passes, when the caller's signal aborts, or when another hedged attempt has won, with
 * the TimeoutError (or the caller's reason) as its `reason`. One signal for the whole of an attempt,
 * a fresh one for each attempt. Anywhere else, `undefined`.
 */
export function attemptSignal(): PlatformAbortSignal | undefined {
  return storage?.getStore()?.signal() as PlatformAbortSignal | undefined;
}

/** Runs an attempt (its body, or its subscription) with `source` as what attemptSignal() reads in it. */
export function runAttemptFor(
  source: SignalSource,
  call: Call,
  args: unknown[],
  signal: AbortSignalLike | undefined,
): unknown {
  storage ??= new AsyncLocalStorage();
  return storage.run(source, attemptOutcome, call, args, signal);
}

/** Runs an attempt that has no attempt signal of its own: attemptSignal() in it is undefined, even inside another's. */
export function runAttemptOutside(call: Call, signal: AbortSignalLike | undefined): unknown {
  if (storage === undefined || storage.getStore() === undefined)
    return attemptOutcome(call, call.args, signal);
  return storage.run(undefined, attemptOutcome, call, call.args, signal);
}

/** Runs a body that has no attempt signal of its own: attemptSignal() in it is undefined, even inside another's. */
export function runBodyOutside(body: MethodBody, thisArg: unknown, args: unknown[]): unknown {
  if (storage === undefined || storage.getStore() === undefined) return body.apply(thisArg, args);
  return storage.run(undefined, Reflect.apply, body, thisArg, args);
}
