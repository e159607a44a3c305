export { Retryable } from './decorators/retryable';
export { Idempotent, type IdempotentOptions } from './decorators/idempotent';
export type { SteadfastMethodDecorator } from './decorators/method-decorator';
export { ResilienceEngine, defaultEngine, configure, type EngineOptions, type EngineDefaults } from './runtime/engine';
export { systemClock, type Clock } from './runtime/clock';
export type { LoggerLike, LogFields } from './runtime/log';
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
  CircuitState,
} from './runtime/events';
export type { RetryOptions, JitterKind, ErrorClass, RetryPredicate } from './runtime/retry/retry-options';
export {
  SteadfastError,
  ConfigError,
  NotIdempotentError,
  CircuitOpenError,
  IdempotencyConflictError,
  IdempotencyInProgressError,
  isSteadfastError,
  isCircuitOpenError,
  type SteadfastErrorCode,
} from './runtime/errors';
