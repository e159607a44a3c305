import {
  createContextKey,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { AttemptTracer } from '../runtime/attempt-tracer';
import { ATTRIBUTES, SPANS } from './names';
import { errorType } from './error-type';

/** One attempt's span, and the context it was started in (the call's). */
interface AttemptSpan {
  readonly span: Span;
  readonly parent: Context;
  ended: boolean;
}

/** Marks a context as an attempt's: the one its body (and what its body starts) runs in. */
const ATTEMPT = createContextKey('steadfast.attempt');

/**
 * The context a call's own reports belong to. The retry loop goes on in promise callbacks made
 * inside the attempt that failed, so the context there is that attempt's: once an attempt has
 * ended, its context stands for the call's, which it was started in. An attempt still running is
 * a body that calls a decorated method itself: that call's attempts are children of it.
 */
export function callContext(active: Context): Context {
  let context = active;
  for (;;) {
    const attempt = context.getValue(ATTEMPT) as AttemptSpan | undefined;
    if (attempt === undefined || !attempt.ended) return context;
    context = attempt.parent;
  }
}

/** The span a call's events go on, if one is active and recording. */
export function callSpan(active: Context): Span | undefined {
  const span = trace.getSpan(callContext(active));
  return span !== undefined && span.isRecording() ? span : undefined;
}

/**
 * `attemptSpans: true`: one span `steadfast.attempt` per attempt, a child of the call's span, made
 * the active span while the attempt's body runs (so an instrumented client's span is its child).
 */
export class AttemptSpans implements AttemptTracer {
  constructor(
    private readonly tracer: Tracer,
    private readonly active: () => Context,
    private readonly runIn: <T>(context: Context, body: () => T) => T,
  ) {}

  start(method: string, attempt: number): AttemptSpan {
    const parent = callContext(this.active());
    const span = this.tracer.startSpan(
      SPANS.attempt,
      {
        kind: SpanKind.INTERNAL,
        attributes: { [ATTRIBUTES.method]: method, [ATTRIBUTES.retryAttempt]: attempt },
      },
      parent,
    );
    return { span, parent, ended: false };
  }

  run<T>(started: unknown, body: () => T): T {
    const attempt = started as AttemptSpan;
    return this.runIn(trace.setSpan(attempt.parent, attempt.span).setValue(ATTEMPT, attempt), body);
  }

  end(started: unknown, failed: boolean, outcome: unknown): void {
    const attempt = started as AttemptSpan;
    if (attempt.ended) return;
    attempt.ended = true;
    const { span } = attempt;
    if (failed) {
      span.setAttribute(ATTRIBUTES.errorType, errorType(outcome));
      if (outcome instanceof Error) {
        span.recordException(outcome);
        span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.message });
      } else {
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    }
    span.end();
  }
}
