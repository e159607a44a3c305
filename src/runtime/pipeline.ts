import type { ResilienceEngine } from './engine';
import { NotIdempotentError } from './errors';
import { describeError } from './log';
import type { FailureReason } from './events';
import { methodLabel, type MethodBody, type MethodPolicy } from './policy';
import { resolveRetrySettings, type RetrySettings } from './retry/retry-options';
import { nextDelay } from './retry/backoff';
import { isRetryable, retryAfterOf } from './retry/retry-decision';
import { signalOf } from './retry/abort-signal';
import { OptionChecker } from './validation';

/** One method's policy compiled against one engine configuration: what a call runs. */
export interface ExecutionPlan {
  readonly engine: ResilienceEngine;
  readonly version: number;
  /** `Class.method` */
  readonly label: string;
  readonly method: MethodBody;
  readonly retry: RetrySettings | undefined;
  readonly run: (plan: ExecutionPlan, thisArg: unknown, args: unknown[]) => Promise<unknown>;
}

/**
 * Composes idempotency(retry(breaker(method))) for one method. Whatever the decorator order, the
 * policy is the same and so is the plan; each stage is present only if declared, so a plain
 * @Idempotent() method costs one call and nothing else.
 */
export function compilePlan(engine: ResilienceEngine, policy: MethodPolicy, thisArg: unknown): ExecutionPlan {
  const label = methodLabel(policy, thisArg);
  const base = { engine, version: engine.version, label, method: policy.original };
  if (policy.retry !== undefined && policy.idempotent === undefined) {
    return { ...base, retry: undefined, run: refuseNotIdempotent };
  }
  const retry =
    policy.retry === undefined
      ? undefined
      : resolveRetrySettings(policy.retry, engine.defaults.retry, new OptionChecker('@Retryable', label));
  return { ...base, retry, run: retry === undefined ? runDirect : runAttempts };
}

function refuseNotIdempotent(plan: ExecutionPlan): Promise<never> {
  const error = new NotIdempotentError(plan.label);
  plan.engine.log.error(`${plan.label} refused: ${error.message}`, { method: plan.label, error });
  return Promise.reject(error);
}

function runDirect(plan: ExecutionPlan, thisArg: unknown, args: unknown[]): Promise<unknown> {
  try {
    return Promise.resolve(plan.method.apply(thisArg, args));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The attempt loop. One async frame per call; no closure, timer or extra promise on the happy path. */
async function runAttempts(plan: ExecutionPlan, thisArg: unknown, args: unknown[]): Promise<unknown> {
  const settings = plan.retry as RetrySettings;
  const { engine } = plan;
  const signal = signalOf(settings, args);
  const startedAt = settings.maxElapsed === undefined ? 0 : engine.clock.now();
  let previousDelay = settings.initialDelay;
  for (let attempt = 1; ; attempt++) {
    if (isAborted(signal)) throw finalFailure(plan, attempt - 1, 'aborted', (signal as AbortSignal).reason);
    let error: unknown;
    let result: unknown;
    let rejectedResult = false;
    try {
      result = await plan.method.apply(thisArg, args);
      if (settings.retryOnResult === undefined || !settings.retryOnResult(result)) {
        if (engine.events.has('success')) engine.events.emit('success', { method: plan.label, attempts: attempt });
        return result;
      }
      rejectedResult = true;
    } catch (caught) {
      error = caught;
    }

    if (!rejectedResult && !isRetryable(settings, error, attempt)) throw finalFailure(plan, attempt, 'not-retryable', error);
    if (attempt >= settings.maxAttempts) return giveUp(plan, attempt, 'exhausted', rejectedResult, error, result);

    const computed = nextDelay(settings, attempt, previousDelay, engine.random);
    previousDelay = computed;
    const delay = Math.max(computed, retryAfterOf(error));
    if (settings.maxElapsed !== undefined && engine.clock.now() + delay > startedAt + settings.maxElapsed) {
      return giveUp(plan, attempt, 'budget', rejectedResult, error, result);
    }
    if (isAborted(signal)) throw finalFailure(plan, attempt, 'aborted', (signal as AbortSignal).reason);

    reportRetry(plan, attempt, delay, error, rejectedResult);
    if (delay > 0) {
      try {
        await engine.clock.sleep(delay, signal);
      } catch (abortReason) {
        throw finalFailure(plan, attempt, 'aborted', abortReason);
      }
    }
  }
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal !== undefined && signal.aborted;
}

function reportRetry(plan: ExecutionPlan, attempt: number, delay: number, error: unknown, rejectedResult: boolean): void {
  const { engine, label } = plan;
  const maxAttempts = (plan.retry as RetrySettings).maxAttempts;
  const what = rejectedResult ? 'returned a result that retryOnResult rejects' : `failed (${describeError(error)})`;
  engine.log.warn(`${label} attempt ${attempt}/${maxAttempts} ${what}; retrying in ${Math.round(delay)} ms`, {
    method: label,
    attempt,
    maxAttempts,
    delay,
    error,
  });
  if (engine.events.has('retry')) engine.events.emit('retry', { method: label, attempt, maxAttempts, delay, error });
}

/** The loop ends without success: the last error rejects, or the last (rejected) result resolves. */
function giveUp(
  plan: ExecutionPlan,
  attempts: number,
  reason: FailureReason,
  rejectedResult: boolean,
  error: unknown,
  result: unknown,
): unknown {
  if (!rejectedResult) throw finalFailure(plan, attempts, reason, error);
  logFinal(plan, attempts, reason, undefined, 'its last result is still rejected by retryOnResult; returning it');
  return result;
}

/** Logs and reports the final failure; returns the error for the caller to throw, unchanged. */
function finalFailure(plan: ExecutionPlan, attempts: number, reason: FailureReason, error: unknown): unknown {
  logFinal(plan, attempts, reason, error, describeError(error));
  return error;
}

const REASON_TEXT: Record<FailureReason, string> = {
  exhausted: 'all attempts failed',
  'not-retryable': 'error is not retried',
  aborted: 'aborted',
  budget: 'maxElapsed budget would be exceeded',
  'circuit-open': 'circuit open',
};

function logFinal(plan: ExecutionPlan, attempts: number, reason: FailureReason, error: unknown, detail: string): void {
  const { engine, label } = plan;
  const maxAttempts = plan.retry?.maxAttempts ?? 1;
  engine.log.error(`${label} failed after ${attempts}/${maxAttempts} attempt(s), ${REASON_TEXT[reason]}: ${detail}`, {
    method: label,
    attempt: attempts,
    maxAttempts,
    reason,
    error,
  });
  if (engine.events.has('failure')) engine.events.emit('failure', { method: label, attempts, reason, error });
}
