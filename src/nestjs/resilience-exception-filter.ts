import {
  Catch,
  HttpStatus,
  Inject,
  Optional,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  BulkheadRejectedError,
  CircuitOpenError,
  IdempotencyConflictError,
  IdempotencyInProgressError,
  IdempotencyKeyError,
  IdempotencyStoreError,
  TimeoutError,
  type SteadfastError,
} from '../runtime/errors';

/** The HTTP answer to one of steadfast's errors. */
interface HttpAnswer {
  readonly status: number;
  readonly body: { statusCode: number; error: string; message: string; code: string };
  /** seconds, for the Retry-After header */
  readonly retryAfter: number | undefined;
}

/** What the filter needs of a response when no HTTP adapter was injected: Express and Fastify both fit. */
interface ChainableResponse {
  status(code: number): ChainableResponse;
  header(name: string, value: string): ChainableResponse;
  send(body: unknown): unknown;
}

/**
 * Opt-in HTTP mapping of steadfast's errors (`app.useGlobalFilters(new ResilienceExceptionFilter())`,
 * or `{ provide: APP_FILTER, useClass: ResilienceExceptionFilter }`):
 * - `CircuitOpenError` → 503 Service Unavailable, with `Retry-After` (whole seconds, at least 1)
 *   when the breaker will let trial calls through (an isolated breaker gives none);
 * - `IdempotencyConflictError` → 409 Conflict (the key was used with a different request);
 * - `IdempotencyInProgressError` → 409 Conflict (the first request with the key is still running);
 * - `IdempotencyStoreError` → 503 Service Unavailable (the idempotency store cannot be reached);
 * - `BulkheadRejectedError` → 503 Service Unavailable, with `Retry-After: 1` (the service is at its
 *   concurrency limit; it frees up as calls finish);
 * - `TimeoutError` → 504 Gateway Timeout (a dependency did not answer in time);
 * - `IdempotencyKeyError` → 400 Bad Request (the key function gave no key).
 * The body names no breaker and no method: those are internal. Every other error keeps Nest's handling.
 */
export class ResilienceExceptionFilter implements ExceptionFilter<SteadfastError> {
  constructor(private readonly adapterHost?: HttpAdapterHost) {}

  catch(error: SteadfastError, host: ArgumentsHost): void {
    // Outside HTTP (RPC, WebSockets, GraphQL) the error goes on to that context's own handling.
    if (host.getType() !== 'http') throw error;
    const answer = httpAnswerTo(error);
    const response: unknown = host.switchToHttp().getResponse();
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter !== undefined) {
      if (answer.retryAfter !== undefined)
        adapter.setHeader(response, 'Retry-After', String(answer.retryAfter));
      adapter.reply(response, answer.body, answer.status);
      return;
    }
    const chainable = (response as ChainableResponse).status(answer.status);
    (answer.retryAfter === undefined
      ? chainable
      : chainable.header('Retry-After', String(answer.retryAfter))
    ).send(answer.body);
  }
}

// steadfast is compiled with standard decorators and Nest's are legacy ones: they are applied by call.
Catch(
  CircuitOpenError,
  IdempotencyConflictError,
  IdempotencyInProgressError,
  IdempotencyStoreError,
  BulkheadRejectedError,
  TimeoutError,
  IdempotencyKeyError,
)(ResilienceExceptionFilter);
Inject(HttpAdapterHost)(ResilienceExceptionFilter, undefined, 0);
Optional()(ResilienceExceptionFilter, undefined, 0);

function httpAnswerTo(error: SteadfastError): HttpAnswer {
  if (error instanceof CircuitOpenError) {
    return {
      status: HttpStatus.SERVICE_UNAVAILABLE,
      body: body(
        HttpStatus.SERVICE_UNAVAILABLE,
        'Service Unavailable',
        'A service this request depends on is unavailable; retry later.',
        error,
      ),
      retryAfter: Number.isFinite(error.retryAfter)
        ? Math.max(1, Math.ceil(error.retryAfter / 1000))
        : undefined,
    };
  }
  if (error instanceof BulkheadRejectedError) {
    const message = 'The service is at its limit of concurrent requests; retry shortly.';
    return {
      status: HttpStatus.SERVICE_UNAVAILABLE,
      body: body(HttpStatus.SERVICE_UNAVAILABLE, 'Service Unavailable', message, error),
      retryAfter: 1,
    };
  }
  if (error instanceof IdempotencyKeyError) {
    const message = 'This request carries no usable idempotency key.';
    return {
      status: HttpStatus.BAD_REQUEST,
      body: body(HttpStatus.BAD_REQUEST, 'Bad Request', message, error),
      retryAfter: undefined,
    };
  }
  if (error instanceof TimeoutError) {
    const message = 'A service this request depends on did not answer in time.';
    return {
      status: HttpStatus.GATEWAY_TIMEOUT,
      body: body(HttpStatus.GATEWAY_TIMEOUT, 'Gateway Timeout', message, error),
      retryAfter: undefined,
    };
  }
  if (error instanceof IdempotencyStoreError) {
    const message = 'Requests cannot be deduplicated right now; retry later.';
    return {
      status: HttpStatus.SERVICE_UNAVAILABLE,
      body: body(HttpStatus.SERVICE_UNAVAILABLE, 'Service Unavailable', message, error),
      retryAfter: undefined,
    };
  }
  const message =
    error instanceof IdempotencyInProgressError
      ? 'A request with this idempotency key is still in progress; retry later.'
      : 'This idempotency key was already used with a different request.';
  return {
    status: HttpStatus.CONFLICT,
    body: body(HttpStatus.CONFLICT, 'Conflict', message, error),
    retryAfter: undefined,
  };
}

function body(
  statusCode: number,
  error: string,
  message: string,
  cause: SteadfastError,
): HttpAnswer['body'] {
  return { statusCode, error, message, code: cause.code };
}
