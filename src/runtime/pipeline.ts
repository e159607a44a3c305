import type { AbortSignalLike } from './clock';
import type { ResilienceEngine } from './engine';
import { NotIdempotentError } from './errors';
import { describeError } from './log';
import type { FailureReason } from './events';
import { isRefused, methodLabel, type MethodBody, type MethodPolicy } from './policy';
import { resolveRetrySettings, type RetrySettings } from './retry/retry-options';
import { nextDelay } from './retry/backoff';
import { isRetryable, retryAfterOf } from './retry/retry-decision';
import { signalOf } from './retry/abort-signal';
import { declareBreaker, type BreakerDeclaration } from './breaker/breaker-declarations';
import { ASK_ASYNC, REFUSED, type Breaker } from './breaker/breaker';
import { OptionChecker } from './validation';
import type { KeyedSettings } from './idempotency/idempotency-options';
import { runKeyed } from './idempotency/keyed-call';
import { recordNamespace } from './idempotency/record-names';
import type { IdempotencyStore } from './store';

/** One method's policy compiled against one engine configuration: what a call runs. */
export interface ExecutionPlan {
  readonly engine: ResilienceEngine;
  readonly version: number;
  /** `Class.method` */
  readonly label: string;
  readonly method: MethodBody;
  /** the attempt settings; a single attempt when the method is not @Retryable */
  readonly retry: RetrySettings;
  /** the breaker every call shares (scope 'class') */
  readonly sharedBreaker: Breaker | undefined;
  /** the declaration whose breaker depends on `this` (scope 'instance') */
  readonly instanceBreaker: BreakerDeclaration | undefined;
  /** whether the first attempt may run without the async loop (see runAttempts) */
  readonly fastFirstAttempt: boolean;
  /** deduplication by key, the outermost stage */
  readonly keyed: KeyedSettings | undefined;
  /** where the keyed stage keeps records, and the namespace its keys are hashed under */
  readonly keyedStore: IdempotencyStore | undefined;
  readonly recordNamespace: string;
  /** what runs inside the idempotency stage: retry(breaker(method)) */
  readonly inner: (plan: ExecutionPlan, thisArg: unknown, args: unknown[]) => Promise<unknown>;
  readonly run: (plan: ExecutionPlan, thisArg: unknown, args: unknown[]) => Promise<unknown>;
}

const SINGLE_ATTEMPT: RetrySettings = {
  maxAttempts: 1,
  initialDelay: 0,
  maxDelay: 0,
  multiplier: 1,
  jitter: 'none',
  retryOn: undefined,
  retryOnResult: undefined,
  maxElapsed: undefined,
  signal: undefined,
};

/**
 * Composes idempotency(retry(breaker(method))) for one method. Whatever the decorator order, the
 * policy is the same and so is the plan; each stage is present only if declared, so a plain
 * @Idempotent() method costs one call and nothing else.
 */
