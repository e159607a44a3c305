import { InstrumentType } from '@opentelemetry/sdk-metrics';
import { CircuitBreaker, defaultEngine, Idempotent, Retryable } from '../../src';
import { instrument } from '../../src/opentelemetry';
import { decoratorMode, useHarness } from '../support/harness';
import { deferred } from '../support/deferred';
import { rejectionOf, resultOf } from '../runtime/support/services';
import { metricsHarness, sortedPoints, type Metrics } from './support/otel';

class InventoryError extends Error {}

/** A dependency call: retried 3 times, behind a breaker that opens after 3 failures in a row. */
function inventoryService(breaker: string) {
  class Inventory {
    failing = false;
    @Idempotent()
    @Retryable({ maxAttempts: 3, initialDelay: 10, multiplier: 2, jitter: 'none' })
    @CircuitBreaker({ name: breaker, consecutiveFailures: 3, openDuration: 60_000 })
    async stock(): Promise<number> {
      if (this.failing) throw new InventoryError('inventory down');
      return 12;
    }

    @CircuitBreaker({ consecutiveFailures: 100 })
    async reset(): Promise<void> {
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }
  }
  return new Inventory();
}

/** A keyed call whose body waits for the test, so a duplicate can join it while it runs. */
function paymentService() {
  const gate = deferred<string>();
  class Payments {
    runs = 0;
    @Idempotent({ key: (id: string) => id })
    @Retryable({ maxAttempts: 2, initialDelay: 10 })
    async charge(id: string): Promise<string> {
      this.runs++;
      return `${id}:${await gate.promise}`;
    }
  }
  return { payments: new Payments(), gate };
}

