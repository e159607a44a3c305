/**
 * Every name steadfast reports to OpenTelemetry: instruments, span names and events, attribute
 * keys. The spec's names where it gives them (`circuitbreaker.*` and `retry.attempt` follow the
 * open semantic-convention proposal); steadfast's own under `steadfast.`.
 */

/** The meter's and the tracer's name. */
export const SCOPE_NAME = 'steadfast';

export const INSTRUMENTS = {
  calls: 'steadfast.calls',
  callDuration: 'steadfast.call.duration',
  retries: 'steadfast.retries',
  breakerState: 'steadfast.circuit_breaker.state',
  breakerTransitions: 'steadfast.circuit_breaker.transitions',
  breakerRejected: 'steadfast.circuit_breaker.rejected',
  deduplicated: 'steadfast.idempotency.deduplicated',
  timeouts: 'steadfast.timeouts',
  fallbacks: 'steadfast.fallbacks',
  bulkheadRunning: 'steadfast.bulkhead.running',
  bulkheadQueued: 'steadfast.bulkhead.queued',
  bulkheadRejected: 'steadfast.bulkhead.rejected',
  hedges: 'steadfast.hedges',
  budgetRefused: 'steadfast.retry_budget.refused',
} as const;

export const ATTRIBUTES = {
  method: 'steadfast.method',
  outcome: 'steadfast.outcome',
  errorType: 'error.type',
  breakerName: 'circuitbreaker.name',
  breakerState: 'circuitbreaker.state',
  idempotencyHow: 'steadfast.idempotency.how',
  timeoutKind: 'steadfast.timeout.kind',
  bulkheadName: 'steadfast.bulkhead.name',
  bulkheadReason: 'steadfast.bulkhead.reason',
  retryAttempt: 'retry.attempt',
  delayMs: 'steadfast.delay_ms',
  failureReason: 'steadfast.failure.reason',
  attempts: 'steadfast.attempts',
  hedge: 'steadfast.hedge',
} as const;

/** How a call ended, as `steadfast.outcome` says it. */
export type CallOutcome = 'success' | 'failure' | 'rejected' | 'fallback' | 'deduplicated';

export const SPANS = {
  attempt: 'steadfast.attempt',
} as const;

export const SPAN_EVENTS = {
  retry: 'steadfast.retry',
  rejected: 'steadfast.rejected',
  failure: 'steadfast.failure',
  fallback: 'steadfast.fallback',
  timeout: 'steadfast.timeout',
  hedge: 'steadfast.hedge',
} as const;
