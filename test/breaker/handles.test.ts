import {
  CircuitBreaker,
  configure,
  defaultEngine,
  MemoryStore,
  type CircuitBreakerMetrics,
} from '../../src';
import { RedisStore } from '../../src/redis';
import { resolveBreakerSettings } from '../../src/runtime/breaker/breaker-options';
import { describeWithRedis } from '../support/describe-with-redis';
import { decoratorMode, useHarness, type Harness } from '../support/harness';
import { RedisServer } from '../support/redis-server';
import {
  breakerNamed,
  DownstreamError,
  refusalOf,
  rejectionOf,
  settle,
  uniqueCircuit,
} from './support';

const START = 1_000_000; // where the harness's FakeClock starts

/** A service that fails or succeeds as told, behind a breaker that opens on 3 failures in a row. */
function switchableService(name: string) {
  let runs = 0;
  class Catalog {
    @CircuitBreaker({ name, consecutiveFailures: 3, openDuration: 1_000 })
    async lookup(fails: boolean): Promise<string> {
      runs++;
      if (fails) throw new DownstreamError('catalog down');
      return 'found';
    }
  }
  return { catalog: new Catalog(), runs: () => runs };
}

describe(`circuit breaker handles (${decoratorMode} decorators)`, () => {
  describe('isolate()', () => {
    it('refuses every call as isolated, however long it waits, until reset()', async () => {
      const h = useHarness();
      const name = uniqueCircuit('isolate');
      const { catalog, runs } = switchableService(name);
      await catalog.lookup(false);

      breakerNamed(name).isolate();
      expect(breakerNamed(name).state).toBe('isolated');
      const refusal = await refusalOf(catalog.lookup(false));
      expect(refusal.state).toBe('isolated');
      expect(refusal.circuit).toBe(name);
      expect(refusal.retryAfter).toBe(Number.POSITIVE_INFINITY);

      await h.clock.advance(24 * 3_600_000);
      expect((await refusalOf(catalog.lookup(false))).state).toBe('isolated');
      expect(breakerNamed(name).metrics()).toMatchObject({ state: 'isolated', rejected: 2 });
      expect(runs()).toBe(1);

      breakerNamed(name).reset();
      await expect(catalog.lookup(false)).resolves.toBe('found');
      expect(runs()).toBe(2);
      expect(h.events('stateChange')).toEqual([
        { circuit: name, from: 'closed', to: 'isolated', reason: 'isolated by hand' },
        { circuit: name, from: 'isolated', to: 'closed', reason: 'reset by hand' },
      ]);
    });

    it('holds an open breaker open past its openDuration, with no trial calls', async () => {
      const h = useHarness();
      const name = uniqueCircuit('isolate-open');
      const { catalog, runs } = switchableService(name);
      for (let i = 0; i < 3; i++) await rejectionOf(catalog.lookup(true));
      expect(breakerNamed(name).state).toBe('open');

      breakerNamed(name).isolate();
      await h.clock.advance(5_000);

      expect((await refusalOf(catalog.lookup(false))).state).toBe('isolated');
      expect(breakerNamed(name).state).toBe('isolated');
      expect(runs()).toBe(3);
    });
  });

  describe('reset()', () => {
    it('closes an open breaker at once, before its openDuration has passed', async () => {
      const h = useHarness();
      const name = uniqueCircuit('reset-open');
      const { catalog } = switchableService(name);
      for (let i = 0; i < 3; i++) await rejectionOf(catalog.lookup(true));

      breakerNamed(name).reset();

      expect(breakerNamed(name).state).toBe('closed');
      await expect(catalog.lookup(false)).resolves.toBe('found');
      expect(h.events('stateChange').map(({ from, to }) => `${from}->${to}`)).toEqual([
        'closed->open',
        'open->closed',
      ]);
    });

    it('clears the history, so earlier failures no longer count toward opening', async () => {
      useHarness();
      const name = uniqueCircuit('reset-history');
      const { catalog } = switchableService(name);
      await rejectionOf(catalog.lookup(true));
      await rejectionOf(catalog.lookup(true));
      expect(breakerNamed(name).metrics()).toMatchObject({
        calls: 2,
        failures: 2,
        consecutiveFailures: 2,
      });

      breakerNamed(name).reset();
      expect(breakerNamed(name).metrics()).toMatchObject({
        state: 'closed',
        calls: 0,
        failures: 0,
        consecutiveFailures: 0,
        failureRate: 0,
        rejected: 0,
      });

      await rejectionOf(catalog.lookup(true));
      await rejectionOf(catalog.lookup(true));
      expect(breakerNamed(name).state).toBe('closed');
      await rejectionOf(catalog.lookup(true));
      expect(breakerNamed(name).state).toBe('open');
    });
  });

  describe('metrics()', () => {
    it('reports every figure after a known sequence of fast, slow, failed and refused calls', async () => {
      const h = useHarness();
      const name = uniqueCircuit('metrics');
      class Search {
        @CircuitBreaker({
          name,
          failureRate: { threshold: 1, window: { type: 'count', size: 10 }, minimumCalls: 10 },
          slowCall: { duration: 50, rateThreshold: 1 },
        })
        async query(ms: number, fails: boolean): Promise<string> {
          await h.clock.sleep(ms);
          if (fails) throw new DownstreamError('search down');
          return 'results';
        }
      }
      const search = new Search();
      const call = async (ms: number, fails: boolean) => {
        const outcome = settle(search.query(ms, fails));
        await h.clock.advance(ms);
        return outcome;
      };

      await call(0, false);
      await call(10, true);
      await call(80, false);
      await call(80, true);
      await call(50, false);

      expect(breakerNamed(name).metrics()).toEqual({
        name,
        state: 'closed',
        since: START,
        calls: 5,
        failures: 2,
        slowCalls: 2,
        failureRate: 0.4,
        slowCallRate: 0.4,
        consecutiveFailures: 0,
        rejected: 0,
        openings: 0,
        trialCalls: 0,
      });

      await h.clock.advance(1_000);
      breakerNamed(name).isolate();
      await refusalOf(search.query(0, false));
      await refusalOf(search.query(0, false));
      expect(breakerNamed(name).metrics()).toEqual({
        name,
        state: 'isolated',
        since: START + 220 + 1_000,
        calls: 0,
        failures: 0,
        slowCalls: 0,
        failureRate: 0,
        slowCallRate: 0,
        consecutiveFailures: 0,
        rejected: 2,
        openings: 0,
        trialCalls: 0,
      });
    });

    it('names the breaker, first: its declared name (per instance too), else Class.method', async () => {
      useHarness();
      const name = uniqueCircuit('metrics-name');
      const perInstance = uniqueCircuit('metrics-name-per-instance');
      class NamedStock {
        @CircuitBreaker({ name })
        async count(): Promise<number> {
          return 1;
        }

        @CircuitBreaker()
        async reserve(): Promise<string> {
          return 'reserved';
        }

        @CircuitBreaker({ name: perInstance, scope: 'instance' })
        async hold(): Promise<string> {
          return 'held';
        }
      }
      const stock = new NamedStock();
      await stock.count();
      // In standard decorator mode the class name (and so the default name) is learnt at the first call.
      await stock.reserve();
      await stock.hold();

      const metrics = breakerNamed(name).metrics();
      expect(Object.keys(metrics)[0]).toBe('name');
      expect(metrics.name).toBe(name);
      expect(breakerNamed('NamedStock.reserve').metrics().name).toBe('NamedStock.reserve');
      expect(defaultEngine.breaker(perInstance, stock).metrics().name).toBe(perInstance);
    });
  });

  describe('defaultEngine.breakers()', () => {
    it('lists the class-scoped breakers that have been used, and no others', async () => {
      useHarness();
      const used = uniqueCircuit('listed-used');
      const unused = uniqueCircuit('listed-unused');
      const perInstance = uniqueCircuit('listed-per-instance');
      class Fleet {
        @CircuitBreaker({ name: used })
        async used(): Promise<string> {
          return 'used';
        }

        @CircuitBreaker({ name: unused })
        async unused(): Promise<string> {
          return 'never called';
        }

        @CircuitBreaker({ name: perInstance, scope: 'instance' })
        async perInstance(): Promise<string> {
          return 'per instance';
        }
      }
      const fleet = new Fleet();
      await fleet.used();
      await fleet.perInstance();

      const names = defaultEngine.breakers().map((handle) => handle.name);
      expect(names).toContain(used);
      expect(names).not.toContain(unused);
      expect(names).not.toContain(perInstance);
      expect(new Set(names).size).toBe(names.length);
      const listed = defaultEngine.breakers().find((handle) => handle.name === used);
      expect(listed).toBe(breakerNamed(used));
    });
  });

  describe('state changes', () => {
    async function walkThroughEveryState(h: Harness, name: string): Promise<void> {
      const { catalog } = switchableService(name);
      for (let i = 0; i < 3; i++) await rejectionOf(catalog.lookup(true));
      await h.clock.advance(1_000);
      await catalog.lookup(false);
    }

    it('emits stateChange with the circuit, from, to and the reason', async () => {
      const h = useHarness();
      const name = uniqueCircuit('state-events');
      await walkThroughEveryState(h, name);

      expect(h.events('stateChange')).toEqual([
        { circuit: name, from: 'closed', to: 'open', reason: '3 consecutive failures' },
        { circuit: name, from: 'open', to: 'half-open', reason: 'openDuration elapsed' },
        { circuit: name, from: 'half-open', to: 'closed', reason: 'all trial calls succeeded' },
      ]);
    });

    it('logs each change at warn level, naming the circuit', async () => {
      const h = useHarness();
      const name = uniqueCircuit('state-logged');
      await walkThroughEveryState(h, name);

      const changes = h.logger.entries.filter((entry) => entry.fields.circuit === name);
      expect(changes.map((entry) => entry.level)).toEqual(['warn', 'warn', 'warn']);
      expect(changes.map((entry) => [entry.fields.from, entry.fields.to])).toEqual([
        ['closed', 'open'],
        ['open', 'half-open'],
        ['half-open', 'closed'],
      ]);
      for (const entry of changes) {
        expect(entry.message).toContain(name);
        expect(entry.message).toContain(`${entry.fields.from as string}`);
        expect(entry.message).toContain(`${entry.fields.to as string}`);
      }
    });
  });
});

