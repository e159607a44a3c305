import {
  Bulkhead,
  BulkheadRejectedError,
  CircuitBreaker,
  ConfigError,
  Idempotent,
  Retryable,
  SteadfastError,
  Timeout,
  TimeoutError,
  defaultEngine,
  isBulkheadRejectedError,
} from '../../src';
import {
  DownstreamError,
  decoratorMode,
  deferred,
  hang,
  track,
  uniqueName,
  useStageHarness,
  type Deferred,
} from '../pipeline/support';

describe(`@Bulkhead: how many attempts run at once (${decoratorMode} decorators)`, () => {
  it('never runs more than maxConcurrent of 50 concurrent calls, and runs them all, first in first out', async () => {
    const h = useStageHarness();
    const name = uniqueName('fifty');
    let running = 0;
    let mostAtOnce = 0;
    const started: number[] = [];
    let handleOverLimit = false;
    class Inventory {
      @Bulkhead({ name, maxConcurrent: 5, maxQueued: 45 })
      async reserve(n: number): Promise<number> {
        started.push(n);
        running++;
        mostAtOnce = Math.max(mostAtOnce, running);
        if (defaultEngine.bulkhead(name).running > 5) handleOverLimit = true;
        // uneven durations, so slots free up in a different order than they were taken
        await h.clock.sleep(10 + ((n * 7) % 13));
        running--;
        return n;
      }
    }
    const inventory = new Inventory();

    const calls = Array.from({ length: 50 }, (_, n) => track(inventory.reserve(n)));
    await h.clock.flush();
    expect(defaultEngine.bulkhead(name)).toMatchObject({ running: 5, queued: 45, rejected: 0 });
    await h.clock.runAll();

    expect(calls.map((call) => call.value)).toEqual(Array.from({ length: 50 }, (_, n) => n));
    expect(mostAtOnce).toBe(5);
    expect(handleOverLimit).toBe(false);
    expect(started).toEqual(Array.from({ length: 50 }, (_, n) => n));
    expect(defaultEngine.bulkhead(name)).toMatchObject({ running: 0, queued: 0, rejected: 0 });
  });

  it('admits queued calls first in first out as slots free up', async () => {
    const h = useStageHarness();
    const gates = new Map<string, Deferred<string>>();
    const started: string[] = [];
    class Inventory {
      @Bulkhead(1, 3)
      async reserve(sku: string): Promise<string> {
        started.push(sku);
        const gate = deferred<string>();
        gates.set(sku, gate);
        return gate.promise;
      }
    }
    const inventory = new Inventory();

    const calls = ['a', 'b', 'c', 'd'].map((sku) => track(inventory.reserve(sku)));
    await h.clock.flush();
    expect(started).toEqual(['a']);
    gates.get('a')?.resolve('a done');
    await h.clock.flush();
    expect(started).toEqual(['a', 'b']);
    gates.get('b')?.reject(new DownstreamError('b failed'));
    await h.clock.flush();
    expect(started).toEqual(['a', 'b', 'c']);
    gates.get('c')?.resolve('c done');
    await h.clock.flush();
    gates.get('d')?.resolve('d done');
    await h.clock.flush();

    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect(calls.map((call) => call.state)).toEqual([
      'resolved',
      'rejected',
      'resolved',
      'resolved',
    ]);
  });

  it('rejects a call at once when no slot is free and the queue is full, without running the body', async () => {
    const h = useStageHarness();
    let runs = 0;
    class Inventory {
      @Bulkhead(1, 1)
      async reserve(): Promise<string> {
        runs++;
        return hang();
      }
    }
    const inventory = new Inventory();

    track(inventory.reserve());
    track(inventory.reserve());
    const third = track(inventory.reserve());
    await h.clock.flush();

    expect(runs).toBe(1);
    const error = third.error as BulkheadRejectedError;
    expect(error).toBeInstanceOf(BulkheadRejectedError);
    expect(error).toBeInstanceOf(SteadfastError);
    expect(isBulkheadRejectedError(error)).toBe(true);
    expect({
      name: error.name,
      code: error.code,
      method: error.method,
      bulkhead: error.bulkhead,
      reason: error.reason,
    }).toEqual({
      name: 'BulkheadRejectedError',
      code: 'STEADFAST_BULKHEAD_FULL',
      method: 'Inventory.reserve',
      bulkhead: 'Inventory.reserve',
      reason: 'full',
    });
    expect(h.events('bulkheadRejected')).toEqual([
      { method: 'Inventory.reserve', bulkhead: 'Inventory.reserve', reason: 'full' },
    ]);
    expect(h.events('failure')).toEqual([
      expect.objectContaining({ method: 'Inventory.reserve', reason: 'bulkhead-full', error }),
    ]);
    expect(h.logger.at('error')).toHaveLength(1);
    expect(defaultEngine.bulkhead('Inventory.reserve')).toMatchObject({
      running: 1,
      queued: 1,
      rejected: 1,
    });
  });

  it('queues nothing by default: @Bulkhead(maxConcurrent) rejects the first call that finds no slot', async () => {
    const h = useStageHarness();
    class Inventory {
      @Bulkhead(2)
      async reserve(): Promise<string> {
        return hang();
      }
    }
    const inventory = new Inventory();

    const calls = [
      track(inventory.reserve()),
      track(inventory.reserve()),
      track(inventory.reserve()),
    ];
    await h.clock.flush();

    expect(calls.map((call) => call.state)).toEqual(['pending', 'pending', 'rejected']);
    expect(defaultEngine.bulkhead('Inventory.reserve')).toMatchObject({
      maxConcurrent: 2,
      maxQueued: 0,
      running: 2,
      queued: 0,
    });
  });

  it('gives the slot back however an attempt ends: value, rejection, synchronous throw', async () => {
    const h = useStageHarness();
    const outcomes = ['value', 'rejection', 'throw'];
    let runs = 0;
    class Inventory {
      @Bulkhead(1)
      reserve(): Promise<string> {
        const outcome = outcomes[runs++];
        if (outcome === 'throw') throw new DownstreamError('sync');
        if (outcome === 'rejection') return Promise.reject(new DownstreamError('async'));
        return Promise.resolve('reserved');
      }
    }
    const inventory = new Inventory();

    for (let i = 0; i < 3; i++) {
      const call = track(inventory.reserve());
      await h.clock.flush();
      expect(call.state).toBe(i === 0 ? 'resolved' : 'rejected');
      expect(defaultEngine.bulkhead('Inventory.reserve').running).toBe(0);
    }
    const last = track(Promise.resolve().then(() => inventory.reserve()));
    await h.clock.flush();
    expect(last.state).not.toBe('pending');
    expect(last.error).not.toBeInstanceOf(BulkheadRejectedError);
  });
});

