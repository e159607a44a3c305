import { configure, CircuitBreaker, defaultEngine, Idempotent, MemoryStore } from '../src';
import { RedisStore } from '../src/redis';
import { useHarness, decoratorMode } from './support/harness';
import { RedisServer } from './support/redis-server';
import { describeWithRedis } from './support/describe-with-redis';

describeWithRedis(`RedisStore smoke (${decoratorMode})`, () => {
  let server: RedisServer;
  let store: RedisStore;
  beforeAll(async () => {
    server = await RedisServer.start();
    store = new RedisStore(server.url);
  });
  afterAll(async () => {
    configure({ store: new MemoryStore() });
    await store.close();
    await server.stop();
  });

  it('runs a keyed body once and replays it from Redis', async () => {
    useHarness();
    configure({ store });
    let runs = 0;
    class Orders {
      @Idempotent({ key: (id: string) => id })
      async create(id: string): Promise<{ id: string; n: number }> {
        runs++;
        return { id, n: runs };
      }
    }
    const orders = new Orders();
    expect(await orders.create('o-1')).toEqual({ id: 'o-1', n: 1 });
    expect(await orders.create('o-1')).toEqual({ id: 'o-1', n: 1 });
    expect(runs).toBe(1);
  });

  it('opens a shared breaker through Redis', async () => {
    const h = useHarness();
    configure({ store });
    class Api {
      @CircuitBreaker({ name: `redis-smoke-${decoratorMode}`, consecutiveFailures: 2 })
      async call(): Promise<void> {
        throw new Error('down');
      }
    }
    const api = new Api();
    await api.call().catch(() => undefined);
    await api.call().catch(() => undefined);
    // Outcomes go to Redis in a batch; wait for the batch's reply (real time: the store's timer).
    for (
      let i = 0;
      i < 50 && defaultEngine.breaker(`redis-smoke-${decoratorMode}`).state !== 'open';
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(defaultEngine.breaker(`redis-smoke-${decoratorMode}`).state).toBe('open');
    expect(h.events('stateChange').at(-1)?.to).toBe('open');
  });
});
