import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import {
  configure,
  CorruptRecordError,
  Idempotent,
  MemoryStore,
  type IdempotencyRecord,
} from '../../src';
// Not exported from the package entry (yet): see the report.
import { isCorruptRecordError } from '../../src/runtime/errors';
import { RedisStore, type RedisStoreOptions } from '../../src/redis';
import { decoratorMode, useHarness } from '../support/harness';
import { RedisServer } from '../support/redis-server';
import { describeWithRedis } from '../support/describe-with-redis';
import { rejectionOf } from '../idempotency/support';

const KEY = 'a'.repeat(64);
const FP = 'f'.repeat(64);
const SIGNING_KEY = randomBytes(32);

interface RawRecord {
  s: string;
  f: string;
  t?: string;
  l?: number;
  r?: string;
  m?: string;
}

describeWithRedis(`RedisStore records (${decoratorMode} decorators)`, () => {
  let server: RedisServer;
  let inspect: Redis;
  let client: Redis;
  const stores: RedisStore[] = [];
  let n = 0;

  /** A store over the shared client with a prefix of its own, so no two tests see each other's keys. */
  function freshStore(options: Omit<RedisStoreOptions, 'prefix'> = {}): {
    store: RedisStore;
    prefix: string;
    recordKey: (key: string) => string;
  } {
    const prefix = `integrity-${decoratorMode}-${++n}`;
    const store = new RedisStore(client, { prefix, ...options });
    stores.push(store);
    return { store, prefix, recordKey: (key) => `${prefix}:idempotency:${key}` };
  }

  /** Redis's clock, in ms. */
  async function redisNow(): Promise<number> {
    const [seconds, micros] = await inspect.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  async function rawRecord(recordKey: string): Promise<RawRecord> {
    return JSON.parse((await inspect.get(recordKey)) as string) as RawRecord;
  }

  /** A keyed method over `store`, counting its runs; each call defines the class anew on its own store. */
  function ordersOn(store: RedisStore, onStoreError: 'reject' | 'proceed' = 'reject') {
    const body = { runs: 0 };
    class Orders {
      @Idempotent({ key: (id: string) => id, store, onStoreError })
      async create(id: string, cents: number): Promise<{ id: string; cents: number }> {
        body.runs++;
        return { id, cents };
      }
    }
    return { orders: new Orders(), body };
  }

  /** The one record a keyed call left under `prefix`. */
  async function onlyRecordKey(prefix: string): Promise<string> {
    const keys = await inspect.keys(`${prefix}:idempotency:*`);
    expect(keys).toHaveLength(1);
    return keys[0];
  }

  beforeAll(async () => {
    server = await RedisServer.start();
    inspect = new Redis(server.url);
    client = new Redis(server.url);
  });
  afterEach(async () => {
    configure({ store: new MemoryStore() });
    while (stores.length > 0) await stores.pop()?.close();
  });
  afterAll(async () => {
    await client.quit();
    await inspect.quit();
    await server.stop();
  });
  beforeEach(() => {
    useHarness();
  });

  describe('a record the store cannot read', () => {
    const unreadable: [string, string, RegExp][] = [
      ['text that is not JSON', 'garbage{', /not JSON/],
      ['JSON that is not an object', '[1,2]', /not a JSON object/],
      ['an object without a state', JSON.stringify({ f: FP, r: '{"v":1}' }), /no state/],
      [
        'an unknown state',
        JSON.stringify({ s: 'done', f: FP, r: '{"v":1}' }),
        /state "done" is unknown/,
      ],
      [
        'a record without a fingerprint',
        JSON.stringify({ s: 'c', r: '{"v":1}' }),
        /no fingerprint/,
      ],
      ['a completed record without a result', JSON.stringify({ s: 'c', f: FP }), /has no result/],
      [
        'a completed record whose result is not a string',
        JSON.stringify({ s: 'c', f: FP, r: 5 }),
        /has no result/,
      ],
      ['a claim without a token', JSON.stringify({ s: 'p', f: FP, l: 9e15 }), /no token/],
      [
        'a claim whose lease end is not a number',
        JSON.stringify({ s: 'p', f: FP, t: 'x', l: 'soon' }),
        /lease end .* not a number/,
      ],
    ];

    it.each(unreadable)(
      'claim() and read() refuse %s with CorruptRecordError and leave it as it was',
      async (_what, raw, problem) => {
        const { store, recordKey } = freshStore();
        await inspect.set(recordKey(KEY), raw, 'PX', 60_000);

        const claimed = await rejectionOf(store.claim(KEY, FP, 'token', 5_000, 0));
        const read = await rejectionOf(store.read(KEY, 0));

        for (const error of [claimed, read]) {
          expect(error).toBeInstanceOf(CorruptRecordError);
          expect(isCorruptRecordError(error)).toBe(true);
          expect((error as CorruptRecordError).problem).toMatch(problem);
          expect((error as CorruptRecordError).method).toBeUndefined();
        }
        expect(await inspect.get(recordKey(KEY))).toBe(raw);
        expect(await inspect.pttl(recordKey(KEY))).toBeGreaterThan(50_000);
      },
    );

    it('refuses a key that holds another Redis type, without a Redis error', async () => {
      const { store, recordKey } = freshStore();
      await inspect.hset(recordKey(KEY), 's', 'c');
      expect(
        (await rejectionOf(store.claim(KEY, FP, 'token', 5_000, 0))) as CorruptRecordError,
      ).toMatchObject({ problem: expect.stringMatching(/Redis hash/) });
      expect((await rejectionOf(store.read(KEY, 0))) as CorruptRecordError).toMatchObject({
        problem: expect.stringMatching(/Redis hash/),
      });
      expect(
        await rejectionOf(store.complete(KEY, 'token', FP, '{"v":1}', 60_000, 0)),
      ).toBeInstanceOf(CorruptRecordError);
      expect(await rejectionOf(store.release(KEY, 'token', 0))).toBeInstanceOf(CorruptRecordError);
      expect(await inspect.hgetall(recordKey(KEY))).toEqual({ s: 'c' });
    });

    it('complete() and release() never overwrite or delete a claim that was replaced by something unreadable', async () => {
      const { store, recordKey } = freshStore();
      expect(await store.claim(KEY, FP, 'mine', 60_000, 0)).toEqual({ claimed: true });
      await inspect.set(recordKey(KEY), 'garbage{');

      expect(
        await rejectionOf(store.complete(KEY, 'mine', FP, '{"v":"result"}', 60_000, 0)),
      ).toBeInstanceOf(CorruptRecordError);
      expect(await rejectionOf(store.release(KEY, 'mine', 0))).toBeInstanceOf(CorruptRecordError);
      expect(await inspect.get(recordKey(KEY))).toBe('garbage{');
    });

    it('complete() and release() leave a record of unknown state alone', async () => {
      const { store, recordKey } = freshStore();
      const raw = JSON.stringify({ s: 'x', f: FP, t: 'mine' });
      await inspect.set(recordKey(KEY), raw);
      expect(
        await rejectionOf(store.complete(KEY, 'mine', FP, '{"v":1}', 60_000, 0)),
      ).toBeInstanceOf(CorruptRecordError);
      expect(await rejectionOf(store.release(KEY, 'mine', 0))).toBeInstanceOf(CorruptRecordError);
      expect(await inspect.get(recordKey(KEY))).toBe(raw);
    });

    it('does not read a state through Object.prototype', async () => {
      const { store, recordKey } = freshStore();
      await inspect.set(recordKey(KEY), JSON.stringify({ f: FP, r: '{"v":1}' }));
      const prototype = Object.prototype as { s?: string };
      prototype.s = 'c';
      try {
        expect(await rejectionOf(store.read(KEY, 0))).toBeInstanceOf(CorruptRecordError);
      } finally {
        delete prototype.s;
      }
    });

    describe.each(['reject', 'proceed'] as const)(
      "behind a keyed call with onStoreError '%s'",
      (onStoreError) => {
        it('fails closed on a recorded result overwritten with garbage: the body does not run again', async () => {
          const { store, prefix } = freshStore();
          const { orders, body } = ordersOn(store, onStoreError);
          expect(await orders.create('o-1', 100)).toEqual({ id: 'o-1', cents: 100 });
          const recordKey = await onlyRecordKey(prefix);
          await inspect.set(recordKey, 'garbage{', 'KEEPTTL');

          const error = await rejectionOf(orders.create('o-1', 100));
          expect(error).toBeInstanceOf(CorruptRecordError);
          expect(error).toMatchObject({ method: 'Orders.create', problem: 'it is not JSON' });
          expect(body.runs).toBe(1);
          expect(await inspect.get(recordKey)).toBe('garbage{');
        });

        it('fails closed on a completed record whose result cannot be read', async () => {
          const { store, prefix } = freshStore();
          const { orders, body } = ordersOn(store, onStoreError);
          await orders.create('o-2', 100);
          const recordKey = await onlyRecordKey(prefix);
          await inspect.set(
            recordKey,
            JSON.stringify({ ...(await rawRecord(recordKey)), r: 'not a result{' }),
            'KEEPTTL',
          );

          expect(await rejectionOf(orders.create('o-2', 100))).toBeInstanceOf(CorruptRecordError);
          expect(body.runs).toBe(1);
        });
      },
    );
  });

  describe('a claim past its lease', () => {
    it('writes its lease end (Redis clock) into the claim, with the lease as expiry', async () => {
      const { store, recordKey } = freshStore();
      const before = await redisNow();
      expect(await store.claim(KEY, FP, 'runner', 30_000, 0)).toEqual({ claimed: true });
      const after = await redisNow();

      const record = await rawRecord(recordKey(KEY));
      expect(record).toMatchObject({ s: 'p', f: FP, t: 'runner' });
      expect(record.l).toBeGreaterThanOrEqual(before + 30_000);
      expect(record.l).toBeLessThanOrEqual(after + 30_000);
      expect(Number.isInteger(record.l)).toBe(true);
      expect(await inspect.pttl(recordKey(KEY))).toBeGreaterThan(25_000);
      expect(await store.read(KEY, 0)).toEqual({
        state: 'in-progress',
        fingerprint: FP,
        token: 'runner',
        leaseUntil: record.l,
      });
    });

    it('is taken over though it has no expiry, once its lease end has passed', async () => {
      const { store, recordKey } = freshStore();
      await inspect.set(
        recordKey(KEY),
        JSON.stringify({ s: 'p', f: FP, t: 'crashed', l: (await redisNow()) - 1 }),
      );
      expect(await inspect.pttl(recordKey(KEY))).toBe(-1);

      expect(await store.read(KEY, 0)).toBeUndefined();
      expect(await store.claim(KEY, FP, 'next', 5_000, 0)).toEqual({ claimed: true });
      expect(await rawRecord(recordKey(KEY))).toMatchObject({ s: 'p', t: 'next' });
      expect(await inspect.pttl(recordKey(KEY))).toBeGreaterThan(0);
      // The crashed runner's late result does not replace the claim that took over.
      await store.complete(KEY, 'crashed', FP, '{"v":"late"}', 60_000, 0);
      expect(await rawRecord(recordKey(KEY))).toMatchObject({ s: 'p', t: 'next' });
    });

    it('is taken over when it has neither lease end nor expiry (it would block the key for ever)', async () => {
      const { store, recordKey } = freshStore();
      await inspect.set(recordKey(KEY), JSON.stringify({ s: 'p', f: FP, t: 'planted' }));
      expect(await store.read(KEY, 0)).toBeUndefined();
      expect(await store.claim(KEY, FP, 'next', 5_000, 0)).toEqual({ claimed: true });
    });

    it('holds while its lease runs, even without an expiry', async () => {
      const { store, recordKey } = freshStore();
      const leaseEnd = (await redisNow()) + 60_000;
      await inspect.set(recordKey(KEY), JSON.stringify({ s: 'p', f: FP, t: 'alive', l: leaseEnd }));
      const expected: IdempotencyRecord = {
        state: 'in-progress',
        fingerprint: FP,
        token: 'alive',
        leaseUntil: leaseEnd,
      };
      expect(await store.claim(KEY, FP, 'duplicate', 5_000, 0)).toEqual({
        claimed: false,
        record: expected,
      });
      expect(await store.read(KEY, 0)).toEqual(expected);
    });

    it('holds a claim without a lease end (an older writer) until its expiry', async () => {
      const { store, recordKey } = freshStore();
      await inspect.set(
        recordKey(KEY),
        JSON.stringify({ s: 'p', f: FP, t: 'older' }),
        'PX',
        60_000,
      );
      const now = await redisNow();
      const outcome = await store.claim(KEY, FP, 'duplicate', 5_000, 0);
      expect(outcome).toMatchObject({
        claimed: false,
        record: { state: 'in-progress', token: 'older' },
      });
      const { leaseUntil } = (outcome as { record: { leaseUntil: number } }).record;
      expect(leaseUntil).toBeGreaterThan(now + 50_000);
      expect(leaseUntil).toBeLessThanOrEqual(now + 60_000 + 1_000);
    });

    it('does not block a keyed call: a planted claim past its lease is taken over and the body runs', async () => {
      const { store, prefix } = freshStore();
      const { orders, body } = ordersOn(store);
      await orders.create('seed', 1);
      const recordKey = await onlyRecordKey(prefix);
      const { f } = await rawRecord(recordKey);
      // A claim for the same operation left without expiry by a runner that died.
      await inspect.set(
        recordKey,
        JSON.stringify({ s: 'p', f, t: 'dead', l: (await redisNow()) - 1 }),
      );

      expect(await orders.create('seed', 1)).toEqual({ id: 'seed', cents: 1 });
      expect(body.runs).toBe(2);
      expect(await rawRecord(recordKey)).toMatchObject({ s: 'c' });
      expect(await inspect.pttl(recordKey)).toBeGreaterThan(0);
    });
  });

  describe('signed records (signingKey)', () => {
    it('signs what it records and replays its own records', async () => {
      const { store, prefix } = freshStore({ signingKey: SIGNING_KEY });
      const { orders, body } = ordersOn(store);
      const first = await orders.create('o-1', 250);
      expect(await orders.create('o-1', 250)).toEqual(first);
      expect(body.runs).toBe(1);
      expect((await rawRecord(await onlyRecordKey(prefix))).m).toMatch(/^[0-9a-f]{64}$/);
    });

    it('replays a result with non-ASCII text: the signature covers the bytes as stored', async () => {
      const { store } = freshStore({ signingKey: SIGNING_KEY });
      const result = JSON.stringify({ v: 'Zürich — 東京 ✓ \u{1F600}' });
      await store.claim(KEY, FP, 't', 5_000, 0);
      await store.complete(KEY, 't', FP, result, 60_000, 0);
      expect(await store.read(KEY, 0)).toEqual({ state: 'completed', fingerprint: FP, result });
    });

    it("refuses an unsigned result planted under a call's key: the body does not run and nothing is replayed", async () => {
      const { store, prefix } = freshStore({ signingKey: SIGNING_KEY });
      const { orders, body } = ordersOn(store, 'proceed');
      await orders.create('o-2', 100);
      const recordKey = await onlyRecordKey(prefix);
      const { f } = await rawRecord(recordKey);
      await inspect.set(
        recordKey,
        JSON.stringify({ s: 'c', f, r: JSON.stringify({ v: { id: 'o-2', cents: 0 } }) }),
        'KEEPTTL',
      );

      const error = await rejectionOf(orders.create('o-2', 100));
      expect(error).toBeInstanceOf(CorruptRecordError);
      expect((error as CorruptRecordError).problem).toMatch(/not signed/);
      expect(body.runs).toBe(1);
    });

    it('refuses a recorded result whose text was changed', async () => {
      const { store, recordKey } = freshStore({ signingKey: SIGNING_KEY });
      await store.claim(KEY, FP, 't', 5_000, 0);
      await store.complete(KEY, 't', FP, '{"v":{"cents":100}}', 60_000, 0);
      await inspect.set(
        recordKey(KEY),
        JSON.stringify({ ...(await rawRecord(recordKey(KEY))), r: '{"v":{"cents":0}}' }),
      );
      expect(((await rejectionOf(store.read(KEY, 0))) as CorruptRecordError).problem).toMatch(
        /signature does not match/,
      );
      expect(await rejectionOf(store.claim(KEY, FP, 'u', 5_000, 0))).toBeInstanceOf(
        CorruptRecordError,
      );
    });

    it('refuses a recorded result whose fingerprint was changed', async () => {
      const { store, recordKey } = freshStore({ signingKey: SIGNING_KEY });
      await store.claim(KEY, FP, 't', 5_000, 0);
      await store.complete(KEY, 't', FP, '{"v":1}', 60_000, 0);
      await inspect.set(
        recordKey(KEY),
        JSON.stringify({ ...(await rawRecord(recordKey(KEY))), f: 'e'.repeat(64) }),
      );
      expect(await rejectionOf(store.read(KEY, 0))).toBeInstanceOf(CorruptRecordError);
    });

    it('refuses a signed record copied to another key', async () => {
      const { store, recordKey } = freshStore({ signingKey: SIGNING_KEY });
      const other = 'b'.repeat(64);
      await store.claim(KEY, FP, 't', 5_000, 0);
      await store.complete(KEY, 't', FP, '{"v":"for a"}', 60_000, 0);
      await inspect.set(recordKey(other), (await inspect.get(recordKey(KEY))) as string);
      expect(await store.read(KEY, 0)).toMatchObject({
        state: 'completed',
        result: '{"v":"for a"}',
      });
      expect(await rejectionOf(store.read(other, 0))).toBeInstanceOf(CorruptRecordError);
    });

    it('refuses a record signed with another key, and a malformed signature, as corrupt', async () => {
      const prefix = `integrity-${decoratorMode}-${++n}`;
      const writer = new RedisStore(client, { prefix, signingKey: randomBytes(32) });
      const reader = new RedisStore(client, { prefix, signingKey: SIGNING_KEY });
      stores.push(writer, reader);
      await writer.claim(KEY, FP, 't', 5_000, 0);
      await writer.complete(KEY, 't', FP, '{"v":1}', 60_000, 0);
      expect(await writer.read(KEY, 0)).toMatchObject({ state: 'completed' });
      expect(await rejectionOf(reader.read(KEY, 0))).toBeInstanceOf(CorruptRecordError);

      const recordKey = `${prefix}:idempotency:${KEY}`;
      for (const m of ['zz', 'ab', 'A'.repeat(64), `${'0'.repeat(63)}g`, 42]) {
        await inspect.set(recordKey, JSON.stringify({ ...(await rawRecord(recordKey)), m }));
        expect(await rejectionOf(reader.read(KEY, 0))).toBeInstanceOf(CorruptRecordError);
      }
    });

    it('a store without signingKey still reads signed records; a signing store refuses the unsigned ones', async () => {
      const prefix = `integrity-${decoratorMode}-${++n}`;
      const signing = new RedisStore(client, { prefix, signingKey: SIGNING_KEY });
      const plain = new RedisStore(client, { prefix });
      stores.push(signing, plain);
      const signed = 'c'.repeat(64);
      const unsigned = 'd'.repeat(64);
      await signing.claim(signed, FP, 't', 5_000, 0);
      await signing.complete(signed, 't', FP, '{"v":"signed"}', 60_000, 0);
      await plain.claim(unsigned, FP, 't', 5_000, 0);
      await plain.complete(unsigned, 't', FP, '{"v":"unsigned"}', 60_000, 0);

      expect(await plain.read(signed, 0)).toMatchObject({ result: '{"v":"signed"}' });
      expect(await plain.read(unsigned, 0)).toMatchObject({ result: '{"v":"unsigned"}' });
      expect(await signing.read(signed, 0)).toMatchObject({ result: '{"v":"signed"}' });
      expect(await rejectionOf(signing.read(unsigned, 0))).toBeInstanceOf(CorruptRecordError);
    });
  });
});