describe(`@Bulkhead: leaving the queue (${decoratorMode} decorators)`, () => {
  it("lets a queued call leave at once when its signal aborts, rejecting with the signal's reason", async () => {
    const h = useStageHarness();
    const started: string[] = [];
    const gate = deferred<string>();
    class Inventory {
      @Bulkhead(1, 2)
      async reserve(sku: string, _signal?: AbortSignal): Promise<string> {
        started.push(sku);
        return gate.promise;
      }
    }
    const inventory = new Inventory();
    const controller = new AbortController();

    track(inventory.reserve('a'));
    const queued = track(inventory.reserve('b', controller.signal));
    const next = track(inventory.reserve('c'));
    await h.clock.flush();
    expect(defaultEngine.bulkhead('Inventory.reserve').queued).toBe(2);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await h.clock.flush();

    expect(queued).toMatchObject({ state: 'rejected', error: reason });
    expect(defaultEngine.bulkhead('Inventory.reserve').queued).toBe(1);
    gate.resolve('done');
    await h.clock.flush();
    expect(started).toEqual(['a', 'c']);
    expect(next.state).toBe('resolved');
  });

  it('lets a queued call of a method with @Timeout leave at once when its signal aborts', async () => {
    const h = useStageHarness();
    let runs = 0;
    class Inventory {
      @Bulkhead(1, 1)
      @Timeout(10_000)
      async reserve(_signal?: AbortSignal): Promise<string> {
        runs++;
        return hang();
      }
    }
    const inventory = new Inventory();
    const controller = new AbortController();

    track(inventory.reserve());
    const queued = track(inventory.reserve(controller.signal));
    await h.clock.flush();
    controller.abort();
    await h.clock.flush();

    expect(queued).toMatchObject({ state: 'rejected', error: controller.signal.reason });
    expect(defaultEngine.bulkhead('Inventory.reserve').queued).toBe(0);
    expect(runs).toBe(1);
  });

  it("reports a queued call that left on its caller's abort as failure reason 'aborted'", async () => {
    const h = useStageHarness();
    class Inventory {
      @Bulkhead(1, 1)
      @Timeout(10_000)
      async reserve(_signal?: AbortSignal): Promise<string> {
        return hang();
      }
    }
    const inventory = new Inventory();
    const controller = new AbortController();

    track(inventory.reserve());
    track(inventory.reserve(controller.signal));
    await h.clock.flush();
    controller.abort();
    await h.clock.flush();

    expect(h.events('failure')).toEqual([
      expect.objectContaining({
        method: 'Inventory.reserve',
        reason: 'aborted',
        error: controller.signal.reason,
      }),
    ]);
  });

  it("rejects a call queued for queueTimeout ms with BulkheadRejectedError (reason 'queue-timeout')", async () => {
    const h = useStageHarness();
    let runs = 0;
    class Inventory {
      @Bulkhead({ maxConcurrent: 1, maxQueued: 1, queueTimeout: 300 })
      async reserve(): Promise<string> {
        runs++;
        return hang();
      }
    }
    const inventory = new Inventory();

    track(inventory.reserve());
    const queued = track(inventory.reserve());
    await h.clock.advance(299);
    expect(queued.state).toBe('pending');
    await h.clock.advance(1);

    expect(queued.state).toBe('rejected');
    expect(queued.error).toBeInstanceOf(BulkheadRejectedError);
    expect(queued.error).toMatchObject({
      reason: 'queue-timeout',
      bulkhead: 'Inventory.reserve',
      method: 'Inventory.reserve',
    });
    expect(h.events('bulkheadRejected')).toEqual([
      { method: 'Inventory.reserve', bulkhead: 'Inventory.reserve', reason: 'queue-timeout' },
    ]);
    expect(h.events('failure')).toEqual([
      expect.objectContaining({ reason: 'bulkhead-full', error: queued.error }),
    ]);
    expect(defaultEngine.bulkhead('Inventory.reserve')).toMatchObject({
      running: 1,
      queued: 0,
      rejected: 1,
    });
    expect(runs).toBe(1);
  });

  it('does not reject a queued call that got its slot before queueTimeout', async () => {
    const h = useStageHarness();
    const gate = deferred<string>();
    let runs = 0;
    class Inventory {
      @Bulkhead({ maxConcurrent: 1, maxQueued: 1, queueTimeout: 300 })
      async reserve(): Promise<string> {
        if (++runs === 1) return gate.promise;
        await h.clock.sleep(1_000);
        return 'second';
      }
    }
    const inventory = new Inventory();

    track(inventory.reserve());
    const queued = track(inventory.reserve());
    await h.clock.advance(100);
    gate.resolve('first');
    await h.clock.advance(1_000);

    expect(queued).toMatchObject({ state: 'resolved', value: 'second' });
    expect(h.events('bulkheadRejected')).toEqual([]);
  });

  it('lets a queued call leave at its total deadline, with the TimeoutError', async () => {
    const h = useStageHarness();
    class Inventory {
      @Bulkhead(1, 1)
      @Timeout({ total: 500 })
      async reserve(): Promise<string> {
        return hang();
      }
    }
    const inventory = new Inventory();

    track(inventory.reserve());
    await h.clock.advance(100);
    const queued = track(inventory.reserve());
    await h.clock.advance(500);

    expect(queued.error).toBeInstanceOf(TimeoutError);
    expect(queued.error).toMatchObject({ kind: 'total' });
    expect(defaultEngine.bulkhead('Inventory.reserve').queued).toBe(0);
  });
});

