import { createHash } from 'node:crypto';
import { ConfigError, configure, Idempotent, MemoryStore } from '../../src';
import { decoratorMode, useHarness, type Harness } from '../support/harness';

const hash = (text: string): string => createHash('sha256').update(text).digest('hex');
const FP = hash('fingerprint');

/** Writes a completed record straight through the store contract. */
async function record(store: MemoryStore, name: string, now = 0): Promise<void> {
  const claim = await store.claim(hash(name), FP, `token-${name}`, 60_000, now);
  expect(claim).toEqual({ claimed: true });
  await store.complete(
    hash(name),
    `token-${name}`,
    FP,
    JSON.stringify({ v: name }),
    3_600_000,
    now,
  );
}

async function held(store: MemoryStore, names: string[], now = 0): Promise<string[]> {
  const found: string[] = [];
  // read() touches what it finds, so look in a fixed order only when the order no longer matters.
  for (const name of names) if ((await store.read(hash(name), now)) !== undefined) found.push(name);
  return found;
}

describe(`MemoryStore (${decoratorMode} decorators)`, () => {
  it('refuses a maxEntries that is not an integer >= 1', () => {
    expect(() => new MemoryStore({ maxEntries: 0 })).toThrow(ConfigError);
    expect(() => new MemoryStore({ maxEntries: -1 })).toThrow(ConfigError);
    expect(() => new MemoryStore({ maxEntries: 1.5 })).toThrow(ConfigError);
    expect(() => new MemoryStore({ maxEntries: Number.NaN })).toThrow(ConfigError);
    expect(() => new MemoryStore({ maxEntries: 1 })).not.toThrow();
    expect(() => new MemoryStore()).not.toThrow();
  });

  it('evicts the least recently written record first when full', async () => {
    const store = new MemoryStore({ maxEntries: 3 });
    for (const name of ['a', 'b', 'c', 'd']) await record(store, name);
    expect(store.size).toBe(3);
    expect(await held(store, ['a', 'b', 'c', 'd'])).toEqual(['b', 'c', 'd']);
  });

  it('counts a read as a use: the record read most recently survives, the least recently used goes', async () => {
    const store = new MemoryStore({ maxEntries: 3 });
    for (const name of ['a', 'b', 'c']) await record(store, name);
    expect(await store.read(hash('a'), 0)).toMatchObject({ state: 'completed' });
    await record(store, 'd');
    expect(await held(store, ['a', 'b', 'c', 'd'])).toEqual(['a', 'c', 'd']);
  });

  it('counts a claim that finds the record as a use', async () => {
    const store = new MemoryStore({ maxEntries: 2 });
    await record(store, 'a');
    await record(store, 'b');
    expect(await store.claim(hash('a'), FP, 'other', 1_000, 0)).toMatchObject({
      claimed: false,
      record: { state: 'completed' },
    });
    await record(store, 'c');
    expect(await held(store, ['a', 'b', 'c'])).toEqual(['a', 'c']);
  });

  it('expires records on access at their ttl, and an in-progress claim at its lease, with no timer', async () => {
    const store = new MemoryStore();
    await store.claim(hash('p'), FP, 'token-p', 100, 1_000);
    await record(store, 'done', 1_000);
    expect(await store.read(hash('p'), 1_099)).toMatchObject({
      state: 'in-progress',
      token: 'token-p',
      leaseUntil: 1_100,
    });
    expect(await store.read(hash('p'), 1_100)).toBeUndefined();
    expect(await store.read(hash('done'), 1_000 + 3_599_999)).toMatchObject({ state: 'completed' });
    expect(await store.read(hash('done'), 1_000 + 3_600_000)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('lets only the claim holder release or complete an in-progress claim', async () => {
    const store = new MemoryStore();
    await store.claim(hash('k'), FP, 'owner', 1_000, 0);
    await store.release(hash('k'), 'intruder');
    await store.complete(hash('k'), 'intruder', FP, '{"v":"forged"}', 1_000, 0);
    expect(await store.read(hash('k'), 0)).toMatchObject({ state: 'in-progress', token: 'owner' });
    await store.release(hash('k'), 'owner');
    expect(await store.read(hash('k'), 0)).toBeUndefined();
  });

  describe('behind a keyed @Idempotent method', () => {
    let h: Harness;
    beforeEach(() => {
      h = useHarness();
    });
    afterAll(() => {
      configure({ store: new MemoryStore() });
    });

    it('forgets the least recently used key first: that key runs its body again, the others replay', async () => {
      configure({ store: new MemoryStore({ maxEntries: 2 }) });
      const runs: string[] = [];
      class Orders {
        @Idempotent({ key: (id: string) => id })
        async create(id: string): Promise<string> {
          runs.push(id);
          return `order ${id}`;
        }
      }
      const orders = new Orders();
      await orders.create('k1');
      await orders.create('k2');
      await orders.create('k1'); // replayed: k1 is now the most recently used
      await orders.create('k3'); // evicts k2
      expect(runs).toEqual(['k1', 'k2', 'k3']);
      await orders.create('k1'); // still held
      expect(runs).toEqual(['k1', 'k2', 'k3']);
      await orders.create('k2'); // forgotten: runs again
      expect(runs).toEqual(['k1', 'k2', 'k3', 'k2']);
      expect(h.events('deduplicated').map((event) => event.how)).toEqual(['replayed', 'replayed']);
    });
  });
});
