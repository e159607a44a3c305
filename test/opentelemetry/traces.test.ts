import { context, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { CircuitBreaker, Idempotent, Retryable } from '../../src';
import { instrument } from '../../src/opentelemetry';
import { decoratorMode, useHarness, type Harness } from '../support/harness';
import { tracesHarness, type Traces } from './support/otel';

class StockError extends Error {}

/** Drives the fake clock until `call` settles, from inside the caller's context. */
async function settled<T>(h: Harness, call: Promise<T>): Promise<T | unknown> {
  const outcome = call.then(
    (value) => value,
    (error: unknown) => error,
  );
  await h.clock.runAll();
  return outcome;
}

describe(`instrument(): traces (${decoratorMode} decorators)`, () => {
  let traces: Traces;
  let tracer: Tracer;
  let stop: (() => void) | undefined;

  beforeEach(() => {
    traces = tracesHarness();
    tracer = traces.tracerProvider.getTracer('test');
  });
  afterEach(async () => {
    stop?.();
    stop = undefined;
    await traces.shutdown();
  });

  /** Fails its first `failures` attempts; each attempt makes a client span of its own after an await. */
  function warehouse(breaker: string, failures: number) {
    class Warehouse {
      runs = 0;
      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 10, multiplier: 2, jitter: 'none' })
      @CircuitBreaker({ name: breaker, consecutiveFailures: 3, openDuration: 60_000 })
      async stock(): Promise<number> {
        const run = ++this.runs;
        await Promise.resolve();
        // what an instrumented HTTP client does: a span, child of whatever is active
        const request = tracer.startSpan(`GET /stock #${run}`);
        await Promise.resolve();
        request.end();
        if (run <= failures) throw new StockError(`attempt ${run} failed`);
        return 12;
      }
    }
    return new Warehouse();
  }

  const named = (name: string): ReadableSpan => {
    const span = traces.spans().find((candidate) => candidate.name === name);
    if (span === undefined) throw new Error(`no span named ${name}`);
    return span;
  };
  const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
  const idOf = (span: ReadableSpan): string => span.spanContext().spanId;

  it('adds steadfast.retry for each retried attempt to the active span, across awaits', async () => {
    const h = useHarness();
    const service = warehouse(`otel-trace-retry-${decoratorMode}`, 2);
    stop = instrument({ tracerProvider: traces.tracerProvider });

    await tracer.startActiveSpan('checkout', async (span) => {
      await Promise.resolve();
      expect(await settled(h, service.stock())).toBe(12);
      span.end();
    });

    const checkout = named('checkout');
    expect(checkout.events.map((event) => [event.name, event.attributes])).toEqual([
      [
        'steadfast.retry',
        { 'retry.attempt': 1, 'error.type': 'StockError', 'steadfast.delay_ms': 10 },
      ],
      [
        'steadfast.retry',
        { 'retry.attempt': 2, 'error.type': 'StockError', 'steadfast.delay_ms': 20 },
      ],
    ]);
    // no attempt spans unless asked for: the client's spans are the checkout's children
    expect(traces.spans().filter((span) => span.name === 'steadfast.attempt')).toEqual([]);
    expect(parentOf(named('GET /stock #3'))).toBe(idOf(checkout));
  });

  it('adds steadfast.failure for a final failure and steadfast.rejected for a refusal', async () => {
    const h = useHarness();
    const breaker = `otel-trace-refusal-${decoratorMode}`;
    const service = warehouse(breaker, Infinity);
    stop = instrument({ tracerProvider: traces.tracerProvider });

    await tracer.startActiveSpan('checkout', async (span) => {
      expect(await settled(h, service.stock())).toBeInstanceOf(StockError);
      expect(await settled(h, service.stock())).toMatchObject({ code: 'STEADFAST_CIRCUIT_OPEN' });
      span.end();
    });

    expect(named('checkout').events.map((event) => [event.name, event.attributes])).toEqual([
      [
        'steadfast.retry',
        { 'retry.attempt': 1, 'error.type': 'StockError', 'steadfast.delay_ms': 10 },
      ],
      [
        'steadfast.retry',
        { 'retry.attempt': 2, 'error.type': 'StockError', 'steadfast.delay_ms': 20 },
      ],
      [
        'steadfast.failure',
        {
          'error.type': 'StockError',
          'steadfast.failure.reason': 'exhausted',
          'steadfast.attempts': 3,
        },
      ],
      ['steadfast.rejected', { 'circuitbreaker.name': breaker, 'circuitbreaker.state': 'open' }],
      [
        'steadfast.failure',
        {
          'error.type': 'STEADFAST_CIRCUIT_OPEN',
          'steadfast.failure.reason': 'circuit-open',
          'steadfast.attempts': 0,
        },
      ],
    ]);
  });

  it('with attemptSpans, makes each attempt a child span of the call’s, with retry.attempt, an error status when it failed, and the client’s span as its child', async () => {
    const h = useHarness();
    const service = warehouse(`otel-trace-attempts-${decoratorMode}`, 2);
    stop = instrument({ tracerProvider: traces.tracerProvider, attemptSpans: true });

    await tracer.startActiveSpan('checkout', async (span) => {
      expect(await settled(h, service.stock())).toBe(12);
      // the call is over: what the caller does next is the checkout's again
      expect(trace.getActiveSpan()).toBe(span);
      span.end();
    });

    const checkout = named('checkout');
    const attempts = traces.spans().filter((span) => span.name === 'steadfast.attempt');
    expect(
      attempts.map((span) => ({
        parent: parentOf(span) === idOf(checkout),
        attributes: span.attributes,
        status: span.status,
      })),
    ).toEqual([
      {
        parent: true,
        attributes: {
          'steadfast.method': 'Warehouse.stock',
          'retry.attempt': 1,
          'error.type': 'StockError',
        },
        status: { code: SpanStatusCode.ERROR, message: 'attempt 1 failed' },
      },
      {
        parent: true,
        attributes: {
          'steadfast.method': 'Warehouse.stock',
          'retry.attempt': 2,
          'error.type': 'StockError',
        },
        status: { code: SpanStatusCode.ERROR, message: 'attempt 2 failed' },
      },
      {
        parent: true,
        attributes: { 'steadfast.method': 'Warehouse.stock', 'retry.attempt': 3 },
        status: { code: SpanStatusCode.UNSET },
      },
    ]);
    // each request under its own attempt
    for (const [index, attempt] of attempts.entries())
      expect(parentOf(named(`GET /stock #${index + 1}`))).toBe(idOf(attempt));
    expect(attempts[0]?.events.map((event) => event.name)).toEqual(['exception']);
    // the retries are the call's events, on the checkout span, not on the attempt that failed
    expect(checkout.events.map((event) => event.name)).toEqual([
      'steadfast.retry',
      'steadfast.retry',
    ]);
    expect(attempts.every((span) => span.ended)).toBe(true);
  });

  it('with attemptSpans, nests a decorated call made inside an attempt under that attempt', async () => {
    const h = useHarness();
    const inner = warehouse(`otel-trace-inner-${decoratorMode}`, 1);
    class Orders {
      @Idempotent()
      @Retryable({ maxAttempts: 2, initialDelay: 10 })
      async place(): Promise<number> {
        return inner.stock();
      }
    }
    const orders = new Orders();
    stop = instrument({ tracerProvider: traces.tracerProvider, attemptSpans: true });

    await tracer.startActiveSpan('request', async (span) => {
      expect(await settled(h, orders.place())).toBe(12);
      span.end();
    });

    const attempts = traces.spans().filter((span) => span.name === 'steadfast.attempt');
    const outer = attempts.filter((span) => span.attributes['steadfast.method'] === 'Orders.place');
    const nested = attempts.filter(
      (span) => span.attributes['steadfast.method'] === 'Warehouse.stock',
    );
    expect(outer).toHaveLength(1);
    expect(parentOf(outer[0] as ReadableSpan)).toBe(idOf(named('request')));
    expect(nested.map((span) => span.attributes['retry.attempt'])).toEqual([1, 2]);
    for (const span of nested) expect(parentOf(span)).toBe(idOf(outer[0] as ReadableSpan));
  });

  it('adds nothing where no span is active, and makes attempt spans roots there', async () => {
    const h = useHarness();
    const service = warehouse(`otel-trace-root-${decoratorMode}`, 1);
    stop = instrument({ tracerProvider: traces.tracerProvider, attemptSpans: true });

    expect(trace.getSpan(context.active())).toBeUndefined();
    expect(await settled(h, service.stock())).toBe(12);
    const attempts = traces.spans().filter((span) => span.name === 'steadfast.attempt');
    expect(attempts.map((span) => parentOf(span))).toEqual([undefined, undefined]);
  });
});