/** The breaker's metrics once `done` holds of them, or as they are after `timeout` ms (real time: a fleet's batches). */
async function metricsOnce(
  name: string,
  done: (metrics: CircuitBreakerMetrics) => boolean,
  timeout: number,
): Promise<CircuitBreakerMetrics> {
  const deadline = Date.now() + timeout;
  let metrics = breakerNamed(name).metrics();
  while (!done(metrics) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    metrics = breakerNamed(name).metrics();
  }
  return metrics;
}

describeWithRedis(`a fleet breaker's handle (${decoratorMode} decorators)`, () => {
  let server: RedisServer;
  const stores: RedisStore[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    configure({ store: new MemoryStore() });
    await server.stop();
  });

  it('names the breaker in metrics(), first, beside the fleet’s counts (another process’s included)', async () => {
    useHarness();
    const storeA = new RedisStore(server.url);
    const storeB = new RedisStore(server.url);
    stores.push(storeA, storeB);
    configure({ store: storeA });
    const name = uniqueCircuit('fleet-metrics');
    const { catalog } = switchableService(name);
    await catalog.lookup(false);
    await rejectionOf(catalog.lookup(true));

    // Process B (another store: another process) fails one call; its breaker made as the engine makes one.
    const settings = resolveBreakerSettings(
      { consecutiveFailures: 3, openDuration: 1_000 },
      undefined,
    );
    const silent = { enabled: false, warn: () => undefined, error: () => undefined };
    const inB = storeB.createBreaker(
      name,
      settings,
      () => Date.now(),
      { stateChanged: () => undefined },
      silent,
    );
    inB.failed(await inB.acquireAsync(), new DownstreamError('catalog down'), 0);
    await storeB.close(); // sends B's batch

    // A learns the fleet's window from the reply to its next batch (within flushInterval, 25 ms).
    await catalog.lookup(false);
    const metrics = await metricsOnce(name, (seen) => seen.calls === 4, 3_000);
    expect(Object.keys(metrics)[0]).toBe('name');
    expect(metrics).toMatchObject({ name, state: 'closed', calls: 4, failures: 2 });
  }, 10_000);
});
