import {
  attemptSignal,
  CircuitBreaker,
  ConfigError,
  configure,
  defaultEngine,
  Hedge,
  Idempotent,
  NotIdempotentError,
  Retryable,
  Timeout,
  type HedgeOptions,
} from '../../src';
import { decoratorMode, useHarness } from '../support/harness';
import { thrownBy } from '../decorators/helpers';
import { deferred, type Deferred } from '../support/deferred';

/** A replica set: each body run waits for the test to settle it; records its attempt signal. */
function replicas(options: HedgeOptions, extra: { breaker?: string } = {}) {
  const runs: { settle: Deferred<string>; signal: AbortSignal | undefined }[] = [];
  class Replicated {
    @Idempotent()
    @Hedge(options)
    @CircuitBreaker({ name: extra.breaker ?? `hedge-${Math.random()}`, consecutiveFailures: 5 })
    async read(): Promise<string> {
      const settle = deferred<string>();
      runs.push({ settle, signal: attemptSignal() as AbortSignal | undefined });
      return settle.promise;
    }
  }
  return { service: new Replicated(), runs };
}

/** Calls that succeed at once: the method's recent calls, that maxExtraLoad is a fraction of. */
async function quickCalls(
  h: ReturnType<typeof useHarness>,
  service: { read(): Promise<string> },
  runs: { settle: Deferred<string> }[],
  count: number,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const pending = service.read();
    await h.clock.flush();
    runs.at(-1)?.settle.resolve('quick');
    await pending;
  }
}

