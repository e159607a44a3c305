import { createServer } from 'node:net';
import Redis from 'ioredis';
import {
  CircuitBreaker,
  configure,
  Idempotent,
  IdempotencyConflictError,
  IdempotencyInProgressError,
  IdempotencyStoreError,
  MemoryStore,
  UnstorableResultError,
  type IdempotencyStore,
} from '../../src';
import { RedisStore } from '../../src/redis';
import type { FakeClock } from '../../src/testing';
import { decoratorMode, useHarness, type Harness } from '../support/harness';
import { RedisServer } from '../support/redis-server';
import { describeWithRedis } from '../support/describe-with-redis';
import {
  deferred,
  isSettled,
  rejectionOf,
  SHA256_HEX,
  type Deferred,
} from '../idempotency/support';

const realDelay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Open TCP sockets of this process (ioredis connections among them). */
const tcpSockets = (): number =>
  process.getActiveResourcesInfo().filter((resource) => resource === 'TCPSocketWrap').length;

/** Waits (really) until `condition` holds, for work that goes through Redis. */
async function until(condition: () => boolean, withinMs = 5_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${withinMs} ms`);
    await realDelay(2);
  }
}

async function settlesTo(read: () => number, expected: number, withinMs = 2_000): Promise<number> {
  const deadline = Date.now() + withinMs;
  while (read() !== expected && Date.now() < deadline) await realDelay(10);
  return read();
}

/**
 * Wakes the FakeClock's sleeps one at a time while Redis answers in real time: waits (really) for
 * the next sleep to be requested, then moves the clock exactly to it. Stops once `done` settles, or
 * before a wake-up that would move the clock past `maxMs` (one sleeper at a time: the duplicate).
 */
async function wakeSleeps(
  clock: FakeClock,
  done: Promise<unknown>,
  maxMs = Number.POSITIVE_INFINITY,
): Promise<void> {
  let finished = false;
  void done.then(
    () => (finished = true),
    () => (finished = true),
  );
  const start = clock.now();
  for (;;) {
    if (finished) break;
    const deadline = Date.now() + 2_000;
    while (clock.pending === 0 && !finished && Date.now() < deadline) await realDelay(1);
    if (finished) break;
    if (clock.pending === 0) throw new Error('no sleep was requested within 2 s');
    const wakeAt = clock.now() + (clock.sleeps.at(-1) as number);
    if (wakeAt - start > maxMs) break;
    await clock.next();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        resolve(typeof address === 'object' && address !== null ? address.port : 0),
      );
    });
  });
}

interface Body {
  runs: number;
  gate: Deferred<void> | undefined;
  result: () => unknown;
}

/**
 * One "process": the class as its code defines it, over its own store (connection) to one Redis.
 * Named, as a fleet names its operations: each test defines the class again over the same stores.
 */
function processOn(
  store: IdempotencyStore,
  tag: string,
  options: { wait?: number; lease?: number; ttl?: number } = {},
) {
  const body: Body = { runs: 0, gate: undefined, result: () => undefined };
  class Orders {
    @Idempotent({ key: (id: string) => id, name: 'Orders.create', store, ...options })
    async create(id: string, cents: number): Promise<unknown> {
      body.runs++;
      if (body.gate !== undefined) await body.gate.promise;
      const made = body.result();
      return made !== undefined ? made : { id, cents, by: tag, lines: [{ sku: 'a', qty: 1 }] };
    }
  }
  return { orders: new Orders(), body };
}

describeWithRedis(`RedisStore in one process (${decoratorMode} decorators)`, () => {
  let server: RedisServer;
  let storeA: RedisStore;
  let storeB: RedisStore;
  let inspect: Redis;
  let h: Harness;
  let n = 0;
  /** A key no other test of this file uses. */
  const uniqueKey = (what: string): string => `${what}-${decoratorMode}-${++n}`;

  beforeAll(async () => {
    server = await RedisServer.start();
    storeA = new RedisStore(server.url);
    storeB = new RedisStore(server.url);
    inspect = new Redis(server.url);
  });
  afterAll(async () => {
    configure({ store: new MemoryStore() });
    await storeA.close();
    await storeB.close();
    await inspect.quit();
    await server.stop();
  });
  beforeEach(() => {
    h = useHarness();
  });

  describe('the idempotency contract', () => {
    it('runs the body once and replays a deep-equal result to another process', async () => {
      const a = processOn(storeA, 'A');
      const b = processOn(storeB, 'B');
      const key = uniqueKey('replay');

      const first = await a.orders.create(key, 500);
      const replayed = await b.orders.create(key, 500);
      const again = await a.orders.create(key, 500);

      expect(first).toEqual({ id: key, cents: 500, by: 'A', lines: [{ sku: 'a', qty: 1 }] });
      expect(replayed).toEqual(first);
      expect(again).toEqual(first);
      expect(again).not.toBe(first);
      expect(a.body.runs + b.body.runs).toBe(1);
      expect(h.events('deduplicated').map((event) => event.how)).toEqual(['replayed', 'replayed']);
    });

    it('shares one call in flight between concurrent calls in one process', async () => {
      const a = processOn(storeA, 'A');
      a.body.gate = deferred();
      const key = uniqueKey('joined');
      const calls = [a.orders.create(key, 1), a.orders.create(key, 1), a.orders.create(key, 1)];
      await until(() => a.body.runs > 0);
      await realDelay(20);
      a.body.gate.resolve();
      const results = await Promise.all(calls);
      expect(a.body.runs).toBe(1);
      expect(results[1]).toBe(results[0]);
      expect(results[2]).toBe(results[0]);
      expect(h.events('deduplicated').map((event) => event.how)).toEqual(['joined', 'joined']);
    });

    it('refuses the same key with different arguments from another process, recording nothing', async () => {
      const a = processOn(storeA, 'A');
      const b = processOn(storeB, 'B');
      const key = uniqueKey('conflict');
      await a.orders.create(key, 100);

      const error = await rejectionOf(b.orders.create(key, 101));
      expect(error).toBeInstanceOf(IdempotencyConflictError);
      expect(error).toMatchObject({ method: 'Orders.create' });
      expect(b.body.runs).toBe(0);
      expect(await b.orders.create(key, 100)).toMatchObject({ by: 'A', cents: 100 });
    });

    it('refuses different arguments while the first call is still in progress elsewhere', async () => {
      const a = processOn(storeA, 'A');
      const b = processOn(storeB, 'B');
      a.body.gate = deferred();
      const key = uniqueKey('conflict-in-flight');
      const running = a.orders.create(key, 100);
      await until(() => a.body.runs > 0);
      expect(await rejectionOf(b.orders.create(key, 999))).toBeInstanceOf(IdempotencyConflictError);
      a.body.gate.resolve();
      await running;
    });

    it('removes the claim of a failed run, so another process runs the body', async () => {
      const a = processOn(storeA, 'A');
      const b = processOn(storeB, 'B');
      const outage = new Error('payment provider down');
      a.body.result = () => {
        throw outage;
      };
      const key = uniqueKey('released');

      expect(await rejectionOf(a.orders.create(key, 5))).toBe(outage);
      expect(await b.orders.create(key, 5)).toMatchObject({ by: 'B' });
      expect(await a.orders.create(key, 5)).toMatchObject({ by: 'B' });
      expect(a.body.runs).toBe(1);
      expect(b.body.runs).toBe(1);
    });

    it('leaves no record behind after a failed run', async () => {
      const store = new RedisStore(server.url, { prefix: `released-${decoratorMode}` });
      try {
        const a = processOn(store, 'A');
        a.body.result = () => {
          throw new Error('nope');
        };
        await rejectionOf(a.orders.create(uniqueKey('gone'), 1));
        expect(await inspect.keys(`released-${decoratorMode}:idempotency:*`)).toEqual([]);
      } finally {
        await store.close();
      }
    });

    it('refuses an unstorable result at the first call, and another process fails the same way without running the body', async () => {
      const a = processOn(storeA, 'A');
      const b = processOn(storeB, 'B');
      a.body.result = () => ({ at: new Date(0) });
      b.body.result = () => ({ at: new Date(0) });
      const key = uniqueKey('unstorable');

      const first = await rejectionOf(a.orders.create(key, 1));
      expect(first).toBeInstanceOf(UnstorableResultError);
      const second = await rejectionOf(b.orders.create(key, 1));
      expect(second).toBeInstanceOf(UnstorableResultError);
      expect((second as UnstorableResultError).problem).toBe(
        (first as UnstorableResultError).problem,
      );
      expect(a.body.runs).toBe(1);
      expect(b.body.runs).toBe(0);
    });

    it('replays undefined (a void method) from another process', async () => {
      let runs = 0;
      const define = (store: IdempotencyStore) => {
        class Mailer {
          @Idempotent({ key: (to: string) => to, store })
          async send(_to: string): Promise<void> {
            runs++;
          }
        }
        return new Mailer();
      };
      const key = uniqueKey('void');
      expect(await define(storeA).send(key)).toBeUndefined();
      expect(await define(storeB).send(key)).toBeUndefined();
      expect(runs).toBe(1);
    });

    it('stores only hashed keys and fingerprints, with the record expiring after ttl (PX)', async () => {
      const prefix = `hashed-${decoratorMode}`;
      const store = new RedisStore(server.url, { prefix });
      try {
        let runs = 0;
        class Accounts {
          @Idempotent({ key: (email: string) => `signup:${email}`, store, ttl: 60_000 })
          async signUp(email: string, password: string): Promise<{ welcome: boolean }> {
            runs++;
            return { welcome: email.length + password.length > 0 };
          }
        }
        await new Accounts().signUp('carol@example.com', 'correct-horse');
        expect(runs).toBe(1);

        const keys = await inspect.keys(`${prefix}:*`);
        expect(keys).toHaveLength(1);
        const [recordKey] = keys;
        expect(recordKey.slice(`${prefix}:idempotency:`.length)).toMatch(SHA256_HEX);
        const raw = (await inspect.get(recordKey)) as string;
        const record = JSON.parse(raw) as { f: string };
        expect(record.f).toMatch(SHA256_HEX);
        for (const text of ['carol', 'example.com', 'signup', 'correct-horse', 'Accounts']) {
          expect(recordKey).not.toContain(text);
          expect(raw).not.toContain(text);
        }
        const pttl = await inspect.pttl(recordKey);
        expect(pttl).toBeGreaterThan(55_000);
        expect(pttl).toBeLessThanOrEqual(60_000);
      } finally {
        await store.close();
      }
    });

    it('holds an in-progress claim for its lease (PX)', async () => {
      const prefix = `lease-${decoratorMode}`;
      const store = new RedisStore(server.url, { prefix });
      try {
        const a = processOn(store, 'A', { lease: 30_000 });
        a.body.gate = deferred();
        const running = a.orders.create(uniqueKey('lease'), 1);
        await until(() => a.body.runs > 0);
        const [recordKey] = await inspect.keys(`${prefix}:*`);
        expect(JSON.parse((await inspect.get(recordKey)) as string)).toMatchObject({ s: 'p' });
        const pttl = await inspect.pttl(recordKey);
        expect(pttl).toBeGreaterThan(25_000);
        expect(pttl).toBeLessThanOrEqual(30_000);
        a.body.gate.resolve();
        await running;
      } finally {
        await store.close();
      }
    });

    it('keeps the record of the claim that took over a lapsed lease when the lapsed runner completes late', async () => {
      const key = 'a'.repeat(64);
      const fingerprint = 'f'.repeat(64);
      const prefix = `takeover-${decoratorMode}`;
      const store = new RedisStore(server.url, { prefix });
      try {
        expect(await store.claim(key, fingerprint, 'runner-a', 50, 0)).toEqual({ claimed: true });
        await realDelay(80);
        expect(await store.claim(key, fingerprint, 'runner-b', 5_000, 0)).toEqual({
          claimed: true,
        });
        await store.complete(key, 'runner-b', fingerprint, '{"v":"by b"}', 60_000);
        await store.complete(key, 'runner-a', fingerprint, '{"v":"by a"}', 60_000);
        expect(await store.read(key, 0)).toEqual({
          state: 'completed',
          fingerprint,
          result: '{"v":"by b"}',
        });
      } finally {
        await store.close();
      }
    });
  });

  describe('a duplicate of a call in progress in another process (FakeClock)', () => {
    it('waits up to `wait`, then fails with IdempotencyInProgressError', async () => {
      const a = processOn(storeA, 'A');
      const b = processOn(storeB, 'B', { wait: 1_000 });
      a.body.gate = deferred();
      const key = uniqueKey('in-progress');
      const running = a.orders.create(key, 1);
      await until(() => a.body.runs > 0);

      const duplicate = b.orders.create(key, 1).catch((error: unknown) => error);
      await wakeSleeps(h.clock, duplicate, 900);
      expect(await isSettled(duplicate)).toBe(false);
      await wakeSleeps(h.clock, duplicate);
      const error = await duplicate;
      expect(error).toBeInstanceOf(IdempotencyInProgressError);
      expect((error as IdempotencyInProgressError).waited).toBe(1_000);
      expect(b.body.runs).toBe(0);
      a.body.gate.resolve();
      await running;
    });

    it('gets the result once the other process completes meanwhile', async () => {
      const a = processOn(storeA, 'A');
      const b = processOn(storeB, 'B');
      a.body.gate = deferred();
      const key = uniqueKey('in-progress-completes');
      const running = a.orders.create(key, 2);
      await until(() => a.body.runs > 0);

      const duplicate = b.orders.create(key, 2);
      await wakeSleeps(h.clock, duplicate, 300);
      expect(await isSettled(duplicate)).toBe(false);
      a.body.gate.resolve();
      const original = await running;
      await wakeSleeps(h.clock, duplicate);
      expect(await duplicate).toEqual(original);
      expect(b.body.runs).toBe(0);
    });
  });

  describe('when Redis cannot be reached', () => {
    let dead: RedisStore;
    beforeAll(async () => {
      dead = new RedisStore(`redis://127.0.0.1:${await freePort()}`, { commandTimeout: 200 });
    });
    afterAll(async () => {
      await dead.close();
    });

    it("rejects keyed calls with IdempotencyStoreError by default, and runs them with onStoreError 'proceed'", async () => {
      let runs = 0;
      class Payments {
        @Idempotent({ key: (id: string) => id, store: dead })
        async charge(id: string): Promise<string> {
          runs++;
          return `charged ${id}`;
        }

        @Idempotent({ key: (id: string) => id, store: dead, onStoreError: 'proceed' })
        async refund(id: string): Promise<string> {
          runs++;
          return `refunded ${id}`;
        }
      }
      const payments = new Payments();
      const error = await rejectionOf(payments.charge('p-1'));
      expect(error).toBeInstanceOf(IdempotencyStoreError);
      expect((error as IdempotencyStoreError).cause).toBeInstanceOf(Error);
      expect(runs).toBe(0);
      expect(await payments.refund('p-1')).toBe('refunded p-1');
      expect(runs).toBe(1);
    });
  });

  describe('connections', () => {
    it('a store built from a URL releases its connections on close(); a second close is harmless; later commands reject', async () => {
      const baseline = tcpSockets();
      const store = new RedisStore(server.url);
      configure({ store });
      const name = `connections-url-${decoratorMode}`;
      class Api {
        @Idempotent({ key: (id: string) => id })
        async create(id: string): Promise<string> {
          return id;
        }

        @CircuitBreaker({ name, consecutiveFailures: 3 })
        async ping(): Promise<string> {
          return 'pong';
        }
      }
      const api = new Api();
      await api.create(uniqueKey('conn'));
      await api.ping();
      // One command connection and one pub/sub subscriber for the breaker.
      expect(await settlesTo(tcpSockets, baseline + 2)).toBe(baseline + 2);
      configure({ store: new MemoryStore() });

      await store.close();
      expect(await settlesTo(tcpSockets, baseline)).toBe(baseline);
      await expect(store.close()).resolves.toBeUndefined();
      await expect(store.claim('b'.repeat(64), 'c'.repeat(64), 't', 1_000, 0)).rejects.toThrow();
      expect(tcpSockets()).toBe(baseline);
    });

    it('a client passed in stays connected and usable after close(); only the subscriber the store made is released', async () => {
      const client = new Redis(server.url);
      await client.ping();
      const baseline = tcpSockets();
      const store = new RedisStore(client);
      configure({ store });
      const name = `connections-client-${decoratorMode}`;
      class Api {
        @Idempotent({ key: (id: string) => id })
        async create(id: string): Promise<string> {
          return id;
        }

        @CircuitBreaker({ name, consecutiveFailures: 3 })
        async ping(): Promise<string> {
          return 'pong';
        }
      }
      const api = new Api();
      await api.create(uniqueKey('client'));
      await api.ping();
      expect(await settlesTo(tcpSockets, baseline + 1)).toBe(baseline + 1);
      configure({ store: new MemoryStore() });

      await store.close();
      expect(await settlesTo(tcpSockets, baseline)).toBe(baseline);
      expect(client.status).toBe('ready');
      expect(await client.ping()).toBe('PONG');
      expect(await client.set(`still-mine-${decoratorMode}`, '1')).toBe('OK');
      await client.quit();
      expect(await settlesTo(tcpSockets, baseline - 1)).toBe(baseline - 1);
    });

    it('close() of a store that cannot reach Redis still ends promptly', async () => {
      const store = new RedisStore(`redis://127.0.0.1:${await freePort()}`, {
        commandTimeout: 100,
      });
      await store.claim('d'.repeat(64), 'e'.repeat(64), 't', 1_000, 0).catch(() => undefined);
      const started = Date.now();
      await store.close();
      expect(Date.now() - started).toBeLessThan(2_000);
    });
  });
});
