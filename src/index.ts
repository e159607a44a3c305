export { Retryable } from './decorators/retryable';
export { Idempotent, type IdempotentOptions } from './decorators/idempotent';
export { CircuitBreaker } from './decorators/circuit-breaker';
export { Timeout, type TimeoutOptions } from './decorators/timeout';
export { Fallback, type FallbackHandler, type FallbackOptions } from './decorators/fallback';
export { Bulkhead, type BulkheadOptions } from './decorators/bulkhead';
export { Hedge, type HedgeOptions, type AdaptiveHedgeDelay } from './decorators/hedge';
export { attemptSignal } from './runtime/attempt-signal';
export type { BulkheadHandle } from './runtime/bulkhead/bulkhead';
export type { AttemptTracer } from './runtime/attempt-tracer';
export type { RetryBudgetOptions } from './runtime/budget/budget-options';
export type { SteadfastMethodDecorator, ObservableLike } from './decorators/method-decorator';
export {
  ResilienceEngine,
  defaultEngine,
  configure,
  type EngineOptions,
  type EngineDefaults,
} from './runtime/engine';
export {
  systemClock,
  type Clock,
  type AbortSignalLike,
  type PlatformAbortSignal,
} from './runtime/clock';
export type { LoggerLike, LogFields } from './runtime/log';
export { MemoryStore, type MemoryStoreOptions } from './runtime/idempotency/memory-store';
export type { IdempotencyStore, IdempotencyRecord, ClaimOutcome } from './runtime/store';
export type {
  SharedBreakerChange,
  SharedBreakerExchange,
  SharedBreakerOperation,
  SharedBreakerReply,
  SharedBreakerRequest,
  SharedBreakerSettings,
  SharedBreakerStore,
  SharedBreakerWatch,
} from './runtime/shared-breaker-store';
export type {
  EngineEvents,
  EngineEventName,
  EngineListener,
  RetryEvent,
  SuccessEvent,
  FailureEvent,
  FailureReason,
  StateChangeEvent,
  RejectedEvent,
  DeduplicatedEvent,
  TimeoutEvent,
  FallbackEvent,
  BulkheadRejectedEvent,
  HedgeEvent,
  CircuitState,
} from './runtime/events';
export type {
  CircuitBreakerOptions,
  FailureRateOptions,
  SlowCallOptions,
  SlidingWindowOptions,
  ErrorPredicate,
} from './runtime/breaker/breaker-options';
export type { CircuitBreakerHandle, CircuitBreakerMetrics } from './runtime/breaker/breaker';
export type {
  RetryOptions,
  JitterKind,
  ErrorClass,
  RetryPredicate,
} from './runtime/retry/retry-options';
export {
  SteadfastError,
  ConfigError,
  NotIdempotentError,
  CircuitOpenError,
  IdempotencyConflictError,
  IdempotencyInProgressError,
  UnstorableResultError,
  IdempotencyStoreError,
  CorruptRecordError,
  IdempotencyKeyError,
  TimeoutError,
  BulkheadRejectedError,
  isSteadfastError,
  isCircuitOpenError,
  isTimeoutError,
  isBulkheadRejectedError,
  isCorruptRecordError,
  type SteadfastErrorCode,
} from './runtime/errors';
