import type { AbortSignalLike } from '../clock';
import { isCircuitOpenError, isTimeoutError } from '../errors';
import type { FailureReason } from '../events';
import { finalFailure, giveUp, reportRetry } from '../outcome';
import { Call } from '../call';
import type { CallStage, ExecutionPlan } from '../plan';
import { ASK_ASYNC, REFUSED, type Breaker } from '../breaker/breaker';
import { runBodyOutside } from '../attempt-signal';
import { refusal } from '../breaker/breaker-stage';
import {
  AttemptRunner,
  HeldGuards,
  REFUSED_NOW,
  type AttemptContinuation,
  type Attempts,
} from '../attempt-runner';
import { nextDelay } from './backoff';
import { isRetryable } from './retry-decision';
import { retryAfterOf } from './retry-after';

/**
 * retry(…): attempts through the attempt stages until one succeeds, a failure is not retryable,
 * the attempts or `maxElapsed` run out, or the call's signal aborts. It also serves methods without
 * @Retryable (one attempt), so that every final failure is reported in one place.
 *
 * The first attempt runs without an async frame where the settings allow (no maxElapsed, result
 * check or signal picker): when its stages admit it at once, its promise is returned with one
 * `then`, and the loop starts only when it fails.
 */
export class RetryStage implements CallStage, AttemptContinuation {
  /** the attempts when they are the plain runner (no hedging): the loop then awaits each body itself */
  private readonly runner: AttemptRunner | undefined;

  constructor(
    private readonly attempts: Attempts,
    /** whether the first attempt may skip the loop (see above) */
    private readonly fastFirst: boolean,
  ) {
    this.runner = attempts instanceof AttemptRunner ? attempts : undefined;
  }

  run(call: Call): Promise<unknown> {
    call.plan.budget?.callStarted(call.plan.engine.clock.now());
    if (!this.fastFirst || isAborted(call.signal)) return this.loop(call, 0, undefined);
    call.attempt = 1;
    const first = this.attempts.start(call, 1, this);
    if (first === undefined) return this.loop(call, 0, undefined);
    if (first === REFUSED_NOW) {
      // A full bulkhead is retried only when retryOn asks for it; an open breaker never is.
      if (isRetryable(call.plan.retry, call.refusal, 1)) return this.loop(call, 1, call.refusal);
      return rejectOnceSubscribed(
        finalFailure(call, 0, reasonFor(call.refusal, call), call.refusal),
      );
    }
    return first;
  }

  /** The fast first attempt succeeded. */
  succeeded(
    call: Call | undefined,
    value: unknown,
    plan: ExecutionPlan = (call as Call).plan,
  ): unknown {
    const { events } = plan.engine;
    if (events.has('success')) {
      events.emit('success', {
        method: plan.label,
        attempts: 1,
        duration: call === undefined ? 0 : call.duration(),
      });
    }
    return value;
  }

  /** The fast first attempt failed: the loop decides what follows. */
  failed(call: Call, error: unknown): Promise<unknown> {
    call.attempt = 1;
    return this.loop(call, 1, error);
  }

  /**
   * The general attempt loop. `failedAttempts` is 1 when the fast path already ran the first attempt
   * and it failed with `firstError` (the breaker already told).
   */
  private async loop(call: Call, failedAttempts: 0 | 1, firstError: unknown): Promise<unknown> {
    const { plan } = call;
    const { engine, retry: settings } = plan;
    const startedAt = settings.maxElapsed === undefined ? 0 : engine.clock.now();
    let previousDelay = settings.initialDelay;
    let attempt = failedAttempts;
    let error: unknown = firstError;
    let result: unknown;
    let threw = failedAttempts === 1;
    // The fast path ran the first attempt: go straight to deciding what follows its failure.
    let resumed = failedAttempts === 1;
    const { runner } = this;
    const held = runner === undefined ? undefined : new HeldGuards();
    for (;;) {
      if (resumed) {
        resumed = false;
      } else {
        attempt++;
        const signal = call.signal;
        if (isAborted(signal))
          throw finalFailure(call, attempt - 1, 'aborted', (signal as AbortSignalLike).reason);
        call.attempt = call.running = attempt;
        threw = false;
        try {
          result =
            held === undefined
              ? await this.attempts.run(call, attempt)
              : await (runner as AttemptRunner).runHeld(call, attempt, held);
        } catch (caught) {
          error = caught;
          threw = true;
        }
        if (held !== undefined)
          (runner as AttemptRunner).settleHeld(call, held, threw, threw ? error : result);
        call.running = 0;
        if (!threw && !rejectsResult(call, attempt, result)) {
          if (engine.events.has('success'))
            engine.events.emit('success', {
              method: plan.label,
              attempts: attempt,
              duration: call.duration(),
            });
          return result;
        }
      }

      // The call's signal ended the attempt (the caller's abort, or the total deadline): the loop ends, whatever retryOn says.
      if (threw && isAborted(call.signal) && error === (call.signal as AbortSignalLike).reason) {
        throw finalFailure(
          call,
          error === call.refusal ? attempt - 1 : attempt,
          error === call.expired ? 'timeout' : 'aborted',
          error,
        );
      }
      if (threw && !isRetryable(settings, error, attempt)) {
        throw finalFailure(
          call,
          error === call.refusal ? attempt - 1 : attempt,
          reasonFor(error, call),
          error,
        );
      }
      if (attempt >= settings.maxAttempts)
        return giveUp(call, attempt, 'exhausted', threw, error, result);
      // The breaker opened on this failure: the next attempt would be refused, so do not wait for it.
      const { breaker } = this.attempts;
      if (breaker !== undefined && breaker.refusesNext(call))
        throw finalFailure(call, attempt, 'circuit-open', refusal(call, breaker.breakerFor(call)));

      const computed = nextDelay(settings, attempt, previousDelay, engine.random);
      previousDelay = computed;
      const hint = threw ? retryAfterOf(error, engine.clock.now()) : 0;
      const delay = Math.max(
        computed,
        settings.maxRetryAfter === undefined ? hint : Math.min(hint, settings.maxRetryAfter),
      );
      if (
        settings.maxElapsed !== undefined &&
        engine.clock.now() + delay > startedAt + settings.maxElapsed
      ) {
        return giveUp(call, attempt, 'budget', threw, error, result);
      }
      const signal = call.signal;
      if (isAborted(signal))
        throw finalFailure(call, attempt, 'aborted', (signal as AbortSignalLike).reason);

      // The budget never refuses a first attempt, only a retry: refused, the call ends now.
      if (plan.budget !== undefined && !plan.budget.tryRetry(engine.clock.now())) {
        return giveUp(call, attempt, 'retry-budget', threw, error, result);
      }
      reportRetry(plan, attempt, delay, error, threw);
      if (delay > 0) {
        try {
          await engine.clock.sleep(delay, signal);
        } catch (abortReason) {
          throw finalFailure(call, attempt, 'aborted', abortReason);
        }
      }
    }
  }
}