describe(`@Bulkhead with @Timeout and @Retryable: when a slot is held (${decoratorMode} decorators)`, () => {
  it("holds the slot until the attempt's deadline, then hands it on though the abandoned body runs on", async () => {
    const h = useStageHarness();
    const startedAt: number[] = [];
    let stillRunning = 0;
    class Inventory {
      @Bulkhead(1, 1)
      @Timeout(100)
      async reserve(): Promise<string> {
        startedAt.push(h.clock.now());
        stillRunning++;
        return hang();
      }
    }
    const inventory = new Inventory();

    const origin = h.clock.now();
    const first = track(inventory.reserve());
    const second = track(inventory.reserve());
    await h.clock.advance(99);
    expect(startedAt).toHaveLength(1);
    await h.clock.advance(1);

    expect(first.error).toBeInstanceOf(TimeoutError);
    expect(startedAt.map((at) => at - origin)).toEqual([0, 100]);
    expect(stillRunning).toBe(2);
    expect(defaultEngine.bulkhead('Inventory.reserve')).toMatchObject({ running: 1, queued: 0 });
    // the queued call's own deadline starts with its attempt, not when it queued
    await h.clock.advance(99);
    expect(second.state).toBe('pending');
    await h.clock.advance(1);
    expect(second.error).toBeInstanceOf(TimeoutError);
  });

  it('gives the slot back at the total deadline, which abandons the running attempt', async () => {
    const h = useStageHarness();
    let runs = 0;
    class Inventory {
      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 10, jitter: 'none' })
      @Bulkhead(1)
      @Timeout({ attempt: 150, total: 200 })
      async reserve(): Promise<string> {
        if (++runs <= 2) return hang();
        return 'reserved';
      }
    }
    const inventory = new Inventory();

    // attempt 1 runs 0-150, attempt 2 from 160 until the total deadline cuts it at 200
    const first = track(inventory.reserve());
    await h.clock.advance(199);
    expect(defaultEngine.bulkhead('Inventory.reserve').running).toBe(1);
    await h.clock.advance(1);

    expect(first.error).toMatchObject({ kind: 'total' });
    expect(runs).toBe(2);
    expect(defaultEngine.bulkhead('Inventory.reserve').running).toBe(0);
    expect(await inventory.reserve()).toBe('reserved');
  });

  it('gives the slot back at the total deadline of a method with only a total deadline', async () => {
    const h = useStageHarness();
    let runs = 0;
    class Inventory {
      @Bulkhead(1)
      @Timeout({ total: 200 })
      async reserve(): Promise<string> {
        if (++runs === 1) return hang();
        return 'reserved';
      }
    }
    const inventory = new Inventory();

    const first = track(inventory.reserve());
    await h.clock.advance(200);
    expect(first.error).toMatchObject({ kind: 'total' });
    const second = track(inventory.reserve());
    await h.clock.flush();

    expect(defaultEngine.bulkhead('Inventory.reserve').running).toBe(0);
    expect(second).toMatchObject({ state: 'resolved', value: 'reserved' });
  });

  it('holds no slot during a retry sleep: another call runs meanwhile', async () => {
    const h = useStageHarness();
    const started: string[] = [];
    class Inventory {
      @Idempotent()
      @Retryable({ maxAttempts: 2, initialDelay: 1_000, jitter: 'none' })
      @Bulkhead(1)
      async reserve(sku: string): Promise<string> {
        started.push(sku);
        if (sku === 'a' && started.filter((s) => s === 'a').length === 1)
          throw new DownstreamError('first try fails');
        return `${sku} reserved`;
      }
    }
    const inventory = new Inventory();

    const a = track(inventory.reserve('a'));
    await h.clock.advance(10);
    expect(defaultEngine.bulkhead('Inventory.reserve').running).toBe(0);
    const b = track(inventory.reserve('b'));
    await h.clock.advance(10);
    expect(b).toMatchObject({ state: 'resolved', value: 'b reserved' });
    await h.clock.advance(1_000);

    expect(a).toMatchObject({ state: 'resolved', value: 'a reserved' });
    expect(started).toEqual(['a', 'b', 'a']);
  });

  it('does not retry a rejection by default: the call ends at once, no sleep', async () => {
    const h = useStageHarness();
    let runs = 0;
    class Inventory {
      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 100 })
      @Bulkhead(1)
      async reserve(): Promise<string> {
        runs++;
        return hang();
      }
    }
    const inventory = new Inventory();

    track(inventory.reserve());
    const second = track(inventory.reserve());
    await h.clock.flush();

    expect(second.error).toBeInstanceOf(BulkheadRejectedError);
    expect(runs).toBe(1);
    expect(h.clock.sleeps).toEqual([]);
    expect(h.events('retry')).toEqual([]);
    expect(h.events('failure')).toEqual([expect.objectContaining({ reason: 'bulkhead-full' })]);
  });

  it.each([
    ['retryOn names BulkheadRejectedError', [BulkheadRejectedError]],
    ['a retryOn predicate accepts it', (error: unknown) => isBulkheadRejectedError(error)],
  ] as const)('retries a rejection when %s', async (_how, retryOn) => {
    const h = useStageHarness();
    const gate = deferred<string>();
    let runs = 0;
    class Inventory {
      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 100, jitter: 'none', retryOn })
      @Bulkhead(1)
      async reserve(): Promise<string> {
        if (++runs === 1) return gate.promise;
        return 'second reserved';
      }
    }
    const inventory = new Inventory();

    const first = track(inventory.reserve());
    const second = track(inventory.reserve());
    await h.clock.flush();
    expect(h.events('retry')).toEqual([
      expect.objectContaining({ attempt: 1, delay: 100, error: expect.any(BulkheadRejectedError) }),
    ]);
    gate.resolve('first reserved');
    await h.clock.advance(100);

    expect(first.value).toBe('first reserved');
    expect(second.value).toBe('second reserved');
  });

  it('does not count a rejection for the breaker: the call never reached the service', async () => {
    const h = useStageHarness();
    const name = uniqueName('bulkhead-breaker');
    const gate = deferred<string>();
    class Inventory {
      @CircuitBreaker({ name, consecutiveFailures: 1 })
      @Bulkhead(1)
      async reserve(): Promise<string> {
        return gate.promise;
      }
    }
    const inventory = new Inventory();

    track(inventory.reserve());
    const rejected = [track(inventory.reserve()), track(inventory.reserve())];
    await h.clock.flush();

    expect(rejected.every((call) => call.error instanceof BulkheadRejectedError)).toBe(true);
    expect(defaultEngine.breaker(name).metrics()).toMatchObject({
      state: 'closed',
      calls: 0,
      failures: 0,
    });
    gate.resolve('reserved');
    await h.clock.flush();
    expect(defaultEngine.breaker(name).metrics()).toMatchObject({
      state: 'closed',
      calls: 1,
      failures: 0,
    });
  });
});

