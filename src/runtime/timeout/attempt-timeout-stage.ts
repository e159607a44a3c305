import type { AbortSignalLike } from '../clock';
import type { Call } from '../call';
import type { AttemptEnd, AttemptStage } from '../plan';
import type { DeadlineQueue } from './deadline-queue';
import { findArgumentSignal } from './argument-signal';
import { TimedAttempt } from './timed-attempt';

/**
 * timeout.attempt(method): each attempt runs as a TimedAttempt, which rejects with TimeoutError at
 * its deadline (if it has one), follows the call's signal, and gives the body its attemptSignal().
 */
export class AttemptTimeoutStage implements AttemptStage {
  constructor(
    /** ms; undefined for attempts that only need a signal (hedged ones) */
    private readonly timeout: number | undefined,
    private readonly queue: DeadlineQueue | undefined,
    /** whether the caller's signal argument is replaced by the attempt's (false with a custom `signal` picker) */
    private readonly replacesSignalArgument: boolean,
  ) {}

  run(
    call: Call,
    attempt: number,
    end: AttemptEnd | undefined,
    cancel?: AbortSignalLike,
  ): Promise<unknown> {
    const timed = new TimedAttempt(call, attempt, this.timeout, this.queue, end);
    timed.start(
      this.replacesSignalArgument && call.callerSignal !== undefined
        ? findArgumentSignal(call.args)
        : undefined,
      cancel,
    );
    return timed.promise;
  }
}
