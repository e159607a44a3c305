import Redis from 'ioredis';
import Redis6 from 'ioredis6';
import { createClient as createClient5 } from 'redis';
import { createClient as createClient4 } from 'redis4';
import { createClient as createClient6 } from 'redis6';
import {
  CircuitBreaker,
  CircuitOpenError,
  ConfigError,
  configure,
  Idempotent,
  MemoryStore,
} from '../../src';
import { RedisStore } from '../../src/redis';
import { clientLibraries } from '../../src/stores/redis-connection';
import {
  describeIdempotencyStoreConformance,
  describeSharedBreakerStoreConformance,
  FakeClock,
} from '../../src/testing';
import { systemClock } from '../../src/runtime/clock';
import { decoratorMode, useHarness } from '../support/harness';
import { RedisServer, valkeyServerPath } from '../support/redis-server';
import { describeWithRedis } from '../support/describe-with-redis';
import { refusalReaching, stockOn } from './support';
import { skipConformance } from './support';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What a test needs of a client: the client to pass, and how to end it once the test is done. */
interface ClientUnderTest {
  readonly client: ConstructorParameters<typeof RedisStore>[0];
  /** a command through the client itself: it still works after the store closed */
  ping(): Promise<string>;
  end(): Promise<void>;
}

type ClientKind = 'ioredis' | 'ioredis 6' | 'node-redis 6' | 'node-redis 5' | 'node-redis 4';

async function connect(kind: ClientKind, url: string): Promise<ClientUnderTest> {
  if (kind === 'ioredis' || kind === 'ioredis 6') {
    const client = kind === 'ioredis' ? new Redis(url) : new Redis6(url);
    return { client, ping: () => client.ping(), end: async () => void client.disconnect() };
  }
  const client =
    kind === 'node-redis 6'
      ? createClient6({ url })
      : kind === 'node-redis 5'
        ? createClient5({ url })
        : createClient4({ url });
  client.on('error', () => undefined);
  await client.connect();
  return {
    client,
    ping: () => client.ping(),
    end: async () => void (await client.disconnect().catch(() => undefined)),
  };
}

// 'ioredis' is ioredis 5, the version the rest of the suite runs on.
const KINDS: readonly ClientKind[] = [
  'ioredis',
  'ioredis 6',
  'node-redis 6',
  'node-redis 5',
  'node-redis 4',
];

const SERVERS: readonly string[] = ['redis-server', 'valkey-server'];
if (valkeyServerPath === undefined)
  console.log(
    'SKIPPED the clients suite on valkey-server: it is not installed (Debian 12 has no package; .ci/run installs it where the distribution has one)',
  );

