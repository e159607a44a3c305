import { CircuitBreaker, configure, MemoryStore } from '../../src';
import { instrument } from '../../src/opentelemetry';
import { RedisStore } from '../../src/redis';
import { resolveBreakerSettings } from '../../src/runtime/breaker/breaker-options';
import { systemClock } from '../../src/runtime/clock';
import { decoratorMode, useHarness } from '../support/harness';
import { RedisServer } from '../support/redis-server';
import { describeWithRedis } from '../support/describe-with-redis';
import { metricsHarness, type Metrics } from './support/otel';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Real time on a real redis-server: the opening comes from another store (another process).
describeWithRedis(
  `instrument(): a fleet breaker's state gauge (${decoratorMode} decorators)`,
  () => {
    let server: RedisServer;
    let metrics: Metrics;
    const stores: RedisStore[] = [];

    beforeAll(async () => {
      server = await RedisServer.start();
    });
    afterAll(async () => {
      configure({ store: new MemoryStore() });
      await Promise.all(stores.map((store) => store.close()));
      await server.stop();
    });

    it("reads the fleet's state as this process sees it: open once another process opened it", async () => {
      useHarness();
      configure({ clock: systemClock });
      metrics = metricsHarness();
      const name = `otel-fleet-${decoratorMode}`;
      const here = new RedisStore(server.url);
      const there = new RedisStore(server.url);
      stores.push(here, there);
      configure({ store: here });
      class Stock {
        @CircuitBreaker({ name, consecutiveFailures: 2, openDuration: 60_000 })
        async read(): Promise<string> {
          return 'ok';
        }
      }
      const mine = new Stock();
      // The other process's breaker, made as its engine makes one: on a store of its own.
      const settings = resolveBreakerSettings(
        { consecutiveFailures: 2, openDuration: 60_000 },
        undefined,
      );
      const silent = { enabled: false, warn: () => undefined, error: () => undefined };
      const observer = { stateChanged: () => undefined };
      const theirs = there.createBreaker(name, settings, () => Date.now(), observer, silent);
      const stop = instrument({ meterProvider: metrics.meterProvider });
      try {
        const states = async () =>
          Object.fromEntries(
            ((await metrics.collect()).get('steadfast.circuit_breaker.state')?.points ?? [])
              .filter((point) => point.attributes['circuitbreaker.name'] === name)
              .map((point) => [point.attributes['circuitbreaker.state'], point.value]),
          );
        await expect(mine.read()).resolves.toBe('ok');
        expect(await states()).toEqual({ closed: 1, open: 0, 'half-open': 0, isolated: 0 });

        // The other process opens the fleet's breaker; this one learns of it by pub/sub.
        await pause(100);
        for (let failures = 0; failures < 2; failures++)
          theirs.failed(await theirs.acquireAsync(), new Error('down'), 0);
        let seen: Record<string, unknown> = {};
        for (let tries = 0; tries < 50 && seen.open !== 1; tries++) {
          await pause(20);
          seen = await states();
        }
        expect(seen).toEqual({ closed: 0, open: 1, 'half-open': 0, isolated: 0 });
        // This process made no failing call: its breaker is open because the fleet's is.
        await expect(mine.read()).rejects.toMatchObject({ code: 'STEADFAST_CIRCUIT_OPEN' });
      } finally {
        stop();
        await metrics.shutdown();
      }
    });
  },
);