describe(`@Bulkhead: names, scopes and handles (${decoratorMode} decorators)`, () => {
  it('describes a bulkhead with defaultEngine.bulkhead(name): limits and live figures', async () => {
    const h = useStageHarness();
    const name = uniqueName('figures');
    class Inventory {
      @Bulkhead({ name, maxConcurrent: 2, maxQueued: 1 })
      async reserve(): Promise<string> {
        return hang();
      }
    }
    const inventory = new Inventory();

    for (let i = 0; i < 5; i++) track(inventory.reserve());
    await h.clock.flush();

    const handle = defaultEngine.bulkhead(name);
    expect({
      name: handle.name,
      maxConcurrent: handle.maxConcurrent,
      maxQueued: handle.maxQueued,
      running: handle.running,
      queued: handle.queued,
      rejected: handle.rejected,
    }).toEqual({ name, maxConcurrent: 2, maxQueued: 1, running: 2, queued: 1, rejected: 2 });
    expect(defaultEngine.bulkheads()).toContain(handle);
  });

  it('is shared by name across methods and classes', async () => {
    const h = useStageHarness();
    const name = uniqueName('shared');
    class Inventory {
      @Bulkhead({ name, maxConcurrent: 1 })
      async reserve(): Promise<string> {
        return hang();
      }
    }
    class Shipping {
      @Bulkhead({ name, maxConcurrent: 1 })
      async book(): Promise<string> {
        return 'booked';
      }
    }

    track(new Inventory().reserve());
    const booking = track(new Shipping().book());
    await h.clock.flush();

    expect(booking.error).toBeInstanceOf(BulkheadRejectedError);
    expect(booking.error).toMatchObject({ bulkhead: name, method: 'Shipping.book' });
  });

  it("gives each instance its own bulkhead with scope 'instance'", async () => {
    const h = useStageHarness();
    const name = uniqueName('per-instance');
    class Inventory {
      @Bulkhead({ name, maxConcurrent: 1, scope: 'instance' })
      async reserve(): Promise<string> {
        return hang();
      }
    }
    const one = new Inventory();
    const other = new Inventory();

    track(one.reserve());
    const sameInstance = track(one.reserve());
    const otherInstance = track(other.reserve());
    await h.clock.flush();

    expect(sameInstance.error).toBeInstanceOf(BulkheadRejectedError);
    expect(otherInstance.state).toBe('pending');
    expect(defaultEngine.bulkhead(name, one)).toMatchObject({ running: 1, rejected: 1 });
    expect(defaultEngine.bulkhead(name, other)).toMatchObject({ running: 1, rejected: 0 });
    expect(() => defaultEngine.bulkhead(name)).toThrow(ConfigError);
  });

  it('refuses a name no bulkhead is declared under', () => {
    expect(() => defaultEngine.bulkhead(uniqueName('never-declared'))).toThrow(ConfigError);
  });
});
