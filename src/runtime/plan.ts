import type { ResilienceEngine } from './engine';
import type { MethodBody, MethodPolicy } from './policy';
import type { RetrySettings } from './retry/retry-options';
import type { Call } from './call';
import type { AbortSignalLike } from './clock';
import type { RetryBudget } from './budget/retry-budget';

/** A stage that takes the whole call: fallback, idempotency, the total timeout, retry. */
export interface CallStage {
  run(call: Call): Promise<unknown>;
}

/** What happens when an attempt ends: the guards are told, then the retry stage takes the outcome. */
export interface AttemptEnd {
  succeeded(value: unknown): unknown;
  failed(error: unknown): unknown;
}

/** The innermost stage of an attempt: the method itself, with or without a deadline. */
export interface AttemptStage {
  /**
   * Runs attempt `attempt` (1-based) of `call`. Without `end`, the promise settles as the attempt
   * does; with it, as what `end` makes of the attempt's outcome (so that no further `then` is needed).
   */
  run(
    call: Call,
    attempt: number,
    end: AttemptEnd | undefined,
    cancel?: AbortSignalLike,
  ): Promise<unknown>;
}

/** Returned by AttemptGuard.enter() when only an asynchronous wait can decide (a queue, a fleet's permit). */
export const WAIT: unique symbol = Symbol('wait');

/**
 * A stage an attempt passes through on its way to the body and back: the bulkhead (a slot) and
 * the breaker (a permit). Entering is synchronous when it can be, so that an attempt whose stages
 * all admit it at once starts its body without an async frame.
 */
export interface AttemptGuard<Ticket> {
  /** Admits the attempt now (its ticket), or WAIT; throws the refusal (the body must not run). */
  enter(call: Call): Ticket | typeof WAIT;
  /** Admits the attempt after waiting; rejects with the refusal. */
  enterAsync(call: Call): Promise<Ticket>;
  /** The attempt ended: `failed` with `outcome` as its error, or not, with it as its value. */
  exit(call: Call, ticket: Ticket, failed: boolean, outcome: unknown, duration: number): void;
}

/** What a final failure is told: which stage would answer it instead of the caller. */
export interface FailureHandler {
  /** true when a @Fallback will answer this failure, so it is not the call's final failure */
  handles(error: unknown): boolean;
}

/**
 * One method's policy compiled against one engine configuration: the chain of its declared stages,
 * built once and then only run.
 */
export interface ExecutionPlan {
  readonly engine: ResilienceEngine;
  readonly version: number;
  /** `Class.method` */
  readonly label: string;
  /** the policy compiled (a method's kind is learnt on it) */
  readonly policy: MethodPolicy;
  /** what the body returns, as known when the plan was compiled */
  readonly returns: 'promise' | 'observable' | undefined;
  readonly method: MethodBody;
  /** the attempt settings; a single attempt when the method is not @Retryable */
  readonly retry: RetrySettings;
  /** whether calls look for an AbortSignal among their arguments (retried, timed or hedged methods) */
  readonly readsSignal: boolean;
  /** the retry budget the method's retries (and hedges) spend, if any */
  readonly budget: RetryBudget | undefined;
  /** the @Fallback that answers final failures, if declared */
  readonly fallback: FailureHandler | undefined;
  /** the first stage of the chain */
  readonly root: CallStage;
  /** for the simplest plans, the first attempt without a Call (see firstAttemptOf in retry-stage.ts) */
  readonly firstAttempt:
    ((plan: ExecutionPlan, thisArg: unknown, args: unknown[]) => Promise<unknown>) | undefined;
}
