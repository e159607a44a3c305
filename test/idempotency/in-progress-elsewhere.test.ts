import {
  configure,
  Idempotent,
  IdempotencyInProgressError,
  MemoryStore,
  type IdempotencyStore,
} from '../../src';
import { decoratorMode, useHarness, type Harness } from '../support/harness';
import { deferred, isSettled, processView, type Deferred } from './support';

interface Body {
  runs: number;
  gate: Deferred<void> | undefined;
  failWith: Error | undefined;
}

/**
 * One "process": the class as its code defines it (same class name, so the same method label and
 * key namespace), with its own view of the shared store and its own record of body runs.
 */
function processWith(
  tag: string,
  store: IdempotencyStore,
  options: { wait?: number; lease?: number } = {},
): { orders: { create(id: string, cents: number): Promise<string> }; body: Body } {
  const body: Body = { runs: 0, gate: undefined, failWith: undefined };
  class Orders {
    @Idempotent({ key: (id: string) => id, store, ...options })
    async create(id: string, cents: number): Promise<string> {
      body.runs++;
      if (body.gate !== undefined) await body.gate.promise;
      if (body.failWith !== undefined) throw body.failWith;
      return `${id}:${cents}:by-${tag}`;
    }
  }
  return { orders: new Orders(), body };
}

describe(`a keyed call in progress elsewhere (${decoratorMode} decorators)`, () => {
  let h: Harness;
  let shared: MemoryStore;
  beforeEach(() => {
    h = useHarness();
    shared = new MemoryStore();
  });
  afterAll(() => {
    configure({ store: new MemoryStore() });
  });

  it('makes the duplicate wait up to `wait`, then fail with IdempotencyInProgressError carrying `waited`', async () => {
    const first = processWith('A', processView(shared), { wait: 1_000 });
    const second = processWith('B', processView(shared), { wait: 1_000 });
    first.body.gate = deferred();
    const running = first.orders.create('o-1', 5);
    await h.clock.flush();
    expect(first.body.runs).toBe(1);

    const duplicate = second.orders.create('o-1', 5).catch((error: unknown) => error);
    await h.clock.advance(999);
    expect(await isSettled(duplicate)).toBe(false);
    await h.clock.advance(1);
    const error = await duplicate;
    expect(error).toBeInstanceOf(IdempotencyInProgressError);
    expect(error).toMatchObject({
      code: 'STEADFAST_IDEMPOTENCY_IN_PROGRESS',
      method: 'Orders.create',
    });
    expect((error as IdempotencyInProgressError).waited).toBeGreaterThanOrEqual(1_000);
    expect((error as IdempotencyInProgressError).waited).toBeLessThan(1_000 + 250);
    expect(second.body.runs).toBe(0);
    // It polled the store: first after 25 ms, backing off, never sleeping past the bound.
    expect(h.clock.sleeps.slice(0, 4)).toEqual([25, 50, 100, 200]);
    expect(h.clock.sleeps.every((ms) => ms <= 250)).toBe(true);
    expect(h.clock.sleeps.reduce((sum, ms) => sum + ms, 0)).toBe(1_000);

    first.body.gate.resolve();
    expect(await running).toBe('o-1:5:by-A');
  });

  it('gives the duplicate the result once the other claim completes meanwhile', async () => {
    const first = processWith('A', processView(shared));
    const second = processWith('B', processView(shared));
    first.body.gate = deferred();
    const running = first.orders.create('o-2', 7);
    await h.clock.flush();

    const duplicate = second.orders.create('o-2', 7);
    await h.clock.advance(300);
    expect(await isSettled(duplicate)).toBe(false);
    first.body.gate.resolve();
    expect(await running).toBe('o-2:7:by-A');
    await h.clock.advance(250);

    expect(await duplicate).toBe('o-2:7:by-A');
    expect(second.body.runs).toBe(0);
    expect(h.events('deduplicated')).toEqual([
      { method: 'Orders.create', how: 'replayed', duration: expect.any(Number) },
    ]);
  });

  it('lets the duplicate run the body itself when the other run fails and releases its claim', async () => {
    const first = processWith('A', processView(shared));
    const second = processWith('B', processView(shared));
    first.body.gate = deferred();
    first.body.failWith = new Error('upstream 503');
    const running = first.orders.create('o-3', 9).catch((error: unknown) => error);
    await h.clock.flush();

    const duplicate = second.orders.create('o-3', 9);
    await h.clock.advance(100);
    first.body.gate.resolve();
    expect(await running).toBe(first.body.failWith);
    await h.clock.advance(250);

    expect(await duplicate).toBe('o-3:9:by-B');
    expect(second.body.runs).toBe(1);
    // The duplicate's result is now the record.
    expect(await first.orders.create('o-3', 9)).toBe('o-3:9:by-B');
    expect(first.body.runs).toBe(1);
  });

  it('lets a waiting duplicate claim and run once the other claim’s lease lapses', async () => {
    const first = processWith('A', processView(shared), { lease: 2_000 });
    const second = processWith('B', processView(shared), { lease: 2_000, wait: 5_000 });
    first.body.gate = deferred(); // a runner that hangs (or crashed): never finishes in this test
    void first.orders.create('o-4', 1).catch(() => undefined);
    await h.clock.flush();

    const duplicate = second.orders.create('o-4', 1);
    await h.clock.advance(1_900);
    expect(second.body.runs).toBe(0);
    await h.clock.advance(400);
    expect(second.body.runs).toBe(1);
    expect(await duplicate).toBe('o-4:1:by-B');
  });

  it('lets a later call claim and run once a crashed runner’s lease has lapsed', async () => {
    const first = processWith('A', processView(shared), { lease: 2_000, wait: 0 });
    const second = processWith('B', processView(shared), { lease: 2_000, wait: 0 });
    first.body.gate = deferred();
    void first.orders.create('o-5', 1).catch(() => undefined);
    await h.clock.flush();

    // wait 0: a duplicate while the lease holds fails at once.
    expect(await second.orders.create('o-5', 1).catch((error: unknown) => error)).toBeInstanceOf(
      IdempotencyInProgressError,
    );
    await h.clock.advance(2_000);
    expect(await second.orders.create('o-5', 1)).toBe('o-5:1:by-B');
    expect(second.body.runs).toBe(1);
  });

  it('keeps the result recorded by the runner that took over when the lapsed runner finishes late', async () => {
    const first = processWith('A', processView(shared), { lease: 1_000 });
    const second = processWith('B', processView(shared), { lease: 1_000 });
    first.body.gate = deferred();
    const late = first.orders.create('o-6', 3);
    await h.clock.flush();
    await h.clock.advance(1_000);

    const takeover = await second.orders.create('o-6', 3);
    expect(takeover).toBe('o-6:3:by-B');
    first.body.gate.resolve();
    await late;

    // Every later caller must see the result the recorded run's callers saw, not a second one.
    const third = processWith('C', processView(shared));
    expect(await third.orders.create('o-6', 3)).toBe(takeover);
    expect(third.body.runs).toBe(0);
  });
});
