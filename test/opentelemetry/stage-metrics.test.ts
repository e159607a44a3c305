import { InstrumentType } from '@opentelemetry/sdk-metrics';
import { Bulkhead, configure, Fallback, Hedge, Idempotent, Retryable, Timeout } from '../../src';
import { instrument } from '../../src/opentelemetry';
import { decoratorMode, useHarness } from '../support/harness';
import { deferred, type Deferred } from '../support/deferred';
import { rejectionOf, resultOf } from '../runtime/support/services';
import { metricsHarness, sortedPoints, type Metrics } from './support/otel';

class PricingError extends Error {}

describe(`instrument(): timeouts, fallbacks, bulkheads, hedges and budgets (${decoratorMode} decorators)`, () => {
  let metrics: Metrics;
  let stop: (() => void) | undefined;

  beforeEach(() => {
    metrics = metricsHarness();
  });
  afterEach(async () => {
    stop?.();
    stop = undefined;
    configure({ retryBudget: false });
    await metrics.shutdown();
  });

  const points = async (name: string) => {
    const metric = (await metrics.collect()).get(name);
    return metric === undefined
      ? undefined
      : { type: metric.type, unit: metric.unit, points: sortedPoints(metric) };
  };

  it('counts timeouts by kind, and fallbacks by the error they answered (the call counted as `fallback`)', async () => {
    const h = useHarness();
    class Pricing {
      @Timeout(100)
      async hung(): Promise<number> {
        return new Promise<number>(() => undefined);
      }

      @Fallback(() => 0)
      async quote(): Promise<number> {
        throw new PricingError('no price');
      }
    }
    const pricing = new Pricing();
    stop = instrument({ meterProvider: metrics.meterProvider });

    const hung = rejectionOf(h.clock, pricing.hung());
    await h.clock.advance(100);
    await expect(hung).resolves.toMatchObject({ code: 'STEADFAST_TIMEOUT' });
    await expect(resultOf(h.clock, pricing.quote())).resolves.toBe(0);

    expect(await points('steadfast.timeouts')).toEqual({
      type: InstrumentType.COUNTER,
      unit: '{timeout}',
      points: [
        {
          attributes: { 'steadfast.method': 'Pricing.hung', 'steadfast.timeout.kind': 'attempt' },
          value: 1,
        },
      ],
    });
    expect(await points('steadfast.fallbacks')).toEqual({
      type: InstrumentType.COUNTER,
      unit: '{call}',
      points: [
        {
          attributes: { 'steadfast.method': 'Pricing.quote', 'error.type': 'PricingError' },
          value: 1,
        },
      ],
    });
    expect((await points('steadfast.calls'))?.points).toEqual(
      sortedPoints({
        name: '',
        type: InstrumentType.COUNTER,
        unit: '',
        points: [
          {
            attributes: {
              'steadfast.method': 'Pricing.hung',
              'steadfast.outcome': 'failure',
              'error.type': 'STEADFAST_TIMEOUT',
            },
            value: 1,
          },
          {
            attributes: { 'steadfast.method': 'Pricing.quote', 'steadfast.outcome': 'fallback' },
            value: 1,
          },
        ],
      }),
    );
  });

  it('observes each bulkhead’s running and queued attempts, and counts its refusals by reason', async () => {
    const h = useHarness();
    const name = `otel-bulkhead-${decoratorMode}`;
    const gates: Deferred<string>[] = [];
    class Reports {
      @Bulkhead({ name, maxConcurrent: 1, maxQueued: 1 })
      async render(): Promise<string> {
        const gate = deferred<string>();
        gates.push(gate);
        return gate.promise;
      }
    }
    const reports = new Reports();
    stop = instrument({ meterProvider: metrics.meterProvider });

    const running = reports.render();
    const queued = reports.render();
    const refused = reports.render().catch((error: unknown) => error);
    await h.clock.flush();
    await expect(refused).resolves.toMatchObject({ code: 'STEADFAST_BULKHEAD_FULL' });
    const mine = (metric: Awaited<ReturnType<typeof points>>) =>
      metric?.points.filter((point) => point.attributes['steadfast.bulkhead.name'] === name);
    const gauge = { attributes: { 'steadfast.bulkhead.name': name } };
    const runningGauge = await points('steadfast.bulkhead.running');
    expect(runningGauge?.type).toBe(InstrumentType.OBSERVABLE_GAUGE);
    expect(runningGauge?.unit).toBe('{call}');
    expect(mine(runningGauge)).toEqual([{ ...gauge, value: 1 }]);
    expect(mine(await points('steadfast.bulkhead.queued'))).toEqual([{ ...gauge, value: 1 }]);
    expect(await points('steadfast.bulkhead.rejected')).toEqual({
      type: InstrumentType.COUNTER,
      unit: '{call}',
      points: [
        {
          attributes: { 'steadfast.bulkhead.name': name, 'steadfast.bulkhead.reason': 'full' },
          value: 1,
        },
      ],
    });

    gates[0]?.resolve('first');
    await running;
    await h.clock.flush();
    gates[1]?.resolve('second');
    await queued;
    expect(mine(await points('steadfast.bulkhead.running'))).toEqual([{ ...gauge, value: 0 }]);
    expect(mine(await points('steadfast.bulkhead.queued'))).toEqual([{ ...gauge, value: 0 }]);
  });

  it('counts hedged attempts, and retries a retry budget refused', async () => {
    const h = useHarness();
    const runs: Deferred<string>[] = [];
    class Replicas {
      @Idempotent()
      @Hedge({ delay: 50, maxExtraLoad: 1 })
      async read(): Promise<string> {
        const run = deferred<string>();
        runs.push(run);
        return run.promise;
      }

      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 10, budget: { ratio: 0, minPerSecond: 0 } })
      async write(): Promise<string> {
        throw new Error('replica down');
      }
    }
    const replicas = new Replicas();
    stop = instrument({ meterProvider: metrics.meterProvider });

    const read = replicas.read();
    await h.clock.flush();
    await h.clock.advance(50);
    expect(runs).toHaveLength(2);
    runs[1]?.resolve('from the hedge');
    await expect(read).resolves.toBe('from the hedge');
    await expect(rejectionOf(h.clock, replicas.write())).resolves.toMatchObject({
      message: 'replica down',
    });

    expect(await points('steadfast.hedges')).toEqual({
      type: InstrumentType.COUNTER,
      unit: '{hedge}',
      points: [{ attributes: { 'steadfast.method': 'Replicas.read' }, value: 1 }],
    });
    expect(await points('steadfast.retry_budget.refused')).toEqual({
      type: InstrumentType.COUNTER,
      unit: '{retry}',
      points: [{ attributes: { 'steadfast.method': 'Replicas.write' }, value: 1 }],
    });
    expect(h.events('failure').map((event) => event.reason)).toEqual(['retry-budget']);
  });
});