export function compilePlan(engine: ResilienceEngine, policy: MethodPolicy, thisArg: unknown): ExecutionPlan {
  const label = methodLabel(policy, thisArg);
  const checker = (source: string): OptionChecker => new OptionChecker(source, label);
  const retry = policy.retry === undefined ? SINGLE_ATTEMPT : resolveRetrySettings(policy.retry, engine.defaults.retry, checker('@Retryable'));
  let declaration: BreakerDeclaration | undefined;
  if (policy.breaker !== undefined) {
    declaration = policy.breaker.declaration ??= declareBreaker(label, policy.breaker.options, false, checker('@CircuitBreaker'));
  }
  const perInstance = declaration?.options.scope === 'instance';
  const refused = isRefused(policy);
  const inner = policy.retry === undefined && declaration === undefined ? runDirect : runAttempts;
  const sharedBreaker = declaration !== undefined && !perInstance ? engine.breakerFor(declaration, undefined) : undefined;
  const keyedStore = policy.keyed === undefined ? undefined : policy.keyed.store ?? engine.store;
  return {
    engine,
    version: engine.version,
    label,
    method: policy.original,
    retry,
    sharedBreaker,
    fastFirstAttempt:
      !perInstance && retry.maxElapsed === undefined && retry.retryOnResult === undefined && retry.signal === undefined && sharedBreaker?.timesCalls !== true,
    instanceBreaker: perInstance ? declaration : undefined,
    keyed: policy.keyed,
    keyedStore,
    recordNamespace:
      policy.keyed === undefined || keyedStore === undefined ? '' : recordNamespace(policy.keyed.name, label, policy.original, keyedStore, checker('@Idempotent')),
    inner,
    run: refused ? refuseNotIdempotent : policy.keyed !== undefined ? runKeyed : inner,
  };
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

/**
 * The attempts of one call, each through the breaker. The first attempt runs without an async
 * frame where the plan allows (no budget, result check, signal, timing or per-instance breaker):
 * its promise is returned with one `then`, and the async loop starts only when it fails.
 */
function runAttempts(plan: ExecutionPlan, thisArg: unknown, args: unknown[]): Promise<unknown> {
  const settings = plan.retry;
  if (!plan.fastFirstAttempt || (settings !== SINGLE_ATTEMPT && signalOf(settings, args) !== undefined)) {
    return attemptLoop(plan, thisArg, args, 0, undefined);
  }
  const breaker = plan.sharedBreaker;
  let permit = REFUSED;
  if (breaker !== undefined) {
    permit = breaker.tryAcquire();
    if (permit === ASK_ASYNC) return attemptLoop(plan, thisArg, args, 0, undefined);
    if (permit === REFUSED) return rejectOnceSubscribed(refuse(plan, breaker, 1));
  }
  let pending: Promise<unknown>;
  try {
    pending = Promise.resolve(plan.method.apply(thisArg, args));
  } catch (error) {
    return afterFirstFailure(plan, thisArg, args, breaker, permit, error);
  }
  const { events } = plan.engine;
  if (breaker === undefined) {
    return pending.then(
      events.has('success') ? (result: unknown) => succeeded(plan, result) : undefined,
      (error: unknown) => afterFirstFailure(plan, thisArg, args, undefined, permit, error),
    );
  }
  return pending.then(
    (result: unknown) => {
      breaker.succeeded(permit, result, 0);
      return events.has('success') ? succeeded(plan, result) : result;
    },
    (error: unknown) => afterFirstFailure(plan, thisArg, args, breaker, permit, error),
  );
}

/** The first attempt succeeded on the fast path: report it to `success` listeners. */
function succeeded(plan: ExecutionPlan, result: unknown): unknown {
  plan.engine.events.emit('success', { method: plan.label, attempts: 1 });
  return result;
}

function afterFirstFailure(plan: ExecutionPlan, thisArg: unknown, args: unknown[], breaker: Breaker | undefined, permit: number, error: unknown): Promise<unknown> {
  breaker?.failed(permit, error, 0);
  return attemptLoop(plan, thisArg, args, 1, error);
}

/**
 * Rejects one microtask later, once the caller has subscribed: a promise rejected before anyone
 * listens costs Node's unhandled-rejection bookkeeping, the largest part of a cheap refusal.
 */
async function rejectOnceSubscribed(error: unknown): Promise<never> {
  await undefined;
  throw error;
}

/**
 * The general attempt loop. `failedAttempts` is 1 when the fast path already ran the first attempt
 * and it failed with `firstError` (the breaker already told).
 */
async function attemptLoop(plan: ExecutionPlan, thisArg: unknown, args: unknown[], failedAttempts: 0 | 1, firstError: unknown): Promise<unknown> {
  const { engine, retry: settings } = plan;
  const breaker = plan.sharedBreaker ?? (plan.instanceBreaker === undefined ? undefined : engine.breakerFor(plan.instanceBreaker, thisArg));
  // A method without @Retryable leaves its signal to its body; a retried one honours it.
  const signal = settings === SINGLE_ATTEMPT ? undefined : signalOf(settings, args);
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
      if (isAborted(signal)) throw finalFailure(plan, attempt - 1, 'aborted', (signal as AbortSignalLike).reason);
      let permit = REFUSED;
      let began = 0;
      if (breaker !== undefined) {
        permit = breaker.tryAcquire();
        if (permit === ASK_ASYNC) permit = await breaker.acquireAsync();
        if (permit === REFUSED) throw refuse(plan, breaker, attempt);
        if (breaker.timesCalls) began = engine.clock.now();
      }
      threw = false;
      try {
        result = await plan.method.apply(thisArg, args);
      } catch (caught) {
        error = caught;
        threw = true;
      }
      if (breaker !== undefined) {
        const duration = breaker.timesCalls ? engine.clock.now() - began : 0;
        if (threw) breaker.failed(permit, error, duration);
        else breaker.succeeded(permit, result, duration);
      }
      if (!threw && !rejectsResult(plan, attempt, result)) {
        if (engine.events.has('success')) engine.events.emit('success', { method: plan.label, attempts: attempt });
        return result;
      }
    }

    if (threw && !isRetryable(settings, error, attempt)) throw finalFailure(plan, attempt, 'not-retryable', error);
    if (attempt >= settings.maxAttempts) return giveUp(plan, attempt, 'exhausted', threw, error, result);
    // The breaker opened on this failure: the next attempt would be refused, so do not wait for it.
    if (breaker !== undefined && breaker.isRefusing() && breaker.tryAcquire() === REFUSED) throw refuse(plan, breaker, attempt + 1);

    const computed = nextDelay(settings, attempt, previousDelay, engine.random);
    previousDelay = computed;
    const delay = Math.max(computed, retryAfterOf(error));
    if (settings.maxElapsed !== undefined && engine.clock.now() + delay > startedAt + settings.maxElapsed) {
      return giveUp(plan, attempt, 'budget', threw, error, result);
    }
    if (isAborted(signal)) throw finalFailure(plan, attempt, 'aborted', (signal as AbortSignalLike).reason);

    reportRetry(plan, attempt, delay, error, threw);
    if (delay > 0) {
      try {
        await engine.clock.sleep(delay, signal);
      } catch (abortReason) {
        throw finalFailure(plan, attempt, 'aborted', abortReason);
      }
    }
  }
}

