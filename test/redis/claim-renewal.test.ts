import Redis from 'ioredis';
import { configure, Idempotent, MemoryStore, type IdempotencyStore } from '../../src';
import { RedisStore } from '../../src/redis';
import { systemClock } from '../../src/runtime/clock';
import { decoratorMode, useHarness } from '../support/harness';
import { RedisServer } from '../support/redis-server';
import { describeWithRedis } from '../support/describe-with-redis';

const realDelay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let n = 0;
const uniqueKey = (what: string): string => `${what}-${decoratorMode}-${++n}`;

/** A keyed operation on `store` whose body takes `bodyMs` of real time; counts its runs. */
function ledgerOn(store: IdempotencyStore, lease: number, bodyMs: number) {
  class Ledger {
    runs = 0;
    @Idempotent({ key: (key: string) => key, store, lease, wait: 5_000 })
    async record(key: string): Promise<{ key: string; run: number }> {
      const run = ++this.runs;
      await realDelay(bodyMs);
      return { key, run };
    }
  }
  return new Ledger();
}

/** A MemoryStore whose renewals are counted, and fail or lose the claim when told to. */
class ScriptedStore extends MemoryStore {
  renewals = 0;
  answer: 'renew' | 'fail' | 'lost' = 'renew';

  override async renew(key: string, token: string, leaseMs: number, now: number): Promise<boolean> {
    this.renewals++;
    if (this.answer === 'fail') throw new Error('store unreachable');
    if (this.answer === 'lost') return false;
    return super.renew(key, token, leaseMs, now);
  }
}

// Renewal is about real time (a lease lapses in real time for the rest of the fleet): these bodies
// run for up to 3 real seconds with leases of 90 to 600 ms.
describeWithRedis(`claims renewed while the body runs (${decoratorMode} decorators)`, () => {
  let server: RedisServer;
  let inspect: Redis;
  const stores: RedisStore[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    inspect = new Redis(server.url);
  });
  afterAll(async () => {
    configure({ store: new MemoryStore() });
    await Promise.all(stores.map((store) => store.close()));
    await inspect.quit();
    await server.stop();
  });

  it('keeps a claim on Redis past its lease while the body runs, so another process waits for the result instead of running it', async () => {
    useHarness();
    // The duplicate polls for the result on the engine's clock: real time here, as the lease's.
    configure({ clock: systemClock });
    const owner = new RedisStore(server.url);
    const other = new RedisStore(server.url);
    stores.push(owner, other);
    // Renewed every 200 ms: a loaded machine's late timers stay well inside the 600 ms lease (at
    // 150 ms, a renewal 100 ms late on a busy CI machine let the claim lapse under a live owner).
    const lease = 600;
    const first = ledgerOn(owner, lease, 5 * lease);
    const second = ledgerOn(other, lease, 0);
    const key = uniqueKey('renewed');
    const running = first.record(key);
    await realDelay(2 * lease);
    // Past the lease: the claim is still there, its lease end renewed, its expiry at most one lease.
    const [record] = await inspect
      .keys('steadfast:idempotency:*')
      .then(async (keys) =>
        Promise.all(
          keys.map(async (name) => ({
            name,
            raw: await inspect.get(name),
            pttl: await inspect.pttl(name),
          })),
        ),
      )
      .then((all) => all.filter((entry) => entry.raw?.includes('"s":"p"')));
    expect(record).toBeDefined();
    expect(record.pttl).toBeGreaterThan(0);
    expect(record.pttl).toBeLessThanOrEqual(lease);
    const duplicate = await second.record(key);
    const result = await running;
    expect(duplicate).toEqual(result);
    expect([first.runs, second.runs]).toEqual([1, 0]);
  });

  it('renews every third of the lease, and stops once the body has ended', async () => {
    const h = useHarness();
    const store = new ScriptedStore();
    const lease = 90;
    const ledger = ledgerOn(store, lease, 600);
    await ledger.record(uniqueKey('every-third'));
    const renewals = store.renewals;
    // 600 ms at one renewal each 30 ms: about 20 (fewer on a loaded machine); once a lease, it would be 6.
    expect(renewals).toBeGreaterThanOrEqual(10);
    expect(renewals).toBeLessThanOrEqual(21);
    await realDelay(150);
    expect(store.renewals).toBe(renewals);
    expect(h.logger.entries).toEqual([]);
  });

  it('logs a renewal that fails at warn and tries again; the body still completes and its result is recorded', async () => {
    const h = useHarness();
    const store = new ScriptedStore();
    store.answer = 'fail';
    const ledger = ledgerOn(store, 90, 200);
    const key = uniqueKey('failing');
    await expect(ledger.record(key)).resolves.toEqual({ key, run: 1 });
    const warnings = h.logger.entries.filter(
      (entry) => entry.level === 'warn' && entry.message.includes('could not renew'),
    );
    expect(warnings.length).toBeGreaterThanOrEqual(2);
    expect(warnings[0].message).toMatch(/store unreachable.*trying again in 30 ms/);
    await expect(ledger.record(key)).resolves.toEqual({ key, run: 1 });
    expect(ledger.runs).toBe(1);
  });

  it('logs a lost claim once at error and stops renewing it', async () => {
    const h = useHarness();
    const store = new ScriptedStore();
    store.answer = 'lost';
    const ledger = ledgerOn(store, 90, 300);
    await ledger.record(uniqueKey('lost'));
    const errors = h.logger.entries.filter((entry) => entry.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(/claim was lost while the body ran/);
    expect(store.renewals).toBe(1);
  });

  it("renews a Redis claim only while it is the caller's token", async () => {
    const store = new RedisStore(server.url);
    stores.push(store);
    const key = 'a'.repeat(64);
    expect(await store.claim(key, 'f'.repeat(64), 'mine', 1_000, 0)).toEqual({ claimed: true });
    expect(await store.renew(key, 'mine', 5_000, 0)).toBe(true);
    expect(await inspect.pttl(`steadfast:idempotency:${key}`)).toBeGreaterThan(1_000);
    expect(await store.renew(key, 'theirs', 5_000, 0)).toBe(false);
    await store.release(key, 'mine', 0);
    expect(await store.renew(key, 'mine', 5_000, 0)).toBe(false);
  });
});
