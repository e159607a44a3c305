import Redis from 'ioredis';
import { CircuitBreaker, CircuitOpenError, configure, MemoryStore } from '../../src';
import { RedisStore } from '../../src/redis';
import { resolveBreakerSettings } from '../../src/runtime/breaker/breaker-options';
import { decoratorMode, useHarness } from '../support/harness';
import { RedisServer } from '../support/redis-server';
import { describeWithRedis } from '../support/describe-with-redis';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describeWithRedis(`a breaker whose process subscribes late (${decoratorMode} decorators)`, () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  const stores: RedisStore[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    for (const client of clients) client.disconnect();
    configure({ store: new MemoryStore() });
    await server.stop();
  });

  it('reads the fleet’s state again once its subscription is in place, so an opening published meanwhile is not missed', async () => {
    useHarness();
    const name = `late-subscriber-${decoratorMode}`;
    // Process A's subscriber connection answers its SUBSCRIBE only after 1 500 ms, as on a slow network.
    const clientA = new Redis(server.url);
    const duplicate = clientA.duplicate.bind(clientA);
    let subscribed!: () => void;
    const subscriptionInPlace = new Promise<void>((resolve) => (subscribed = resolve));
    clientA.duplicate = ((...args: Parameters<typeof duplicate>) => {
      const subscriber = duplicate(...args);
      const subscribe = subscriber.subscribe.bind(subscriber) as (
        channel: string,
      ) => Promise<unknown>;
      subscriber.subscribe = ((channel: string) =>
        pause(1_500)
          .then(() => subscribe(channel))
          .finally(subscribed)) as never;
      clients.push(subscriber);
      return subscriber;
    }) as typeof clientA.duplicate;
    clients.push(clientA);
    const storeA = new RedisStore(clientA);
    const storeB = new RedisStore(server.url);
    stores.push(storeA, storeB);

    configure({ store: storeA });
    class InA {
      runs = 0;
      @CircuitBreaker({ name, consecutiveFailures: 1, openDuration: 60_000 })
      async call(fail: boolean): Promise<string> {
        this.runs++;
        if (fail) throw new Error('down');
        return 'ok';
      }
    }
    const a = new InA();
    // A's first call reads the fleet's state (closed) and starts its (slow) subscription.
    await expect(a.call(false)).resolves.toBe('ok');
    // Its outcome is sent (a success alone within 20 × flushInterval, 500 ms): from now on A learns of
    // changes only by pub/sub.
    await pause(700);

    // Meanwhile, process B (another store: another process) opens the breaker for the fleet; A is not
    // yet subscribed and misses the message. B's breaker is made as the engine makes one.
    const settings = resolveBreakerSettings(
      { consecutiveFailures: 1, openDuration: 60_000 },
      undefined,
    );
    const states: string[] = [];
    const observer = {
      stateChanged: (_breaker: unknown, _from: string, to: string) => void states.push(to),
    };
    const silent = { enabled: false, warn: () => undefined, error: () => undefined };
    const inB = storeB.createBreaker(name, settings, () => Date.now(), observer, silent);
    const permit = await inB.acquireAsync();
    inB.failed(permit, new Error('down'), 0);
    await storeB.close();
    expect(states).toContain('open');

    await subscriptionInPlace;
    await pause(50);
    const before = a.runs;
    await expect(a.call(false)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(a.runs).toBe(before);
  }, 15_000);
});
