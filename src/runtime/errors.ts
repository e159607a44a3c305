/** Marks every error steadfast creates, so it is recognised across two copies of the package. */
const STEADFAST_ERROR = Symbol.for('steadfast.error');

/** The stable codes of steadfast's errors. */
export type SteadfastErrorCode =
  | 'STEADFAST_CONFIG'
  | 'STEADFAST_NOT_IDEMPOTENT'
  | 'STEADFAST_CIRCUIT_OPEN'
  | 'STEADFAST_IDEMPOTENCY_CONFLICT'
  | 'STEADFAST_IDEMPOTENCY_IN_PROGRESS'
  | 'STEADFAST_UNSTORABLE_RESULT'
  | 'STEADFAST_IDEMPOTENCY_STORE'
  | 'STEADFAST_IDEMPOTENCY_CORRUPT_RECORD'
  | 'STEADFAST_IDEMPOTENCY_KEY'
  | 'STEADFAST_TIMEOUT'
  | 'STEADFAST_BULKHEAD_FULL';

/**
 * The base of every error steadfast throws. `name`, `code`, `retryable` and the marker live on the
 * prototype: an error costs only its message and own fields to build.
 */
export abstract class SteadfastError extends Error {
  declare readonly code: SteadfastErrorCode;
  /** Errors of the library's own that retrying cannot cure. */
  declare readonly retryable: boolean;
  declare readonly [STEADFAST_ERROR]: true;
}

/** Puts an error class's constant fields on its prototype. */
function constants(
  errorClass: abstract new (...args: never[]) => SteadfastError,
  code: SteadfastErrorCode,
): void {
  for (const [key, value] of [
    ['name', errorClass.name],
    ['code', code],
    [STEADFAST_ERROR, true],
  ] as const) {
    Object.defineProperty(errorClass.prototype, key, {
      value,
      enumerable: false,
      writable: false,
      configurable: true,
    });
  }
  if (!Object.prototype.hasOwnProperty.call(errorClass.prototype, 'retryable')) {
    Object.defineProperty(errorClass.prototype, 'retryable', {
      value: false,
      enumerable: false,
      writable: false,
      configurable: true,
    });
  }
}