describe(`@Hedge (${decoratorMode} decorators)`, () => {
  afterEach(() => configure({ retryBudget: false }));

  it('joins an attempt that has not settled after delay with another; the first success wins and the loser is aborted', async () => {
    const h = useHarness();
    const { service, runs } = replicas({ delay: 50, maxExtraLoad: 1 });
    const call = service.read();
    await h.clock.flush();
    expect(runs).toHaveLength(1);

    await h.clock.advance(49);
    expect(runs).toHaveLength(1);
    await h.clock.advance(1);
    expect(runs).toHaveLength(2);
    expect(h.events('hedge')).toEqual([
      { method: 'Replicated.read', attempt: 1, hedge: 1, delay: 50 },
    ]);

    runs[1]?.settle.resolve('from the hedge');
    await expect(call).resolves.toBe('from the hedge');
    expect(runs[0]?.signal?.aborted).toBe(true);
    expect(runs[1]?.signal?.aborted).toBe(false);
    expect(h.events('success')).toHaveLength(1);
  });

  it('never runs more than 1 + maxHedged bodies at once, and stops hedging once one wins', async () => {
    const h = useHarness();
    const { service, runs } = replicas({ delay: 10, maxHedged: 2, maxExtraLoad: 1 });
    await quickCalls(h, service, runs, 2); // hedges stay under maxExtraLoad × calls: let there be calls
    runs.length = 0;
    const call = service.read();
    await h.clock.advance(100);
    expect(runs).toHaveLength(3);
    runs[2]?.settle.resolve('third');
    await expect(call).resolves.toBe('third');
    await h.clock.advance(100);
    expect(runs).toHaveLength(3);
    expect(runs.slice(0, 2).every((run) => run.signal?.aborted === true)).toBe(true);
  });

  it('starts the next attempt at once when one fails, and fails with the last error when all did', async () => {
    const h = useHarness();
    const { service, runs } = replicas({ delay: 1_000, maxHedged: 2, maxExtraLoad: 1 });
    await quickCalls(h, service, runs, 2);
    runs.length = 0;
    const startedAt = h.clock.now();
    const call = service.read().catch((error: unknown) => error);
    await h.clock.flush();
    runs[0]?.settle.reject(new Error('replica 1 down'));
    await h.clock.flush();
    expect(runs).toHaveLength(2);
    runs[1]?.settle.reject(new Error('replica 2 down'));
    await h.clock.flush();
    expect(runs).toHaveLength(3);
    runs[2]?.settle.reject(new Error('replica 3 down'));
    expect(await call).toMatchObject({ message: 'replica 3 down' });
    expect(h.clock.now()).toBe(startedAt); // no delay was waited
  });

  it('counts a loser nowhere: not for the breaker, not as a failure', async () => {
    const h = useHarness();
    const name = `hedge-losers-${decoratorMode}`;
    const { service, runs } = replicas({ delay: 10, maxExtraLoad: 1 }, { breaker: name });
    for (let call = 0; call < 3; call++) {
      const pending = service.read();
      await h.clock.advance(10);
      runs.at(-1)?.settle.resolve('hedge won');
      await pending;
      // the aborted first attempt settles late, with an error: it must count for nothing
      runs.at(-2)?.settle.reject(new Error('late failure of the loser'));
      await h.clock.flush();
    }
    expect(defaultEngine.breaker(name).metrics()).toMatchObject({
      state: 'closed',
      failures: 0,
      consecutiveFailures: 0,
    });
    expect(h.events('failure')).toEqual([]);
    expect(h.events('retry')).toEqual([]);
  });

  it('keeps hedges under maxExtraLoad of the calls in the window', async () => {
    const h = useHarness();
    const { service, runs } = replicas({ delay: 10, maxExtraLoad: 0.25 });
    for (let call = 0; call < 20; call++) {
      const pending = service.read();
      await h.clock.advance(10);
      for (const run of runs) run.settle.resolve('ok');
      await pending;
    }
    // 20 calls: at most 0.25 × calls hedges at any point, so 5 in all
    expect(h.events('hedge')).toHaveLength(5);
  });

  it('spends the retry budget: no hedge when it is spent', async () => {
    const h = useHarness();
    configure({ retryBudget: { ratio: 0, minPerSecond: 0 } });
    const { service, runs } = replicas({ delay: 10, maxExtraLoad: 1 });
    const call = service.read();
    await h.clock.advance(100);
    expect(runs).toHaveLength(1);
    runs[0]?.settle.resolve('alone');
    await expect(call).resolves.toBe('alone');
  });

  it('adapts its delay to a percentile of recent latencies, max until enough are known', async () => {
    const h = useHarness();
    const { service, runs } = replicas({
      delay: { percentile: 0.9, min: 5, max: 500 },
      maxExtraLoad: 1,
    });
    // The first calls get the max delay.
    for (let call = 0; call < 25; call++) {
      const pending = service.read();
      await h.clock.advance(20);
      runs.at(-1)?.settle.resolve('in 20 ms');
      await pending;
    }
    expect(h.events('hedge')).toEqual([]);
    const slow = service.read();
    await h.clock.advance(30);
    // 90 % of recent attempts took about 20 ms: a hedge joined well before the 500 ms max
    expect(h.events('hedge')).toHaveLength(1);
    expect(h.events('hedge')[0]?.delay).toBeGreaterThanOrEqual(20);
    expect(h.events('hedge')[0]?.delay).toBeLessThan(25);
    runs.at(-1)?.settle.resolve('hedged');
    await slow;
  });

  it('retries a hedge group that failed as one failed attempt', async () => {
    const h = useHarness();
    let runs = 0;
    class Retried {
      @Idempotent()
      @Retryable({ maxAttempts: 2, initialDelay: 0, maxDelay: 0, jitter: 'none' })
      @Hedge({ delay: 10, maxExtraLoad: 1 })
      @Timeout(1_000)
      async read(): Promise<string> {
        if (++runs <= 2) throw new Error(`run ${runs} failed`);
        return `run ${runs}`;
      }
    }
    await expect(new Retried().read()).resolves.toBe('run 3');
    expect(h.events('retry')).toEqual([
      expect.objectContaining({
        attempt: 1,
        error: expect.objectContaining({ message: 'run 2 failed' }),
      }),
    ]);
  });

  it('runs the body of a keyed method at most once per key across calls: the hedges of a call run inside its claim', async () => {
    const h = useHarness();
    const bodies: Deferred<string>[] = [];
    class Quotes {
      @Idempotent({ key: (id: string) => id })
      @Hedge({ delay: 10, maxExtraLoad: 1 })
      async quote(_id: string): Promise<string> {
        const settle = deferred<string>();
        bodies.push(settle);
        return settle.promise;
      }
    }
    const quotes = new Quotes();
    const first = quotes.quote('q-1');
    await h.clock.advance(10);
    expect(bodies).toHaveLength(2); // the call and its hedge
    bodies[1]?.resolve('quote 42');
    await expect(first).resolves.toBe('quote 42');

    await expect(quotes.quote('q-1')).resolves.toBe('quote 42');
    expect(bodies).toHaveLength(2);
  });

  it('is refused by the NestJS boot check like an unmarked @Retryable (the list it reads)', async () => {
    const { unmarkedRetryables } = await import('../../src/runtime/policy');
    class Unmarked {
      @Hedge({ delay: 10 })
      async read(): Promise<string> {
        return 'x';
      }
    }
    expect(unmarkedRetryables(Unmarked)).toEqual([
      [decoratorMode === 'legacy' ? 'Unmarked.read' : 'Unmarked.read', '@Hedge'],
    ]);
  });

  describe('only for @Idempotent methods', () => {
    it('refuses an unmarked method before its body runs, with NotIdempotentError naming @Hedge', async () => {
      useHarness();
      let runs = 0;
      class Charge {
        @Hedge({ delay: 10 })
        async charge(): Promise<string> {
          runs++;
          return 'charged';
        }
      }
      const error = await new Charge().charge().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(NotIdempotentError);
      expect((error as Error).message).toMatch(/is @Hedge but not @Idempotent/);
      expect(runs).toBe(0);
    });
  });

  describe('bad options', () => {
    it.each([
      ['no delay', {}, 'delay'],
      ['a negative delay', { delay: -1 }, 'delay'],
      ['maxHedged 0', { delay: 10, maxHedged: 0 }, 'maxHedged'],
      ['maxHedged 5', { delay: 10, maxHedged: 5 }, 'maxHedged'],
      ['maxHedged 1.5', { delay: 10, maxHedged: 1.5 }, 'maxHedged'],
      ['a percentile of 1', { delay: { percentile: 1, min: 1, max: 10 } }, 'delay.percentile'],
      ['a percentile of 0', { delay: { percentile: 0, min: 1, max: 10 } }, 'delay.percentile'],
      ['max below min', { delay: { percentile: 0.9, min: 10, max: 5 } }, 'delay.max'],
      ['maxExtraLoad 0', { delay: 10, maxExtraLoad: 0 }, 'maxExtraLoad'],
      ['an unknown key', { delay: 10, maxHedges: 2 }, 'maxHedges'],
    ])('refuses %s at definition', (_what, options, option) => {
      const error = thrownBy(() => replicas(options as HedgeOptions));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ option });
    });
  });
});
