import type { ResilienceEngine } from './engine';
import type { MethodBody } from './policy';
import type { RetrySettings } from './retry/retry-options';
import type { Call } from './call';

/** A stage that takes the whole call: fallback, idempotency, the total timeout, retry. */
export interface CallStage {
  run(call: Call): Promise<unknown>;
}

/** A stage that takes one attempt (of several, with retry or hedging): bulkhead, breaker, the method itself. */
export interface AttemptStage {
  /** Runs attempt `attempt` (1-based) of `call`; resolves with the body's value or rejects with its failure. */
  run(call: Call, attempt: number): Promise<unknown>;
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
  readonly method: MethodBody;
  /** the attempt settings; a single attempt when the method is not @Retryable */
  readonly retry: RetrySettings;
  /** whether calls look for an AbortSignal among their arguments (retried, timed or hedged methods) */
  readonly readsSignal: boolean;
  /** the @Fallback that answers final failures, if declared */
  readonly fallback: FailureHandler | undefined;
  /** the first stage of the chain */
  readonly root: CallStage;
}