/** Builds an error without a stack trace: for refusals and deadlines, whose stack would only point into steadfast. */
export function withoutStack<E>(build: () => E): E {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return build();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** An invalid option, thrown when the class is defined. */
export class ConfigError extends SteadfastError {
  declare readonly code: 'STEADFAST_CONFIG';
  constructor(
    message: string,
    /** The option at fault, as written: `maxAttempts`, `failureRate.threshold`. */
    readonly option?: string,
    /** `Class.method`, or `method` where the decorator mode does not name the class yet. */
    readonly method?: string,
  ) {
    super(message);
  }
}

/** A `@Retryable` (or `@Hedge`) method that is not marked `@Idempotent`. */
export class NotIdempotentError extends SteadfastError {
  declare readonly code: 'STEADFAST_NOT_IDEMPOTENT';
  constructor(
    readonly method: string,
    /** the decorator that would have repeated the body */
    decorator: '@Retryable' | '@Hedge' = '@Retryable',
  ) {
    super(
      `${method} is ${decorator} but not @Idempotent: only idempotent operations may be ${decorator === '@Hedge' ? 'hedged' : 'retried'}. ` +
        'Mark it @Idempotent() if repeating it is safe, or give it an idempotency key with @Idempotent({ key }).',
    );
  }
}

/** A call refused by an open (or isolated, or saturated half-open) circuit breaker. */
export class CircuitOpenError extends SteadfastError {
  declare readonly code: 'STEADFAST_CIRCUIT_OPEN';
  constructor(
    /** The breaker's name. */
    readonly circuit: string,
    /** The breaker's state when it refused the call. */
    readonly state: 'open' | 'half-open' | 'isolated',
    /** Milliseconds until the breaker lets trial calls through (0 if it may already). */
    readonly retryAfter: number,
  ) {
    super(
      `circuit '${circuit}' is ${state}: call refused, retry after ${Math.ceil(retryAfter)} ms`,
    );
  }
}

/** The same idempotency key used with different arguments. */
export class IdempotencyConflictError extends SteadfastError {
  declare readonly code: 'STEADFAST_IDEMPOTENCY_CONFLICT';
  constructor(readonly method: string) {
    super(`${method}: this idempotency key was already used with different arguments`);
  }
}

/** A duplicate of a call that is still running elsewhere did not finish within the wait bound. */
export class IdempotencyInProgressError extends SteadfastError {
  declare readonly code: 'STEADFAST_IDEMPOTENCY_IN_PROGRESS';
  constructor(
    readonly method: string,
    /** How long this call waited for the one in progress, ms. */
    readonly waited: number,
  ) {
    super(`${method}: a call with this idempotency key is still in progress after ${waited} ms`);
  }
}

/** A keyed @Idempotent method returned a value that would not survive the store's JSON round trip. */
export class UnstorableResultError extends SteadfastError {
  declare readonly code: 'STEADFAST_UNSTORABLE_RESULT';
  constructor(
    readonly method: string,
    /** what JSON would change, e.g. "(result).createdAt is a Date, which JSON would turn into a string" */
    readonly problem: string,
  ) {
    super(
      `${method}: its result cannot be recorded for idempotency: ${problem}. The body ran once; later calls with this key ` +
        'fail the same way instead of running it again. Return plain JSON data (strings for dates).',
    );
  }
}

/** The idempotency store failed (Redis down, say) and `onStoreError` is 'reject'. */
export class IdempotencyStoreError extends SteadfastError {
  declare readonly code: 'STEADFAST_IDEMPOTENCY_STORE';
  constructor(
    readonly method: string,
    /** the store's own error, also as `cause` */
    storeError: unknown,
  ) {
    super(
      `${method}: the idempotency store is unavailable, so the call was not run (onStoreError: 'reject')`,
      { cause: storeError },
    );
  }
}

/**
 * A store holds a record under the call's key that cannot be read (not steadfast's format, a
 * completed record without a readable result, or a signature that does not match). The call fails
 * closed: the body does not run, whatever `onStoreError` says, since the store answered.
 */
export class CorruptRecordError extends SteadfastError {
  declare readonly code: 'STEADFAST_IDEMPOTENCY_CORRUPT_RECORD';
  constructor(
    /** `Class.method`; undefined where a store raises it, before the engine names the call */
    readonly method: string | undefined,
    /** what is wrong with the record, e.g. "it is not JSON" */
    readonly problem: string,
  ) {
    super(
      `${method === undefined ? '' : `${method}: `}the idempotency record under this key cannot be read (${problem}), so the call was not run. ` +
        'Delete the record if it is safe to run the operation again.',
    );
  }
}

/**
 * A keyed call without a usable idempotency key: its key function gave none (not a non-empty string
 * or a finite number), or, in steadfast/nestjs, the request's Idempotency-Key header is missing,
 * empty or too long. The body does not run. A client's mistake, answered 400 over HTTP.
 */
export class IdempotencyKeyError extends SteadfastError {
  declare readonly code: 'STEADFAST_IDEMPOTENCY_KEY';
  constructor(
    /** `Class.method`, or the header's name where a request was refused before any method */
    readonly method: string,
    /** what is wrong with the key, e.g. "the key function returned undefined" */
    readonly problem: string,
  ) {
    super(`${method}: no usable idempotency key (${problem}), so the call was not run`);
  }
}

/**
 * An attempt (`kind: 'attempt'`) or a whole call (`kind: 'total'`) ran past its `@Timeout`. An
 * attempt timeout is retried like any failure; a total timeout ends the call and is never retried.
 */
export class TimeoutError extends SteadfastError {
  declare readonly code: 'STEADFAST_TIMEOUT';
  constructor(
    /** `Class.method` */
    readonly method: string,
    readonly kind: 'attempt' | 'total',
    /** the deadline that passed, ms */
    readonly timeout: number,
  ) {
    super(
      kind === 'attempt'
        ? `${method}: the attempt timed out after ${timeout} ms`
        : `${method}: the call timed out after ${timeout} ms (total)`,
    );
  }
}

// An attempt that timed out may be retried; a call out of time may not.
Object.defineProperty(TimeoutError.prototype, 'retryable', {
  get(this: TimeoutError): boolean {
    return this.kind === 'attempt';
  },
  enumerable: false,
  configurable: true,
});

/** A bulkhead had no free slot and no room in its queue, or the call waited `queueTimeout` in the queue. */
export class BulkheadRejectedError extends SteadfastError {
  declare readonly code: 'STEADFAST_BULKHEAD_FULL';
  constructor(
    /** `Class.method` */
    readonly method: string,
    /** the bulkhead's name */
    readonly bulkhead: string,
    /** 'full': no slot and no room to queue; 'queue-timeout': queued for `queueTimeout` ms */
    readonly reason: 'full' | 'queue-timeout',
  ) {
    super(
      reason === 'full'
        ? `${method}: bulkhead '${bulkhead}' is full: call rejected`
        : `${method}: bulkhead '${bulkhead}' gave no slot within queueTimeout: call rejected`,
    );
  }
}

constants(ConfigError, 'STEADFAST_CONFIG');
constants(NotIdempotentError, 'STEADFAST_NOT_IDEMPOTENT');
constants(CircuitOpenError, 'STEADFAST_CIRCUIT_OPEN');
constants(IdempotencyConflictError, 'STEADFAST_IDEMPOTENCY_CONFLICT');
constants(IdempotencyInProgressError, 'STEADFAST_IDEMPOTENCY_IN_PROGRESS');
constants(UnstorableResultError, 'STEADFAST_UNSTORABLE_RESULT');
constants(IdempotencyStoreError, 'STEADFAST_IDEMPOTENCY_STORE');
constants(CorruptRecordError, 'STEADFAST_IDEMPOTENCY_CORRUPT_RECORD');
constants(IdempotencyKeyError, 'STEADFAST_IDEMPOTENCY_KEY');
constants(TimeoutError, 'STEADFAST_TIMEOUT');
constants(BulkheadRejectedError, 'STEADFAST_BULKHEAD_FULL');

/** True for any error created by steadfast, from this copy of the package or another. */
export function isSteadfastError(error: unknown): error is SteadfastError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { [STEADFAST_ERROR]?: unknown })[STEADFAST_ERROR] === true
  );
}