// Real time on a real server: records and breakers go through it, with its clock.
describeWithRedis.each(
  SERVERS.filter((name) => name === 'redis-server' || valkeyServerPath !== undefined),
)(`RedisStore with each Redis client on %s (${decoratorMode} decorators)`, (binary) => {
  let server: RedisServer;
  const ended: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    server = await RedisServer.start({
      binary: binary === 'valkey-server' ? valkeyServerPath : undefined,
    });
  });
  afterEach(async () => {
    configure({ store: new MemoryStore() });
    while (ended.length > 0) await ended.pop()?.();
  });
  afterAll(async () => {
    await server.stop();
  });

  async function storeOn(kind: ClientKind, prefix: string): Promise<[RedisStore, ClientUnderTest]> {
    const client = await connect(kind, server.url);
    const store = new RedisStore(client.client, { prefix });
    ended.push(client.end, () => store.close());
    return [store, client];
  }

  describe.each(KINDS)('%s', (kind) => {
    // The public store contract (steadfast/testing), on Redis's clock: real time, short steps.
    const clients = new Map<RedisStore, ClientUnderTest>();
    // The store contract does not depend on the decorator mode: it runs in the legacy project only.
    (decoratorMode === 'legacy' ? describeIdempotencyStoreConformance : skipConformance)(
      'conforms to IdempotencyStore',
      {
        createStore: async () => {
          const client = await connect(kind, server.url);
          const store = new RedisStore(client.client);
          clients.set(store, client);
          return store;
        },
        disposeStore: async (store) => {
          await (store as RedisStore).close();
          await clients.get(store as RedisStore)?.end();
        },
        clock: systemClock,
        // Real time: a step long enough that a loaded machine's late timers stay inside it.
        step: 500,
      },
      { describe, it },
    );

    // The shared-breaker contract: the FLEET script through this client, on a FakeClock.
    const breakerClock = new FakeClock(1_700_000_000_000);
    (decoratorMode === 'legacy' ? describeSharedBreakerStoreConformance : skipConformance)(
      'conforms to SharedBreakerStore',
      {
        createStore: async () => {
          const client = await connect(kind, server.url);
          const store = new RedisStore(client.client, { clock: breakerClock });
          clients.set(store, client);
          return store;
        },
        disposeStore: async (store) => {
          await (store as RedisStore).close();
          await clients.get(store as RedisStore)?.end();
        },
        clock: breakerClock,
        requireWatch: true,
      },
      { describe, it },
    );

    it('runs a keyed body once for two processes, one on this client and one on ioredis, and leaves the client open on close()', async () => {
      useHarness();
      configure({ clock: systemClock });
      const prefix = `keys-${kind.replace(/\W/g, '')}-${decoratorMode}`;
      const [mine, client] = await storeOn(kind, prefix);
      const [other] = await storeOn('ioredis', prefix);
      let runs = 0;
      const declare = (store: RedisStore) => {
        configure({ store });
        class Orders {
          @Idempotent({ key: (id: string) => id, name: 'Orders.place' })
          async place(id: string): Promise<{ id: string; at: number }> {
            runs++;
            await pause(20);
            return { id, at: runs };
          }
        }
        return new Orders();
      };
      const here = declare(mine);
      const there = declare(other);
      configure({ store: mine });
      const [first, second] = await Promise.all([here.place('o-1'), here.place('o-1')]);
      configure({ store: other });
      const third = await there.place('o-1');
      expect(runs).toBe(1);
      expect(second).toEqual(first);
      expect(third).toEqual({ id: 'o-1', at: 1 });

      await mine.close();
      // The client was the caller's: it still answers.
      await expect(client.ping()).resolves.toBe('PONG');
    });

    it('shares a named breaker with an ioredis process: an opening on either side reaches the other by pub/sub', async () => {
      useHarness();
      configure({ clock: systemClock });
      const prefix = `breaker-${kind.replace(/\W/g, '')}-${decoratorMode}`;
      const [mine] = await storeOn(kind, prefix);
      const [other] = await storeOn('ioredis', prefix);
      const opensFor = async (opener: RedisStore, observer: RedisStore, name: string) => {
        const here = stockOn(opener, name);
        const there = stockOn(observer, name);
        // Both read the fleet's state (closed) on their first call, and subscribe.
        await expect(here.read(false)).resolves.toBe('ok');
        await expect(there.read(false)).resolves.toBe('ok');
        await pause(200);
        await expect(here.read(true)).rejects.toThrow('down');
        await expect(here.read(true)).rejects.toThrow('down');
        // The opening reaches the other process within the documented 100 ms (a loaded machine: 1 s).
        expect(await refusalReaching(there)).toBeInstanceOf(CircuitOpenError);
      };
      await opensFor(mine, other, 'stock-out');
      await opensFor(other, mine, 'stock-in');
    });

    it('refuses a closed client at construction, naming the option', async () => {
      const client = await connect(kind, server.url);
      await client.end();
      await pause(20);
      let error: unknown;
      try {
        new RedisStore(client.client);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ option: 'client' });
    });
  });

  /** Runs `body` as where the `hidden` client libraries are not installed. */
  function without<T>(hidden: readonly string[], body: () => T): T {
    const load = clientLibraries.load;
    clientLibraries.load = (name) => (hidden.includes(name) ? undefined : load(name));
    try {
      return body();
    } finally {
      clientLibraries.load = load;
    }
  }

  it('makes a node-redis client from a URL where ioredis is not installed, and says so when neither is', async () => {
    useHarness();
    configure({ clock: systemClock });
    const store = without(['ioredis'], () => new RedisStore(server.url));
    ended.push(() => store.close());
    configure({ store });
    let runs = 0;
    class Orders {
      @Idempotent({ key: (id: string) => id, name: 'Orders.fromUrl' })
      async place(id: string): Promise<string> {
        runs++;
        return `placed ${id}`;
      }
    }
    const orders = new Orders();
    await expect(orders.place('u-1')).resolves.toBe('placed u-1');
    await expect(orders.place('u-1')).resolves.toBe('placed u-1');
    expect(runs).toBe(1);
    expect((store as unknown as { connection: { client: string } }).connection.client).toBe(
      'node-redis',
    );

    let error: unknown;
    try {
      without(['ioredis', 'redis'], () => new RedisStore(server.url));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({
      option: 'url',
      message: expect.stringMatching(/install ioredis or redis/),
    });
  });

  it('refuses what is neither client nor URL', () => {
    for (const wrong of [{}, { get: () => undefined }, 'http://127.0.0.1:6379', 42]) {
      let error: unknown;
      try {
        new RedisStore(wrong as never);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).option).toMatch(/^(client|url)$/);
    }
  });

  it('keeps breakers local while Redis is down with node-redis, and no call fails for it', async () => {
    useHarness();
    configure({ clock: systemClock });
    const down = await RedisServer.start({
      binary: binary === 'valkey-server' ? valkeyServerPath : undefined,
    });
    const client = createClient5({
      url: down.url,
      socket: { reconnectStrategy: () => 50 },
      disableOfflineQueue: true,
    });
    client.on('error', () => undefined);
    await client.connect();
    const store = new RedisStore(client, { commandTimeout: 200 });
    ended.push(
      async () => void (await client.disconnect().catch(() => undefined)),
      () => store.close(),
    );
    configure({ store, logger: false });
    class Prices {
      @CircuitBreaker({ name: 'prices-down', consecutiveFailures: 3, openDuration: 60_000 })
      async get(): Promise<number> {
        return 42;
      }
    }
    const prices = new Prices();
    await expect(prices.get()).resolves.toBe(42);
    // The breaker lives in Redis until it stops.
    await expect(client.exists('steadfast:circuit:{prices-down}')).resolves.toBe(1);
    await down.stop();
    const results = await Promise.all(Array.from({ length: 20 }, () => prices.get()));
    expect(results).toEqual(Array.from({ length: 20 }, () => 42));
  });
});