describe(`instrument(): metrics (${decoratorMode} decorators)`, () => {
  let metrics: Metrics;
  let stop: (() => void) | undefined;

  beforeEach(() => {
    metrics = metricsHarness();
  });
  afterEach(async () => {
    stop?.();
    stop = undefined;
    await metrics.shutdown();
  });

  it('reports every call once, retries, the breaker and deduplicated calls, with their names, kinds, units and attributes', async () => {
    const h = useHarness();
    const breaker = `otel-inventory-${decoratorMode}`;
    const inventory = inventoryService(breaker);
    const { payments, gate } = paymentService();
    stop = instrument({ meterProvider: metrics.meterProvider });

    // two successes
    await expect(resultOf(h.clock, inventory.stock())).resolves.toBe(12);
    await expect(resultOf(h.clock, inventory.stock())).resolves.toBe(12);
    // a call exhausted after 3 attempts (delays 10 and 20 ms): its third failure opens the breaker
    inventory.failing = true;
    await expect(rejectionOf(h.clock, inventory.stock())).resolves.toBeInstanceOf(InventoryError);
    // two calls refused by the open breaker
    for (let i = 0; i < 2; i++)
      await expect(rejectionOf(h.clock, inventory.stock())).resolves.toMatchObject({
        code: 'STEADFAST_CIRCUIT_OPEN',
      });
    // an error with a code: error.type is the code
    await expect(rejectionOf(h.clock, inventory.reset())).resolves.toMatchObject({
      code: 'ECONNRESET',
    });
    // a keyed call, a duplicate that joins it while it runs, and one replayed from its record
    const first = payments.charge('order-1');
    const joined = payments.charge('order-1');
    gate.resolve('paid');
    await expect(resultOf(h.clock, first)).resolves.toBe('order-1:paid');
    await expect(joined).resolves.toBe('order-1:paid');
    await expect(resultOf(h.clock, payments.charge('order-1'))).resolves.toBe('order-1:paid');
    expect(payments.runs).toBe(1);

    const collected = await metrics.collect();
    const stock = `Inventory.stock`;
    const reset = `Inventory.reset`;
    const charge = `Payments.charge`;
    const ours = (name: string) => {
      const metric = collected.get(name);
      return metric === undefined ? undefined : { ...metric, points: sortedPoints(metric) };
    };

    expect(ours('steadfast.calls')).toEqual({
      name: 'steadfast.calls',
      type: InstrumentType.COUNTER,
      unit: '{call}',
      points: sortedPoints({
        name: '',
        type: InstrumentType.COUNTER,
        unit: '',
        points: [
          { attributes: { 'steadfast.method': stock, 'steadfast.outcome': 'success' }, value: 2 },
          {
            attributes: {
              'steadfast.method': stock,
              'steadfast.outcome': 'failure',
              'error.type': 'InventoryError',
            },
            value: 1,
          },
          { attributes: { 'steadfast.method': stock, 'steadfast.outcome': 'rejected' }, value: 2 },
          {
            attributes: {
              'steadfast.method': reset,
              'steadfast.outcome': 'failure',
              'error.type': 'ECONNRESET',
            },
            value: 1,
          },
          { attributes: { 'steadfast.method': charge, 'steadfast.outcome': 'success' }, value: 1 },
          {
            attributes: { 'steadfast.method': charge, 'steadfast.outcome': 'deduplicated' },
            value: 2,
          },
        ],
      }),
    });

    // Durations on the engine's (fake) clock, in seconds: the exhausted call slept 10 + 20 ms.
    // A joined call has no duration of its own: only the replayed one is timed.
    expect(ours('steadfast.call.duration')).toEqual({
      name: 'steadfast.call.duration',
      type: InstrumentType.HISTOGRAM,
      unit: 's',
      points: sortedPoints({
        name: '',
        type: InstrumentType.HISTOGRAM,
        unit: '',
        points: [
          {
            attributes: { 'steadfast.method': stock, 'steadfast.outcome': 'success' },
            value: 2,
            sum: 0,
          },
          {
            attributes: { 'steadfast.method': stock, 'steadfast.outcome': 'failure' },
            value: 1,
            sum: 0.03,
          },
          {
            attributes: { 'steadfast.method': stock, 'steadfast.outcome': 'rejected' },
            value: 2,
            sum: 0,
          },
          {
            attributes: { 'steadfast.method': reset, 'steadfast.outcome': 'failure' },
            value: 1,
            sum: 0,
          },
          {
            attributes: { 'steadfast.method': charge, 'steadfast.outcome': 'success' },
            value: 1,
            sum: 0,
          },
          {
            attributes: { 'steadfast.method': charge, 'steadfast.outcome': 'deduplicated' },
            value: 1,
            sum: 0,
          },
        ],
      }),
    });

    expect(ours('steadfast.retries')).toEqual({
      name: 'steadfast.retries',
      type: InstrumentType.COUNTER,
      unit: '{retry}',
      points: [{ attributes: { 'steadfast.method': stock }, value: 2 }],
    });
    expect(ours('steadfast.circuit_breaker.transitions')).toEqual({
      name: 'steadfast.circuit_breaker.transitions',
      type: InstrumentType.COUNTER,
      unit: '{transition}',
      points: [
        {
          attributes: { 'circuitbreaker.name': breaker, 'circuitbreaker.state': 'open' },
          value: 1,
        },
      ],
    });
    expect(ours('steadfast.circuit_breaker.rejected')).toEqual({
      name: 'steadfast.circuit_breaker.rejected',
      type: InstrumentType.COUNTER,
      unit: '{call}',
      points: [{ attributes: { 'circuitbreaker.name': breaker }, value: 2 }],
    });
    expect(ours('steadfast.idempotency.deduplicated')).toEqual({
      name: 'steadfast.idempotency.deduplicated',
      type: InstrumentType.COUNTER,
      unit: '{call}',
      points: sortedPoints({
        name: '',
        type: InstrumentType.COUNTER,
        unit: '',
        points: [
          {
            attributes: { 'steadfast.method': charge, 'steadfast.idempotency.how': 'joined' },
            value: 1,
          },
          {
            attributes: { 'steadfast.method': charge, 'steadfast.idempotency.how': 'replayed' },
            value: 1,
          },
        ],
      }),
    });
    const state = ours('steadfast.circuit_breaker.state');
    expect(state?.type).toBe(InstrumentType.OBSERVABLE_GAUGE);
    expect(
      state?.points.filter((point) => point.attributes['circuitbreaker.name'] === breaker),
    ).toEqual(
      sortedPoints({
        name: '',
        type: InstrumentType.OBSERVABLE_GAUGE,
        unit: '',
        points: ['closed', 'open', 'half-open', 'isolated'].map((value) => ({
          attributes: { 'circuitbreaker.name': breaker, 'circuitbreaker.state': value },
          value: value === 'open' ? 1 : 0,
        })),
      }),
    );
    // Every call counted once: 2 + 1 + 2 + 1 + 1 + 2 calls made.
    const calls = ours('steadfast.calls')?.points ?? [];
    expect(calls.reduce((total, point) => total + point.value, 0)).toBe(9);
    expect(h.events('failure')).toHaveLength(4);
  });

  it('reads the breaker state gauge at each collection: 1 for the state it is in now, 0 for the others', async () => {
    const h = useHarness();
    const breaker = `otel-gauge-${decoratorMode}`;
    const inventory = inventoryService(breaker);
    stop = instrument({ meterProvider: metrics.meterProvider });
    const states = async () =>
      Object.fromEntries(
        ((await metrics.collect()).get('steadfast.circuit_breaker.state')?.points ?? [])
          .filter((point) => point.attributes['circuitbreaker.name'] === breaker)
          .map((point) => [point.attributes['circuitbreaker.state'], point.value]),
      );

    await resultOf(h.clock, inventory.stock());
    expect(await states()).toEqual({ closed: 1, open: 0, 'half-open': 0, isolated: 0 });
    defaultEngine.breaker(breaker).isolate();
    expect(await states()).toEqual({ closed: 0, open: 0, 'half-open': 0, isolated: 1 });
    defaultEngine.breaker(breaker).reset();
    inventory.failing = true;
    await rejectionOf(h.clock, inventory.stock());
    expect(await states()).toEqual({ closed: 0, open: 1, 'half-open': 0, isolated: 0 });
    await h.clock.advance(60_000);
    expect(await states()).toEqual({ closed: 0, open: 0, 'half-open': 1, isolated: 0 });
  });

  it('counts across collections: each count reaches the counter once (cumulative sums grow, never double)', async () => {
    const h = useHarness();
    const inventory = inventoryService(`otel-twice-${decoratorMode}`);
    stop = instrument({ meterProvider: metrics.meterProvider });
    const successes = async () =>
      (await metrics.collect())
        .get('steadfast.calls')
        ?.points.find((point) => point.attributes['steadfast.outcome'] === 'success')?.value;

    await resultOf(h.clock, inventory.stock());
    expect(await successes()).toBe(1);
    expect(await successes()).toBe(1);
    await resultOf(h.clock, inventory.stock());
    await resultOf(h.clock, inventory.stock());
    expect(await successes()).toBe(3);
  });
  it('counts the calls of a method whose only decorator is @Idempotent(), under success and failure', async () => {
    useHarness();
    class Ledger {
      @Idempotent()
      async read(fail: boolean): Promise<string> {
        if (fail) throw new InventoryError('down');
        return 'ok';
      }
    }
    const ledger = new Ledger();
    stop = instrument({ meterProvider: metrics.meterProvider });
    await expect(ledger.read(false)).resolves.toBe('ok');
    await expect(ledger.read(false)).resolves.toBe('ok');
    await expect(ledger.read(true)).rejects.toBeInstanceOf(InventoryError);

    const calls = (await metrics.collect()).get('steadfast.calls');
    expect(
      sortedPoints(calls).filter((point) => point.attributes['steadfast.method'] === 'Ledger.read'),
    ).toEqual([
      {
        attributes: {
          'steadfast.method': 'Ledger.read',
          'steadfast.outcome': 'failure',
          'error.type': 'InventoryError',
        },
        value: 1,
      },
      {
        attributes: { 'steadfast.method': 'Ledger.read', 'steadfast.outcome': 'success' },
        value: 2,
      },
    ]);
  });
});
