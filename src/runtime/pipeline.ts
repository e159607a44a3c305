import type { AbortSignalLike } from './clock';
import type { ResilienceEngine } from './engine';
import { ConfigError, NotIdempotentError } from './errors';
import { Call } from './call';
import type { AttemptStage, CallStage, ExecutionPlan } from './plan';
import { isRefused, methodLabel, repeatingDecorator, type MethodPolicy } from './policy';
import { hasMethod, OptionChecker } from './validation';
import { resolveRetrySettings, type RetrySettings } from './retry/retry-options';
import { signalOf } from './retry/abort-signal';
import { firstAttemptOf, RetryStage } from './retry/retry-stage';
import { declareBreaker } from './breaker/breaker-declarations';
import { resolveBreakerSettings } from './breaker/breaker-options';
import { BreakerStage } from './breaker/breaker-stage';
import { declareBulkhead } from './bulkhead/bulkhead-declarations';
import { BulkheadStage } from './bulkhead/bulkhead-stage';
import { MethodStage } from './method-stage';
import { deadlineQueue } from './timeout/deadline-queue';
import { AttemptTimeoutStage } from './timeout/attempt-timeout-stage';
import { TotalTimeoutStage } from './timeout/total-timeout-stage';
import { IdempotencyStage } from './idempotency/idempotency-stage';
import { recordNamespace } from './idempotency/record-names';
import { FallbackStage } from './fallback/fallback-stage';
import { runBodyOutside } from './attempt-signal';
import { AttemptRunner } from './attempt-runner';
import { HedgeStage } from './hedge/hedge-stage';
import { Cancellation } from './cancellation';
import { observableCall, withObservableInterop } from '../rxjs/observable-call';

const SINGLE_ATTEMPT: RetrySettings = {
  maxAttempts: 1,
  initialDelay: 0,
  maxDelay: 0,
  multiplier: 1,
  jitter: 'none',
  retryOn: undefined,
  retryOnResult: undefined,
  maxElapsed: undefined,
  maxRetryAfter: undefined,
  budget: undefined,
  signal: undefined,
};

/**
 * One call of a decorated method: a Promise, or for a method that returns an Observable, an
 * Observable each subscription to which is one call. A module function rather than a method of the
 * exported engine, so that replacing a property of `defaultEngine` never hands out a policy.
 */
export function callMethod(
  engine: ResilienceEngine,
  policy: MethodPolicy,
  thisArg: unknown,
  args: unknown[],
): unknown {
  const kind = policy.returns;
  if (kind === 'promise') return runCall(engine, policy, thisArg, args, undefined);
  if (kind === 'observable') {
    return observableCall(methodLabel(policy, thisArg), (unsubscribed) =>
      runCall(engine, policy, thisArg, args, unsubscribed),
    );
  }
  // The kind is learnt from the body; until then, the call's Promise can be subscribed to as well,
  // and its last subscriber's unsubscribe ends it.
  const unsubscribed = new Cancellation();
  const call = runCall(engine, policy, thisArg, args, unsubscribed);
  return policy.returns === 'promise'
    ? call
    : withObservableInterop(call, policy, methodLabel(policy, thisArg), unsubscribed);
}

/**
 * Runs one call of a decorated method on an engine, compiling the method's plan first if the engine
 * was reconfigured since (or the method's kind was learnt). `unsubscribed` ends an Observable
 * method's call when its subscriber unsubscribes.
 */
function runCall(
  engine: ResilienceEngine,
  policy: MethodPolicy,
  thisArg: unknown,
  args: unknown[],
  unsubscribed: Cancellation | undefined,
): Promise<unknown> {
  let plan = policy.plan as ExecutionPlan | undefined;
  if (plan === undefined || plan.engine !== engine || plan.version !== engine.version) {
    try {
      plan = compilePlan(engine, policy, thisArg);
    } catch (error) {
      return Promise.reject(error);
    }
    policy.plan = plan;
  }
  if (plan.root === DIRECT && unsubscribed === undefined && plan.returns === 'promise')
    return runDirect(plan, thisArg, args);
  let signal: AbortSignalLike | undefined;
  if (plan.readsSignal) {
    try {
      signal = signalOf(plan.retry, args, plan.label);
    } catch (error) {
      return Promise.reject(error);
    }
  }
  if (unsubscribed !== undefined) return runSubscribed(plan, thisArg, args, signal, unsubscribed);
  // Where someone listens to how calls end, calls are timed from their start: they need a Call.
  if (signal === undefined && plan.firstAttempt !== undefined && !engine.events.timesCalls) {
    return plan.firstAttempt(plan, thisArg, args);
  }
  return plan.root.run(new Call(plan, thisArg, args, signal));
}

