import type { AbortSignalLike } from '../clock';
import type { Call } from '../call';
import { isCircuitOpenError, isTimeoutError } from '../errors';
import type { FailureReason } from '../events';
import { finalFailure, giveUp, reportRetry } from '../outcome';
import type { AttemptStage, CallStage } from '../plan';
import { ASK_ASYNC, REFUSED, type Breaker } from '../breaker/breaker';
import { refusal, type BreakerStage } from '../breaker/breaker-stage';
import { runBodyOutside } from '../attempt-signal';
import { nextDelay } from './backoff';
import { isRetryable } from './retry-decision';
import { retryAfterOf } from './retry-after';

/**
 * retry(…): attempts through the attempt stages until one succeeds, a failure is not retryable,
 * the attempts or `maxElapsed` run out, or the call's signal aborts. It also serves methods without
 * @Retryable (one attempt), so that every final failure is reported in one place.
 *
 * Where the attempt stages are only a shared breaker (or nothing) around the body, the first attempt
 * runs without an async frame: its promise is returned with one `then`, and the loop starts only
 * when it fails.
 */
export class RetryStage implements CallStage {
  constructor(
    private readonly attempts: AttemptStage,
    /** the breaker stage among the attempt stages, to end the loop at once when it opens */
    private readonly breakerStage: BreakerStage | undefined,
    /** set when the fast first attempt applies: the shared breaker it takes a permit from, or null for none */
    private readonly fastBreaker: Breaker | null | undefined,
  ) {}

  run(call: Call): Promise<unknown> {
    const breaker = this.fastBreaker;
    if (breaker === undefined || call.signal !== undefined) return this.loop(call, 0, undefined);
    let permit = REFUSED;
    if (breaker !== null) {
      permit = breaker.tryAcquire();
      if (permit === ASK_ASYNC) return this.loop(call, 0, undefined);
      if (permit === REFUSED) return rejectOnceSubscribed(finalFailure(call, 0, 'circuit-open', refusal(call, breaker)));
    }
    call.attempt = 1;
    let pending: Promise<unknown>;
    try {
      pending = Promise.resolve(runBodyOutside(call.plan.method, call.thisArg, call.args));
    } catch (error) {
      if (breaker !== null) breaker.failed(permit, error, 0);
      return this.loop(call, 1, error);
    }
    const { events } = call.plan.engine;
    if (breaker === null) {
      return pending.then(events.has('success') ? (result: unknown) => succeeded(call, result, 1) : undefined, (error: unknown) => this.loop(call, 1, error));
    }
    return pending.then(
      (result: unknown) => {
        breaker.succeeded(permit, result, 0);
        return events.has('success') ? succeeded(call, result, 1) : result;
      },
      (error: unknown) => {
        breaker.failed(permit, error, 0);
        return this.loop(call, 1, error);
      },
    );
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
    for (;;) {
      if (resumed) {
        resumed = false;
      } else {
        attempt++;
        const signal = call.signal;
        if (isAborted(signal)) throw finalFailure(call, attempt - 1, 'aborted', (signal as AbortSignalLike).reason);
        call.attempt = call.running = attempt;
        threw = false;
        try {
          result = await this.attempts.run(call, attempt);
        } catch (caught) {
          error = caught;
          threw = true;
        }
        call.running = 0;
        // The call's signal ended the attempt (the caller's abort, or the total deadline): the loop ends, whatever retryOn says.
        if (threw && isAborted(call.signal) && error === (call.signal as AbortSignalLike).reason) {
          throw finalFailure(call, error === call.refusal ? attempt - 1 : attempt, error === call.expired ? 'timeout' : 'aborted', error);
        }
        if (!threw && !rejectsResult(call, attempt, result)) {
          if (engine.events.has('success')) engine.events.emit('success', { method: plan.label, attempts: attempt });
          return result;
        }
      }

      if (threw && !isRetryable(settings, error, attempt)) {
        throw finalFailure(call, error === call.refusal ? attempt - 1 : attempt, reasonFor(error, call), error);
      }
      if (attempt >= settings.maxAttempts) return giveUp(call, attempt, 'exhausted', threw, error, result);
      // The breaker opened on this failure: the next attempt would be refused, so do not wait for it.
      if (this.breakerStage?.refusesNext(call) === true) {
        throw finalFailure(call, attempt, 'circuit-open', refusal(call, this.breakerStage.breakerFor(call)));
      }

      const computed = nextDelay(settings, attempt, previousDelay, engine.random);
      previousDelay = computed;
      const hint = threw ? retryAfterOf(error, engine.clock.now()) : 0;
      const delay = Math.max(computed, settings.maxRetryAfter === undefined ? hint : Math.min(hint, settings.maxRetryAfter));
      if (settings.maxElapsed !== undefined && engine.clock.now() + delay > startedAt + settings.maxElapsed) {
        return giveUp(call, attempt, 'budget', threw, error, result);
      }
      const signal = call.signal;
      if (isAborted(signal)) throw finalFailure(call, attempt, 'aborted', (signal as AbortSignalLike).reason);

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

/** Why a failure that is not retried ends the call. */
function reasonFor(error: unknown, call: Call): FailureReason {
  if (error === call.refusal) return isCircuitOpenError(error) ? 'circuit-open' : 'bulkhead-full';
  if (isTimeoutError(error) && error === call.expired) return 'timeout';
  return 'not-retryable';
}

function isAborted(signal: AbortSignalLike | undefined): boolean {
  return signal !== undefined && signal.aborted;
}

/** The first attempt succeeded on the fast path: report it to `success` listeners. */
function succeeded(call: Call, result: unknown, attempts: number): unknown {
  call.plan.engine.events.emit('success', { method: call.plan.label, attempts });
  return result;
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
