import type { Call } from './call';
import type { AttemptEnd, AttemptStage } from './plan';
import { runAttemptOutside } from './attempt-signal';

/** The innermost stage of a method without attempt deadlines: the body, its outcome as a promise. */
export class MethodStage implements AttemptStage {
  run(call: Call, _attempt?: number, end?: AttemptEnd): Promise<unknown> {
    let pending: Promise<unknown>;
    try {
      pending = Promise.resolve(runAttemptOutside(call, call.signal));
    } catch (error) {
      pending = Promise.reject(error);
    }
    if (end === undefined) return pending;
    return pending.then(
      (value: unknown) => end.succeeded(value),
      (error: unknown) => end.failed(error),
    );
  }
}