function isAborted(signal: AbortSignalLike | undefined): boolean {
  return signal !== undefined && signal.aborted;
}

/** Whether `retryOnResult` rejects a resolved value; a predicate that throws ends the call with its error. */
function rejectsResult(plan: ExecutionPlan, attempt: number, result: unknown): boolean {
  const { retryOnResult } = plan.retry;
  if (retryOnResult === undefined) return false;
  try {
    return retryOnResult(result) === true;
  } catch (error) {
    throw finalFailure(plan, attempt, 'not-retryable', error);
  }
}

/** The breaker refused `attempt`: the call ends with CircuitOpenError after attempt - 1 bodies ran. */
function refuse(plan: ExecutionPlan, breaker: Breaker, attempt: number): unknown {
  const refusal = breaker.refusal();
  const { engine } = plan;
  if (engine.events.has('rejected')) {
    engine.events.emit('rejected', { circuit: breaker.name, method: plan.label, state: refusal.state, retryAfter: refusal.retryAfter });
  }
  return finalFailure(plan, attempt - 1, 'circuit-open', refusal);
}

function reportRetry(plan: ExecutionPlan, attempt: number, delay: number, error: unknown, threw: boolean): void {
  const { engine, label } = plan;
  const { maxAttempts } = plan.retry;
  if (engine.events.has('retry')) engine.events.emit('retry', { method: label, attempt, maxAttempts, delay, error });
  if (!engine.log.enabled) return;
  const what = threw ? `failed (${describeError(error)})` : 'returned a result that retryOnResult rejects';
  engine.log.warn(`${label} attempt ${attempt}/${maxAttempts} ${what}; retrying in ${Math.round(delay)} ms`, {
    method: label,
    attempt,
    maxAttempts,
    delay,
    error,
  });
}

/** The loop ends without success: the last error rejects, or the last (rejected) result resolves. */
function giveUp(plan: ExecutionPlan, attempts: number, reason: FailureReason, threw: boolean, error: unknown, result: unknown): unknown {
  if (threw) throw finalFailure(plan, attempts, reason, error);
  logFinal(plan, attempts, reason, undefined, 'its last result is still rejected by retryOnResult; returning it');
  return result;
}

/** Logs and reports the final failure; returns the error for the caller to throw, unchanged. */
function finalFailure(plan: ExecutionPlan, attempts: number, reason: FailureReason, error: unknown): unknown {
  logFinal(plan, attempts, reason, error, undefined);
  return error;
}

/** `detail` defaults to the error's description, built only if something is logged. */
function logFinal(plan: ExecutionPlan, attempts: number, reason: FailureReason, error: unknown, detail: string | undefined): void {
  const { engine, label } = plan;
  const { maxAttempts } = plan.retry;
  if (engine.events.has('failure')) engine.events.emit('failure', { method: label, attempts, reason, error });
  if (!engine.log.enabled) return;
  engine.log.error(finalMessage(label, attempts, maxAttempts, reason, detail ?? describeError(error)), {
    method: label,
    attempt: attempts,
    maxAttempts,
    reason,
    error,
  });
}

function finalMessage(label: string, attempts: number, maxAttempts: number, reason: FailureReason, detail: string): string {
  const tally = `${attempts}/${maxAttempts} attempt${maxAttempts === 1 ? '' : 's'}`;
  switch (reason) {
    case 'exhausted':
      return maxAttempts === 1 ? `${label} failed: ${detail}` : `${label} failed after ${tally}: ${detail}`;
    case 'not-retryable':
      return `${label} failed on attempt ${attempts}/${maxAttempts}, not retried: ${detail}`;
    case 'aborted':
      return `${label} aborted after ${tally}: ${detail}`;
    case 'budget':
      return `${label} gave up after ${tally}: the next delay would exceed maxElapsed: ${detail}`;
    case 'circuit-open':
      return `${label} refused: ${detail}`;
  }
}
