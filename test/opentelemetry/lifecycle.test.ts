import { metrics as globalMetrics, trace } from '@opentelemetry/api';
import {
  CircuitBreaker,
  ConfigError,
  configure,
  defaultEngine,
  Idempotent,
  Retryable,
} from '../../src';
import { FakeClock } from '../../src/testing';
import { instrument } from '../../src/opentelemetry';
import { decoratorMode } from '../support/harness';
import { metricsHarness, tracesHarness, type Metrics, type Traces } from './support/otel';

/** A method that fails once, then succeeds: a retry, a success, a breaker in use. */
function flakyService(breaker: string) {
  class Catalog {
    runs = 0;
    @Idempotent()
    @Retryable({ maxAttempts: 2, initialDelay: 0 })
    @CircuitBreaker({ name: breaker, consecutiveFailures: 10 })
    async item(): Promise<string> {
      if (++this.runs % 2 === 1) throw new Error('flaky');
      return 'kettle';
    }
  }
  return new Catalog();
}

describe(`instrument(): starting and stopping (${decoratorMode} decorators)`, () => {
  let metrics: Metrics;
  let traces: Traces;

  beforeEach(() => {
    // No harness: it listens to every event, and this file checks who listens.
    configure({ clock: new FakeClock(0), logger: false });
    metrics = metricsHarness();
    traces = tracesHarness();
  });
  afterEach(async () => {
    await metrics.shutdown();
    await traces.shutdown();
  });

  const callUnderSpan = (service: { item(): Promise<string> }) =>
    traces.tracerProvider.getTracer('test').startActiveSpan('request', async (span) => {
      const result = await service.item();
      span.end();
      return result;
    });

  it('reports nothing, and listens to nothing, without instrument()', async () => {
    const service = flakyService(`otel-none-${decoratorMode}`);
    await expect(callUnderSpan(service)).resolves.toBe('kettle');

    expect(await metrics.collectAll()).toEqual([]);
    expect(traces.spans().map((span) => [span.name, span.events])).toEqual([['request', []]]);
    expect(defaultEngine.events.timesCalls).toBe(false);
    expect(defaultEngine.events.has('retry')).toBe(false);
    expect(defaultEngine.attemptTracer).toBeUndefined();
  });

  it('stops everything when the function it returned is called: listeners, gauges, attempt spans', async () => {
    const breaker = `otel-stop-${decoratorMode}`;
    const service = flakyService(breaker);
    const stop = instrument({
      meterProvider: metrics.meterProvider,
      tracerProvider: traces.tracerProvider,
      attemptSpans: true,
    });
    await expect(callUnderSpan(service)).resolves.toBe('kettle');
    // counted since the last collection: handed to the counters when stopped
    await expect(callUnderSpan(service)).resolves.toBe('kettle');
    const before = await metrics.collect();
    expect(before.get('steadfast.calls')?.points.map((point) => point.value)).toEqual([2]);
    expect(defaultEngine.events.timesCalls).toBe(true);
    await expect(callUnderSpan(service)).resolves.toBe('kettle');

    stop();
    stop(); // a second call does nothing
    const spansBefore = traces.spans().length;
    await expect(callUnderSpan(service)).resolves.toBe('kettle');
    defaultEngine.breaker(breaker).isolate();

    const after = await metrics.collect();
    // the call before stop() is there, the one after it is not
    expect(after.get('steadfast.calls')?.points.map((point) => point.value)).toEqual([3]);
    expect(after.get('steadfast.retries')?.points.map((point) => point.value)).toEqual([3]);
    // the gauges' callback is gone: the breaker isolated since is not observed (the SDK keeps
    // exporting the last observation of a cumulative gauge)
    const state = (name: string) =>
      after
        .get('steadfast.circuit_breaker.state')
        ?.points.find(
          (point) =>
            point.attributes['circuitbreaker.name'] === breaker &&
            point.attributes['circuitbreaker.state'] === name,
        )?.value;
    expect([state('closed'), state('isolated')]).toEqual([1, 0]);
    for (const name of ['retry', 'success', 'failure', 'stateChange', 'rejected'] as const)
      expect([name, defaultEngine.events.has(name)]).toEqual([name, false]);
    expect(defaultEngine.attemptTracer).toBeUndefined();
    // the call after stop() made its request span only: no attempt span, no event
    const newSpans = traces.spans().slice(spansBefore);
    expect(newSpans.map((span) => [span.name, span.events])).toEqual([['request', []]]);

    // and the engine can be instrumented again
    instrument({ meterProvider: metrics.meterProvider })();
    defaultEngine.breaker(breaker).reset();
  });

  it('refuses a second instrument() of one engine while the first runs', () => {
    const stop = instrument({ meterProvider: metrics.meterProvider });
    try {
      expect(() => instrument({ meterProvider: metrics.meterProvider })).toThrow(ConfigError);
      expect(defaultEngine.events.has('retry')).toBe(true);
    } finally {
      stop();
    }
    expect(defaultEngine.events.has('retry')).toBe(false);
  });

  it('reports to the global providers when none are given', async () => {
    const service = flakyService(`otel-global-${decoratorMode}`);
    trace.setGlobalTracerProvider(traces.tracerProvider);
    globalMetrics.setGlobalMeterProvider(metrics.meterProvider);
    const stop = instrument({ attemptSpans: true });
    try {
      await expect(callUnderSpan(service)).resolves.toBe('kettle');
    } finally {
      stop();
      globalMetrics.disable();
    }
    const calls = (await metrics.collect()).get('steadfast.calls');
    expect(
      calls?.points.map((point) => [point.attributes['steadfast.outcome'], point.value]),
    ).toEqual([['success', 1]]);
    const attempts = traces.spans().filter((span) => span.name === 'steadfast.attempt');
    expect(attempts.map((span) => span.instrumentationScope.name)).toEqual([
      'steadfast',
      'steadfast',
    ]);
    expect(attempts[0]?.instrumentationScope.version).toBe(
      (require('../../package.json') as { version: string }).version,
    );
  });

  it.each([
    [{ colour: 'blue' }, "option 'colour' is not a known option"],
    [{ engine: {} }, "option 'engine' must be a ResilienceEngine"],
    [
      { meterProvider: { getTracer: () => undefined } },
      "option 'meterProvider' must be a MeterProvider",
    ],
    [{ tracerProvider: 42 }, "option 'tracerProvider' must be a TracerProvider"],
    [{ attemptSpans: 'yes' }, "option 'attemptSpans' must be a boolean"],
  ])('refuses %j with a ConfigError naming the option', (options, message) => {
    const call = () => instrument(options as never);
    expect(call).toThrow(ConfigError);
    expect(call).toThrow(message);
    expect(defaultEngine.events.has('retry')).toBe(false);
  });

  it('refuses options that are not an object', () => {
    expect(() => instrument(null as never)).toThrow(ConfigError);
  });
});