/**
 * The first attempt of the simplest plans (the body, or the body behind a shared breaker that does
 * not time calls, with the fast first attempt allowed): it runs before any Call is made, and one is
 * made only when the attempt fails or the breaker must be asked asynchronously. A successful call
 * costs one `then` and its two handlers.
 */
export function firstAttemptOf(
  retry: RetryStage,
  breaker: Breaker | undefined,
): (plan: ExecutionPlan, thisArg: unknown, args: unknown[]) => Promise<unknown> {
  if (breaker === undefined) {
    return (plan, thisArg, args) => {
      let pending: Promise<unknown>;
      try {
        pending = Promise.resolve(runBodyOutside(plan.method, thisArg, args));
      } catch (error) {
        return retry.failed(new Call(plan, thisArg, args, undefined), error);
      }
      const onSuccess = plan.engine.events.has('success')
        ? (value: unknown) => retry.succeeded(undefined, value, plan)
        : undefined;
      return pending.then(onSuccess, (error: unknown) =>
        retry.failed(new Call(plan, thisArg, args, undefined), error),
      );
    };
  }
  // A closed breaker's permit is its epoch: one success handler an epoch, not one a call.
  let successPermit = Number.NaN;
  let successPlan: ExecutionPlan | undefined;
  let onSuccess: (value: unknown) => unknown = (value) => value;
  return (plan, thisArg, args) => {
    const permit = breaker.tryAcquire();
    if (permit === ASK_ASYNC) return retry.run(new Call(plan, thisArg, args, undefined));
    if (permit === REFUSED) {
      const call = new Call(plan, thisArg, args, undefined);
      return rejectOnceSubscribed(finalFailure(call, 0, 'circuit-open', refusal(call, breaker)));
    }
    let pending: Promise<unknown>;
    try {
      pending = Promise.resolve(runBodyOutside(plan.method, thisArg, args));
    } catch (error) {
      breaker.failed(permit, error, 0);
      return retry.failed(new Call(plan, thisArg, args, undefined), error);
    }
    if (permit !== successPermit || plan !== successPlan) {
      successPermit = permit;
      successPlan = plan;
      onSuccess = (value: unknown) => {
        breaker.succeeded(permit, value, 0);
        return retry.succeeded(undefined, value, plan);
      };
    }
    return pending.then(onSuccess, (error: unknown) => {
      breaker.failed(permit, error, 0);
      return retry.failed(new Call(plan, thisArg, args, undefined), error);
    });
  };
}

/** Why a failure that is not retried ends the call. */
function reasonFor(error: unknown, call: Call): FailureReason {
  if (error === call.refusal) return isCircuitOpenError(error) ? 'circuit-open' : 'bulkhead-full';
  if (isTimeoutError(error) && error === call.expired) return 'timeout';
  return 'not-retryable';
}

function isAborted(signal: AbortSignalLike | undefined): boolean {
  return signal !== undefined && signal.aborted;
}

/** Whether `retryOnResult` rejects a resolved value; a predicate that throws ends the call with its error. */
function rejectsResult(call: Call, attempt: number, result: unknown): boolean {
  const { retryOnResult } = call.plan.retry;
  if (retryOnResult === undefined) return false;
  try {
    return retryOnResult(result) === true;
  } catch (error) {
    throw finalFailure(call, attempt, 'not-retryable', error);
  }
}

/**
 * Rejects one microtask later, once the caller has subscribed: a promise rejected before anyone
 * listens costs Node's unhandled-rejection bookkeeping, the largest part of a cheap refusal.
 */
async function rejectOnceSubscribed(error: unknown): Promise<never> {
  await undefined;
  throw error;
}