/** An Observable method's call: its signal follows the caller's (if any) and the unsubscribe. */
function runSubscribed(
  plan: ExecutionPlan,
  thisArg: unknown,
  args: unknown[],
  callerSignal: AbortSignalLike | undefined,
  unsubscribed: Cancellation,
): Promise<unknown> {
  const stopFollowing = callerSignal === undefined ? undefined : unsubscribed.follow(callerSignal);
  const call = new Call(plan, thisArg, args, unsubscribed);
  call.unsubscribed = unsubscribed;
  const done = plan.root.run(call);
  if (stopFollowing !== undefined) done.then(stopFollowing, stopFollowing);
  return done;
}

/** A method with no stage at all (a plain @Idempotent()): one call of its body, and nothing else. */
const DIRECT = new MethodStage();

function runDirect(plan: ExecutionPlan, thisArg: unknown, args: unknown[]): Promise<unknown> {
  if (plan.engine.events.timesCalls) return runDirectReported(plan, thisArg, args);
  try {
    return Promise.resolve(runBodyOutside(plan.method, thisArg, args));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The same, where someone listens to how calls end: one attempt, its end emitted as any call's. */
function runDirectReported(
  plan: ExecutionPlan,
  thisArg: unknown,
  args: unknown[],
): Promise<unknown> {
  const { engine, label } = plan;
  const startedAt = engine.clock.now();
  let pending: Promise<unknown>;
  try {
    pending = Promise.resolve(runBodyOutside(plan.method, thisArg, args));
  } catch (error) {
    pending = Promise.reject(error);
  }
  return pending.then(
    (value) => {
      if (engine.events.has('success'))
        engine.events.emit('success', {
          method: label,
          attempts: 1,
          duration: engine.clock.now() - startedAt,
        });
      return value;
    },
    (error: unknown) => {
      if (engine.events.has('failure'))
        engine.events.emit('failure', {
          method: label,
          attempts: 1,
          reason: 'exhausted',
          error,
          duration: engine.clock.now() - startedAt,
        });
      throw error;
    },
  );
}

/** A trial permit's lease beyond its attempt's deadline. */
const PERMIT_LEASE_MARGIN_MS = 1_000;

/**
 * Composes, for one method, the chain of the stages its decorators declared, in the one order of
 * the pipeline whatever the order the decorators were written in:
 *
 *   fallback( idempotency( timeout.total( retry( hedge( bulkhead( breaker( timeout.attempt( method ))))))))
 *
 * A stage that is not declared is not in the chain, so it costs nothing.
 */
export function compilePlan(
  engine: ResilienceEngine,
  policy: MethodPolicy,
  thisArg: unknown,
): ExecutionPlan {
  const label = methodLabel(policy, thisArg);
  const checker = (source: string): OptionChecker => new OptionChecker(source, label);
  const retry =
    policy.retry === undefined
      ? SINGLE_ATTEMPT
      : resolveRetrySettings(policy.retry, engine.defaults.retry, checker('@Retryable'));
  const timeout = policy.timeout;

  // The attempt: bulkhead( breaker( timeout.attempt( method ))). With any deadline, each attempt can be
  // ended early (and gives its body attemptSignal()): by its own deadline, or by the call's signal,
  // which a total deadline aborts.
  const hedge = policy.hedge;
  // A hedged attempt must be abortable too (the loser's), whatever its deadline.
  const method: AttemptStage =
    timeout === undefined && hedge === undefined
      ? new MethodStage()
      : new AttemptTimeoutStage(
          timeout?.attempt,
          timeout?.attempt === undefined ? undefined : deadlineQueue(engine.clock, timeout.attempt),
          retry.signal === undefined,
        );
  let breaker: BreakerStage | undefined;
  if (policy.breaker !== undefined) {
    const declaration = (policy.breaker.declaration ??= declareBreaker(
      label,
      policy.breaker.options,
      false,
      checker('@CircuitBreaker'),
    ));
    const perInstance = declaration.options.scope === 'instance';
    // Breakers per instance are made at each instance's first call: their settings are checked now.
    if (perInstance)
      resolveBreakerSettings(
        declaration.options,
        engine.defaults.circuitBreaker,
        checker('@CircuitBreaker'),
      );
    // An attempt that cannot outlive its deadline needs a trial permit no longer (the margin covers
    // the round trips); without one, the fleet's default lease applies.
    const deadline = timeout?.attempt ?? timeout?.total;
    breaker = new BreakerStage(
      perInstance ? undefined : engine.breakerFor(declaration, undefined),
      declaration,
      deadline === undefined ? undefined : deadline + PERMIT_LEASE_MARGIN_MS,
    );
  }
  let bulkhead: BulkheadStage | undefined;
  if (policy.bulkhead !== undefined) {
    const declaration = (policy.bulkhead.declaration ??= declareBulkhead(
      label,
      policy.bulkhead.options,
      false,
      checker('@Bulkhead'),
    ));
    if (declaration.options.maxConcurrent === undefined) {
      checker('@Bulkhead').fail(
        'name',
        `names bulkhead '${declaration.name}', which no method configures (give maxConcurrent on one of them)`,
        declaration.name,
      );
    }
    bulkhead = new BulkheadStage(
      declaration.options.scope === 'instance'
        ? undefined
        : engine.bulkheadFor(declaration, undefined),
      declaration,
    );
  }
  const runner = new AttemptRunner(bulkhead, breaker, method);
  const attempts = hedge === undefined ? runner : new HedgeStage(runner, hedge);
  // The first attempt may skip the retry loop unless the settings need the loop from the start.
  const fastFirst =
    hedge === undefined &&
    retry.maxElapsed === undefined &&
    retry.retryOnResult === undefined &&
    retry.signal === undefined;

  // The call stages, from the inside out.
  // Every stage but idempotency needs the retry stage, which reports the call's final failure (one attempt without @Retryable).
  const hasStages =
    policy.retry !== undefined ||
    hedge !== undefined ||
    policy.breaker !== undefined ||
    policy.bulkhead !== undefined ||
    timeout !== undefined ||
    policy.fallback !== undefined;
  const retryStage = hasStages ? new RetryStage(attempts, fastFirst) : undefined;
  let root: CallStage = retryStage ?? DIRECT;
  if (timeout?.total !== undefined)
    root = new TotalTimeoutStage(timeout.total, deadlineQueue(engine.clock, timeout.total), root);
  if (policy.keyed !== undefined) {
    const store = policy.keyed.store ?? engine.store;
    root = new IdempotencyStage(
      policy.keyed,
      store,
      recordNamespace(policy.keyed.name, label, policy.original, store, checker('@Idempotent')),
      root,
    );
  }
  let fallback: FallbackStage | undefined;
  if (policy.fallback !== undefined) {
    const { handler } = policy.fallback;
    if (
      typeof handler === 'string' &&
      // Own methods only: Object.prototype's toString or valueOf is no fallback of the class.
      !hasMethod(thisArg, handler)
    ) {
      throw new ConfigError(
        `@Fallback on ${label}: option 'handler' names '${handler}', which is not a method of the class`,
        'handler',
        label,
      );
    }
    root = fallback = new FallbackStage(policy.fallback, root);
  }
  if (isRefused(policy)) root = new RefusalStage(repeatingDecorator(policy));
  // The commonest plans (retry and a shared breaker around the body, nothing else) start their
  // first attempt before even a Call is made: see firstAttemptOf().
  // The retry budget the method spends: its own (or a shared named one), the engine's, or none.
  const budgetSettings = retry.budget;
  const budget =
    (policy.retry === undefined && hedge === undefined) || budgetSettings === false
      ? undefined
      : budgetSettings === undefined
        ? engine.retryBudget
        : engine.budgetFor(budgetSettings, policy.original, label);
  const simple =
    budget === undefined &&
    engine.attemptTracer === undefined &&
    policy.returns === 'promise' &&
    root === retryStage &&
    fastFirst &&
    bulkhead === undefined &&
    timeout === undefined &&
    (breaker === undefined || !breaker.timesCalls);

  return {
    engine,
    version: engine.version,
    label,
    policy,
    returns: policy.returns,
    method: policy.original,
    retry,
    // A method with none of these leaves its signal to its body, as it always has.
    readsSignal:
      policy.retry !== undefined ||
      hedge !== undefined ||
      timeout !== undefined ||
      policy.bulkhead !== undefined,
    budget,
    fallback,
    root,
    firstAttempt: simple ? firstAttemptOf(retryStage as RetryStage, breaker?.shared) : undefined,
  };
}

/** A @Retryable method without @Idempotent: every call rejects before the body runs. */
class RefusalStage implements CallStage {
  constructor(private readonly decorator: '@Retryable' | '@Hedge') {}

  run(call: Call): Promise<never> {
    const { plan } = call;
    const error = new NotIdempotentError(plan.label, this.decorator);
    plan.engine.log.error(`${plan.label} refused: ${error.message}`, { method: plan.label, error });
    return Promise.reject(error);
  }
}
