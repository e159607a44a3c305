import type { Call } from './call';
import type { CircuitOpenError } from './errors';
import type { RetryBudget } from './budget/retry-budget';
import type { FailureReason } from './events';
import { describeError } from './log';
import type { ExecutionPlan } from './plan';

/**
 * Reports the call's final failure, once: logged at error and emitted as `failure`. Silent when a
 * @Fallback will answer it (the fallback reports instead) or when the total deadline already ended
 * the call. Returns the error for the caller to throw, unchanged.
 */
export function finalFailure(
  call: Call,
  attempts: number,
  reason: FailureReason,
  error: unknown,
): unknown {
  if (call.reported) return error;
  call.reported = true;
  call.attempt = attempts;
  call.reason = reason;
  if (call.plan.fallback?.handles(error) === true) return error;
  // A subscriber that unsubscribes ends its call on purpose: an event, not an error line.
  if (reason === 'aborted' && call.unsubscribed?.aborted === true) {
    const { events } = call.plan.engine;
    if (events.has('failure'))
      events.emit('failure', {
        method: call.plan.label,
        attempts,
        reason,
        error,
        duration: call.duration(),
      });
    return error;
  }
  // A refusal by the call's own breaker: the first of an opening is logged, the rest counted.
  if (reason === 'circuit-open' && call.refusedBy !== undefined && error === call.refusal) {
    const { engine, label } = call.plan;
    if (engine.events.has('failure'))
      engine.events.emit('failure', {
        method: label,
        attempts,
        reason,
        error,
        duration: call.duration(),
      });
    if (engine.log.enabled)
      engine
        .refusalLogOf(call.refusedBy)
        .refused(label, error as CircuitOpenError, engine.log, engine.clock.now());
    return error;
  }
  if (reason === 'retry-budget') return (budgetRefused(call, attempts, error), error);
  logFinal(call.plan, attempts, reason, error, undefined, call.duration());
  return error;
}

/**
 * A retry the budget refused ends the call: its failure event as any, its log line throttled per
 * budget (a budget refuses many calls at once, in a storm: the first in full, then a count).
 */
function budgetRefused(call: Call, attempts: number, error: unknown): void {
  const { plan } = call;
  const { engine, label } = plan;
  const budget = plan.budget as RetryBudget;
  if (engine.events.has('failure')) {
    engine.events.emit('failure', {
      method: label,
      attempts,
      reason: 'retry-budget',
      error,
      duration: call.duration(),
    });
  }
  if (!engine.log.enabled) return;
  engine
    .budgetLogOf(budget)
    .note(0, engine.clock.now(), engine.log, () => [
      finalMessage(label, attempts, plan.retry.maxAttempts, 'retry-budget', describeError(error)) +
        ` (budget '${budget.name}': ratio ${budget.settings.ratio}, ${budget.settings.minPerSecond}/s; further refusals are counted, one line per 10 s)`,
      { method: label, attempt: attempts, reason: 'retry-budget', budget: budget.name, error },
    ]);
}

/**
 * A stage's own failure (a conflict, a store that fails, a key function that throws): reported as
 * the call's final failure, with no attempt made, under the same rules as finalFailure().
 */
export function stageFailure(call: Call, error: unknown): unknown {
  if (call.reported) return error;
  call.reported = true;
  call.reason = 'not-retryable';
  if (call.plan.fallback?.handles(error) === true) return error;
  const { engine, label } = call.plan;
  if (engine.events.has('failure'))
    engine.events.emit('failure', {
      method: label,
      attempts: 0,
      reason: 'not-retryable',
      error,
      duration: call.duration(),
    });
  if (engine.log.enabled)
    engine.log.error(`${label} failed: ${describeError(error)}`, { method: label, error });
  return error;
}

/** The retry loop ends without success: the last error rejects, or the last (rejected) result resolves. */
export function giveUp(
  call: Call,
  attempts: number,
  reason: FailureReason,
  threw: boolean,
  error: unknown,
  result: unknown,
): unknown {
  if (threw) throw finalFailure(call, attempts, reason, error);
  if (call.reported) return result;
  call.reported = true;
  if (reason === 'retry-budget') return (budgetRefused(call, attempts, undefined), result);
  logFinal(
    call.plan,
    attempts,
    reason,
    undefined,
    'its last result is still rejected by retryOnResult; returning it',
    call.duration(),
  );
  return result;
}

/** A failed attempt that will be retried after `delay` ms: logged at warn, emitted as `retry`. */
export function reportRetry(
  plan: ExecutionPlan,
  attempt: number,
  delay: number,
  error: unknown,
  threw: boolean,
): void {
  const { engine, label } = plan;
  const { maxAttempts } = plan.retry;
  if (engine.events.has('retry'))
    engine.events.emit('retry', { method: label, attempt, maxAttempts, delay, error });
  if (!engine.log.enabled) return;
  const what = threw
    ? `failed (${describeError(error)})`
    : 'returned a result that retryOnResult rejects';
  engine.log.warn(
    `${label} attempt ${attempt}/${maxAttempts} ${what}; retrying in ${Math.round(delay)} ms`,
    {
      method: label,
      attempt,
      maxAttempts,
      delay,
      error,
    },
  );
}

/** `detail` defaults to the error's description, built only if something is logged. */
export function logFinal(
  plan: ExecutionPlan,
  attempts: number,
  reason: FailureReason,
  error: unknown,
  detail: string | undefined,
  duration: number,
): void {
  const { engine, label } = plan;
  const { maxAttempts } = plan.retry;
  if (engine.events.has('failure'))
    engine.events.emit('failure', { method: label, attempts, reason, error, duration });
  if (!engine.log.enabled) return;
  engine.log.error(
    finalMessage(label, attempts, maxAttempts, reason, detail ?? describeError(error)),
    {
      method: label,
      attempt: attempts,
      maxAttempts,
      reason,
      error,
    },
  );
}

function finalMessage(
  label: string,
  attempts: number,
  maxAttempts: number,
  reason: FailureReason,
  detail: string,
): string {
  const tally = `${attempts}/${maxAttempts} attempt${maxAttempts === 1 ? '' : 's'}`;
  switch (reason) {
    case 'exhausted':
      return maxAttempts === 1
        ? `${label} failed: ${detail}`
        : `${label} failed after ${tally}: ${detail}`;
    case 'not-retryable':
      return `${label} failed on attempt ${attempts}/${maxAttempts}, not retried: ${detail}`;
    case 'aborted':
      return `${label} aborted after ${tally}: ${detail}`;
    case 'budget':
      return `${label} gave up after ${tally}: the next delay would exceed maxElapsed: ${detail}`;
    case 'circuit-open':
      return `${label} refused: ${detail}`;
    case 'timeout':
      return `${label} timed out after ${tally}: ${detail}`;
    case 'bulkhead-full':
      return `${label} rejected: ${detail}`;
    case 'retry-budget':
      return `${label} failed after ${tally}, not retried: the retry budget is spent: ${detail}`;
    case 'fallback-failed':
      return `${label} failed, and its fallback failed too: ${detail}`;
  }
}