/** True for a `CircuitOpenError`, from this copy of the package or another. */
export function isCircuitOpenError(error: unknown): error is CircuitOpenError {
  return isSteadfastError(error) && error.code === 'STEADFAST_CIRCUIT_OPEN';
}

/** True for a `CorruptRecordError`, from this copy of the package or another (a store may be built on either). */
export function isCorruptRecordError(error: unknown): error is CorruptRecordError {
  return isSteadfastError(error) && error.code === 'STEADFAST_IDEMPOTENCY_CORRUPT_RECORD';
}

/** True for a `TimeoutError`, from this copy of the package or another. */
export function isTimeoutError(error: unknown): error is TimeoutError {
  return isSteadfastError(error) && error.code === 'STEADFAST_TIMEOUT';
}

/** True for a `BulkheadRejectedError`, from this copy of the package or another. */
export function isBulkheadRejectedError(error: unknown): error is BulkheadRejectedError {
  return isSteadfastError(error) && error.code === 'STEADFAST_BULKHEAD_FULL';
}

/**
 * True for errors that end a retry loop whatever `retryOn` says: the library's own that retrying
 * cannot cure (a refusal by an open breaker, a call out of time, a programming error) and aborts.
 * A full bulkhead is not retried either unless `retryOn` names it.
 */
export function isNeverRetried(error: unknown): boolean {
  if (isSteadfastError(error)) return !error.retryable && error.code !== 'STEADFAST_BULKHEAD_FULL';
  return isAbortError(error);
}

/** An error that says the caller gave up (AbortSignal's default reason, Node's AbortError). */
export function isAbortError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'AbortError'
  );
}
