import {
  CircuitBreaker,
  CircuitOpenError,
  configure,
  defaultEngine,
  Idempotent,
  IdempotencyConflictError,
  MemoryStore,
  Retryable,
} from '../../src';
import { decoratorMode, useHarness, type Harness } from '../support/harness';
import { deferred, isSettled, rejectionOf } from './support';

interface Charge {
  readonly requestId: string;
  readonly cents: number;
  readonly meta?: Record<string, unknown>;
}

interface Receipt {
  readonly receipt: string;
  readonly cents: number;
  readonly lines: { readonly n: number }[];
}

describe(`keyed @Idempotent in one process (${decoratorMode} decorators)`, () => {
  let h: Harness;
  beforeEach(() => {
    h = useHarness();
    configure({ store: new MemoryStore() });
  });
  afterAll(() => {
    configure({ store: new MemoryStore() });
  });

  it('runs the body once per key within the ttl and replays a deep-equal fresh copy to later calls', async () => {
    let runs = 0;
    class Payments {
      @Idempotent({ key: (req: Charge) => req.requestId })
      async charge(req: Charge): Promise<Receipt> {
        runs++;
        return { receipt: `r-${runs}`, cents: req.cents, lines: [{ n: 1 }, { n: 2 }] };
      }
    }
    const payments = new Payments();

    const first = await payments.charge({ requestId: 'req-1', cents: 500 });
    const second = await payments.charge({ requestId: 'req-1', cents: 500 });
    const third = await payments.charge({ requestId: 'req-1', cents: 500 });

    expect(runs).toBe(1);
    expect(first).toEqual({ receipt: 'r-1', cents: 500, lines: [{ n: 1 }, { n: 2 }] });
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(second).not.toBe(first);
    expect(third).not.toBe(second);
    expect(second.lines).not.toBe(first.lines);
    // A caller that mutates its copy changes nothing for the next one.
    second.lines.push({ n: 99 });
    expect((await payments.charge({ requestId: 'req-1', cents: 500 })).lines).toEqual([
      { n: 1 },
      { n: 2 },
    ]);
    expect(h.events('deduplicated')).toEqual([
      { method: 'Payments.charge', how: 'replayed', duration: expect.any(Number) },
      { method: 'Payments.charge', how: 'replayed', duration: expect.any(Number) },
      { method: 'Payments.charge', how: 'replayed', duration: expect.any(Number) },
    ]);
    // Another key is another operation.
    await payments.charge({ requestId: 'req-2', cents: 500 });
    expect(runs).toBe(2);
  });

  it('lets concurrent calls with one key share the call in flight: one body run, one result', async () => {
    const gate = deferred<void>();
    let runs = 0;
    class Payments {
      @Idempotent({ key: (req: Charge) => req.requestId })
      async charge(req: Charge): Promise<Receipt> {
        runs++;
        await gate.promise;
        return { receipt: `r-${runs}`, cents: req.cents, lines: [] };
      }
    }
    const payments = new Payments();

    const a = payments.charge({ requestId: 'req-9', cents: 100 });
    const b = payments.charge({ requestId: 'req-9', cents: 100 });
    const c = payments.charge({ requestId: 'req-9', cents: 100 });
    await h.clock.flush();
    expect(runs).toBe(1);
    expect(await isSettled(a)).toBe(false);
    gate.resolve();
    const [ra, rb, rc] = await Promise.all([a, b, c]);

    expect(runs).toBe(1);
    expect(ra).toEqual({ receipt: 'r-1', cents: 100, lines: [] });
    // The joined calls get the very result of the one in flight.
    expect(rb).toBe(ra);
    expect(rc).toBe(ra);
    const later = await payments.charge({ requestId: 'req-9', cents: 100 });
    expect(later).toEqual(ra);
    expect(runs).toBe(1);
    expect(h.events('deduplicated').map((event) => event.how)).toEqual([
      'joined',
      'joined',
      'replayed',
    ]);
    expect(h.events('deduplicated').every((event) => event.method === 'Payments.charge')).toBe(
      true,
    );
  });

  it('records nothing when the run fails: the caller gets the body error and the next call runs the body', async () => {
    const outage = new Error('gateway timeout');
    let runs = 0;
    class Payments {
      @Idempotent({ key: (req: Charge) => req.requestId })
      async charge(req: Charge): Promise<Receipt> {
        runs++;
        if (runs === 1) throw outage;
        return { receipt: `r-${runs}`, cents: req.cents, lines: [] };
      }
    }
    const payments = new Payments();

    expect(await rejectionOf(payments.charge({ requestId: 'req-3', cents: 1 }))).toBe(outage);
    const retried = await payments.charge({ requestId: 'req-3', cents: 1 });
    const replayed = await payments.charge({ requestId: 'req-3', cents: 1 });

    expect(runs).toBe(2);
    expect(retried).toEqual({ receipt: 'r-2', cents: 1, lines: [] });
    expect(replayed).toEqual(retried);
  });

  it('shares a failing run with the calls that joined it, then lets a later call run the body', async () => {
    const gate = deferred<void>();
    const outage = new Error('declined by the bank');
    let runs = 0;
    class Payments {
      @Idempotent({ key: (req: Charge) => req.requestId })
      async charge(req: Charge): Promise<Receipt> {
        runs++;
        if (runs === 1) {
          await gate.promise;
          throw outage;
        }
        return { receipt: `r-${runs}`, cents: req.cents, lines: [] };
      }
    }
    const payments = new Payments();
    const a = payments.charge({ requestId: 'req-4', cents: 7 }).catch((error: unknown) => error);
    const b = payments.charge({ requestId: 'req-4', cents: 7 }).catch((error: unknown) => error);
    gate.resolve();

    expect(await a).toBe(outage);
    expect(await b).toBe(outage);
    expect(runs).toBe(1);
    expect(await payments.charge({ requestId: 'req-4', cents: 7 })).toEqual({
      receipt: 'r-2',
      cents: 7,
      lines: [],
    });
  });

  it('refuses the same key with different arguments, after the run and while it is in flight', async () => {
    const gate = deferred<void>();
    let runs = 0;
    class Payments {
      @Idempotent({ key: (req: Charge) => req.requestId })
      async charge(req: Charge): Promise<Receipt> {
        runs++;
        await gate.promise;
        return { receipt: `r-${runs}`, cents: req.cents, lines: [] };
      }
    }
    const payments = new Payments();

    const inFlight = payments.charge({ requestId: 'req-5', cents: 100 });
    const whileInFlight = await rejectionOf(payments.charge({ requestId: 'req-5', cents: 101 }));
    expect(whileInFlight).toBeInstanceOf(IdempotencyConflictError);
    expect(whileInFlight).toMatchObject({
      code: 'STEADFAST_IDEMPOTENCY_CONFLICT',
      method: 'Payments.charge',
    });
    gate.resolve();
    await inFlight;

    const afterwards = await rejectionOf(payments.charge({ requestId: 'req-5', cents: 999 }));
    expect(afterwards).toBeInstanceOf(IdempotencyConflictError);
    expect(runs).toBe(1);
    // The conflict recorded nothing: the original arguments still replay.
    expect(await payments.charge({ requestId: 'req-5', cents: 100 })).toEqual({
      receipt: 'r-1',
      cents: 100,
      lines: [],
    });
    expect(runs).toBe(1);
  });

  it('fingerprints arguments independently of key order, but not of array order', async () => {
    let runs = 0;
    class Payments {
      @Idempotent({ key: (req: Charge) => req.requestId })
      async charge(req: Charge): Promise<{ n: number }> {
        runs++;
        return { n: req.cents };
      }
    }
    const payments = new Payments();

    await payments.charge({
      requestId: 'req-6',
      cents: 3,
      meta: { a: 1, nested: { x: [1, 2], y: 'z' } },
    });
    const reordered = await payments.charge({
      meta: { nested: { y: 'z', x: [1, 2] }, a: 1 },
      cents: 3,
      requestId: 'req-6',
    } as Charge);
    expect(reordered).toEqual({ n: 3 });
    expect(runs).toBe(1);

    const swapped = await rejectionOf(
      payments.charge({
        requestId: 'req-6',
        cents: 3,
        meta: { a: 1, nested: { x: [2, 1], y: 'z' } },
      }),
    );
    expect(swapped).toBeInstanceOf(IdempotencyConflictError);
    expect(runs).toBe(1);
  });

  it('runs the body again once the ttl has passed (FakeClock)', async () => {
    let runs = 0;
    class Payments {
      @Idempotent({ key: (id: string) => id, ttl: 1_000 })
      async charge(id: string): Promise<string> {
        runs++;
        return `${id}#${runs}`;
      }
    }
    const payments = new Payments();

    expect(await payments.charge('k')).toBe('k#1');
    await h.clock.advance(999);
    expect(await payments.charge('k')).toBe('k#1');
    expect(runs).toBe(1);
    await h.clock.advance(2);
    expect(await payments.charge('k')).toBe('k#2');
    expect(runs).toBe(2);
    // The new record has a ttl of its own, from the second run.
    await h.clock.advance(500);
    expect(await payments.charge('k')).toBe('k#2');
    expect(runs).toBe(2);
  });

  it('namespaces keys per method: the same key on two methods (or two classes) names two operations', async () => {
    const runs: string[] = [];
    class Orders {
      @Idempotent({ key: (id: string) => id })
      async create(id: string): Promise<string> {
        runs.push('Orders.create');
        return `created ${id}`;
      }

      @Idempotent({ key: (id: string) => id })
      async cancel(id: string): Promise<string> {
        runs.push('Orders.cancel');
        return `cancelled ${id}`;
      }
    }
    class Invoices {
      @Idempotent({ key: (id: string) => id })
      async create(id: string): Promise<string> {
        runs.push('Invoices.create');
        return `invoiced ${id}`;
      }
    }
    const orders = new Orders();
    const invoices = new Invoices();

    expect(await orders.create('same')).toBe('created same');
    expect(await orders.cancel('same')).toBe('cancelled same');
    expect(await invoices.create('same')).toBe('invoiced same');
    expect(await orders.create('same')).toBe('created same');
    expect(await orders.cancel('same')).toBe('cancelled same');
    expect(runs).toEqual(['Orders.create', 'Orders.cancel', 'Invoices.create']);
  });

  it('shares one record between instances of a class', async () => {
    let runs = 0;
    class Orders {
      constructor(readonly shard: string) {}
      @Idempotent({ key: (id: string) => id })
      async create(id: string): Promise<string> {
        runs++;
        return `${id} on ${this.shard}`;
      }
    }
    expect(await new Orders('a').create('o-1')).toBe('o-1 on a');
    expect(await new Orders('b').create('o-1')).toBe('o-1 on a');
    expect(runs).toBe(1);
  });

  it('accepts a numeric key, 0 included', async () => {
    let runs = 0;
    class Counter {
      @Idempotent({ key: (n: number) => n })
      async bump(n: number): Promise<number> {
        runs++;
        return n * 10;
      }
    }
    const counter = new Counter();
    expect(await counter.bump(0)).toBe(0);
    expect(await counter.bump(0)).toBe(0);
    expect(await counter.bump(2)).toBe(20);
    expect(runs).toBe(2);
  });

  it('with @Retryable, retries inside the one claim: the body runs until it succeeds once, later calls replay', async () => {
    let runs = 0;
    class Payments {
      @Retryable({ maxAttempts: 4, initialDelay: 100, maxDelay: 1_000, jitter: 'none' })
      @Idempotent({ key: (req: Charge) => req.requestId })
      async charge(req: Charge): Promise<{ attempt: number; cents: number }> {
        runs++;
        if (runs < 3) throw new Error(`flaky ${runs}`);
        return { attempt: runs, cents: req.cents };
      }
    }
    const payments = new Payments();

    const first = payments.charge({ requestId: 'req-7', cents: 42 });
    await h.clock.advance(50);
    // A duplicate arriving during the retry sleep joins the call in flight.
    const duplicate = payments.charge({ requestId: 'req-7', cents: 42 });
    await h.clock.advance(50);
    expect(runs).toBe(2);
    expect(await isSettled(first)).toBe(false);
    await h.clock.advance(200);
    expect(await first).toEqual({ attempt: 3, cents: 42 });
    expect(await duplicate).toEqual({ attempt: 3, cents: 42 });
    expect(h.clock.sleeps).toEqual([100, 200]);
    expect(h.events('retry').map((event) => event.attempt)).toEqual([1, 2]);

    expect(await payments.charge({ requestId: 'req-7', cents: 42 })).toEqual({
      attempt: 3,
      cents: 42,
    });
    expect(runs).toBe(3);
    expect(h.events('deduplicated').map((event) => event.how)).toEqual(['joined', 'replayed']);
  });

  it('with @Retryable, records nothing when every attempt fails: a later call runs the attempts again', async () => {
    let runs = 0;
    class Payments {
      @Idempotent({ key: (id: string) => id })
      @Retryable({ maxAttempts: 2, initialDelay: 10, maxDelay: 10, jitter: 'none' })
      async charge(id: string): Promise<string> {
        runs++;
        if (runs <= 2) throw new Error(`down ${runs}`);
        return `${id} ok`;
      }
    }
    const payments = new Payments();
    const outcome = payments.charge('k').catch((error: unknown) => error);
    await h.clock.advance(10);
    expect(((await outcome) as Error).message).toBe('down 2');
    expect(runs).toBe(2);
    expect(await payments.charge('k')).toBe('k ok');
    expect(await payments.charge('k')).toBe('k ok');
    expect(runs).toBe(3);
  });

  it('replays a recorded result before the breaker is consulted; a refused call records nothing', async () => {
    const name = `keyed-behind-breaker-${decoratorMode}`;
    let runs = 0;
    class Payments {
      @Idempotent({ key: (id: string) => id })
      @CircuitBreaker({ name, consecutiveFailures: 5, openDuration: 60_000 })
      async charge(id: string): Promise<string> {
        runs++;
        return `charged ${id}`;
      }
    }
    const payments = new Payments();
    expect(await payments.charge('k1')).toBe('charged k1');
    defaultEngine.breaker(name).isolate();

    expect(await payments.charge('k1')).toBe('charged k1');
    const refused = await rejectionOf(payments.charge('k2'));
    expect(refused).toBeInstanceOf(CircuitOpenError);
    expect(runs).toBe(1);
    expect(h.events('rejected')).toHaveLength(1);

    defaultEngine.breaker(name).reset();
    expect(await payments.charge('k2')).toBe('charged k2');
    expect(runs).toBe(2);
  });
});
