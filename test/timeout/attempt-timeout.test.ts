import {
  CircuitBreaker,
  CircuitOpenError,
  Idempotent,
  Retryable,
  SteadfastError,
  Timeout,
  TimeoutError,
  defaultEngine,
  isTimeoutError,
} from '../../src';
import {
  DownstreamError,
  decoratorMode,
  hang,
  track,
  uniqueName,
  useStageHarness,
} from '../pipeline/support';

describe(`@Timeout: each attempt's deadline (${decoratorMode} decorators)`, () => {
  it('rejects a hung attempt with TimeoutError exactly at its deadline, not a millisecond before', async () => {
    const h = useStageHarness();
    class Quotes {
      runs = 0;
      @Timeout(250)
      async price(): Promise<number> {
        this.runs++;
        return hang();
      }
    }
    const quotes = new Quotes();

    const call = track(quotes.price());
    await h.clock.advance(249);
    expect(call.state).toBe('pending');
    await h.clock.advance(1);

    expect(call.state).toBe('rejected');
    expect(call.error).toBeInstanceOf(TimeoutError);
    expect(quotes.runs).toBe(1);
  });

  it('gives the TimeoutError its code, method, kind, timeout and retryable flag', async () => {
    const h = useStageHarness();
    class Quotes {
      @Timeout(250)
      async price(): Promise<number> {
        return hang();
      }
    }

    const call = track(new Quotes().price());
    await h.clock.advance(250);

    const error = call.error as TimeoutError;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toBeInstanceOf(SteadfastError);
    expect(error).toBeInstanceOf(Error);
    expect(isTimeoutError(error)).toBe(true);
    expect(isTimeoutError(new Error('timeout'))).toBe(false);
    expect({
      name: error.name,
      code: error.code,
      method: error.method,
      kind: error.kind,
      timeout: error.timeout,
      retryable: error.retryable,
    }).toEqual({
      name: 'TimeoutError',
      code: 'STEADFAST_TIMEOUT',
      method: 'Quotes.price',
      kind: 'attempt',
      timeout: 250,
      retryable: true,
    });
    expect(error.message).toContain('Quotes.price');
  });

  it('resolves with the body value when the body settles before the deadline', async () => {
    const h = useStageHarness();
    class Quotes {
      @Timeout(250)
      async price(): Promise<number> {
        await h.clock.sleep(249);
        return 42;
      }
    }

    const call = track(new Quotes().price());
    await h.clock.advance(249);
    expect(call).toMatchObject({ state: 'resolved', value: 42 });
    await h.clock.advance(10_000);
    expect(call).toMatchObject({ state: 'resolved', value: 42 });
    expect(h.events('timeout')).toEqual([]);
  });

  it('passes on a synchronous throw of the body as it is', async () => {
    const h = useStageHarness();
    const thrown = new DownstreamError('no quote');
    class Quotes {
      @Timeout(250)
      price(): Promise<number> {
        throw thrown;
      }
    }

    const call = track(new Quotes().price());
    await h.clock.flush();
    expect(call).toMatchObject({ state: 'rejected', error: thrown });
  });

  it('emits timeout with method, kind, timeout and the attempt that ran out of time', async () => {
    const h = useStageHarness();
    class Quotes {
      @Idempotent()
      @Retryable({ maxAttempts: 2, initialDelay: 10, jitter: 'none' })
      @Timeout(100)
      async price(): Promise<number> {
        return hang();
      }
    }

    const call = track(new Quotes().price());
    await h.clock.advance(100);
    expect(h.events('timeout')).toEqual([
      { method: 'Quotes.price', kind: 'attempt', timeout: 100, attempt: 1 },
    ]);
    await h.clock.advance(110);

    expect(h.events('timeout')).toEqual([
      { method: 'Quotes.price', kind: 'attempt', timeout: 100, attempt: 1 },
      { method: 'Quotes.price', kind: 'attempt', timeout: 100, attempt: 2 },
    ]);
    expect(call.state).toBe('rejected');
  });

  it('gives each attempt the full deadline from its own start', async () => {
    const h = useStageHarness();
    const startedAt: number[] = [];
    class Quotes {
      @Idempotent()
      @Retryable({ maxAttempts: 2, initialDelay: 30, jitter: 'none' })
      @Timeout(100)
      async price(): Promise<number> {
        startedAt.push(h.clock.now());
        return hang();
      }
    }

    const call = track(new Quotes().price());
    const origin = h.clock.now();
    await h.clock.advance(229);
    expect(call.state).toBe('pending');
    await h.clock.advance(1);

    expect(startedAt.map((at) => at - origin)).toEqual([0, 130]);
    expect(call.state).toBe('rejected');
  });

  it("ignores an abandoned attempt's late result: the call takes the next attempt's", async () => {
    const h = useStageHarness();
    let runs = 0;
    class Quotes {
      @Idempotent()
      @Retryable({ maxAttempts: 2, initialDelay: 10, jitter: 'none' })
      @Timeout(100)
      async price(): Promise<string> {
        const run = ++runs;
        // attempt 1 answers at 150, after its deadline (100) and while attempt 2 (from 110) runs
        await h.clock.sleep(run === 1 ? 150 : 90);
        return `answer of attempt ${run}`;
      }
    }

    const call = track(new Quotes().price());
    await h.clock.advance(150);
    expect(call.state).toBe('pending');
    await h.clock.advance(50);

    expect(call).toMatchObject({ state: 'resolved', value: 'answer of attempt 2' });
    expect(h.events('success')).toEqual([
      { method: 'Quotes.price', attempts: 2, duration: expect.any(Number) },
    ]);
  });

  it("ignores an abandoned attempt's late rejection: no unhandled rejection, no log line, the call keeps its TimeoutError", async () => {
    // jest fails the running test on an unhandled rejection; test/timeout/process.test.ts also
    // checks this with a real process 'unhandledRejection' listener.
    const h = useStageHarness();
    const late = new DownstreamError('too late');
    class Quotes {
      @Timeout(100)
      async price(): Promise<number> {
        await h.clock.sleep(300);
        throw late;
      }
    }

    const call = track(new Quotes().price());
    await h.clock.advance(100);
    const logged = h.logger.entries.length;
    const failures = h.events('failure').length;
    await h.clock.advance(300);
    await h.clock.flush();

    expect(call.state).toBe('rejected');
    expect(call.error).toBeInstanceOf(TimeoutError);
    expect(h.logger.entries.length).toBe(logged);
    expect(h.events('failure').length).toBe(failures);
    expect(h.logger.entries.some((entry) => entry.fields.error === late)).toBe(false);
  });

  it('needs no @Idempotent: without @Retryable a timed-out call runs its body once', async () => {
    const h = useStageHarness();
    class Quotes {
      runs = 0;
      @Timeout(100)
      async price(): Promise<number> {
        this.runs++;
        return hang();
      }
    }
    const quotes = new Quotes();

    const call = track(quotes.price());
    await h.clock.advance(10_000);

    expect(call.error).toBeInstanceOf(TimeoutError);
    expect(quotes.runs).toBe(1);
    expect(h.events('failure')).toEqual([
      expect.objectContaining({ method: 'Quotes.price', attempts: 1, error: call.error }),
    ]);
    expect(h.logger.at('error')).toHaveLength(1);
  });
});

describe(`@Timeout with @Retryable: an attempt timeout is retried like any failure (${decoratorMode} decorators)`, () => {
  it('retries timed-out attempts and resolves with the first answer in time', async () => {
    const h = useStageHarness();
    let runs = 0;
    class Quotes {
      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 10, jitter: 'none' })
      @Timeout(100)
      async price(): Promise<number> {
        runs++;
        if (runs < 3) return hang();
        return 7;
      }
    }

    const call = track(new Quotes().price());
    await h.clock.runAll();

    expect(call).toMatchObject({ state: 'resolved', value: 7 });
    expect(runs).toBe(3);
    const retries = h.events('retry');
    expect(retries.map(({ attempt, delay }) => ({ attempt, delay }))).toEqual([
      { attempt: 1, delay: 10 },
      { attempt: 2, delay: 20 },
    ]);
    expect(
      retries.every(({ error }) => error instanceof TimeoutError && error.kind === 'attempt'),
    ).toBe(true);
    expect(
      h.logger.at('warn').filter((entry) => entry.fields.method === 'Quotes.price'),
    ).toHaveLength(2);
  });

  it("rejects with the last attempt's TimeoutError once every attempt timed out, logged once at error", async () => {
    const h = useStageHarness();
    class Quotes {
      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 10, jitter: 'none' })
      @Timeout(100)
      async price(): Promise<number> {
        return hang();
      }
    }

    const call = track(new Quotes().price());
    await h.clock.runAll();

    expect(call.state).toBe('rejected');
    expect(call.error).toMatchObject({ kind: 'attempt', timeout: 100 });
    expect(h.events('failure')).toEqual([
      {
        method: 'Quotes.price',
        attempts: 3,
        reason: 'exhausted',
        error: call.error,
        duration: expect.any(Number),
      },
    ]);
    expect(h.events('timeout').map(({ attempt }) => attempt)).toEqual([1, 2, 3]);
    expect(h.logger.at('error')).toHaveLength(1);
    expect(h.logger.at('error')[0]?.fields.error).toBe(call.error);
  });

  it('does not retry a timeout that retryOn leaves out', async () => {
    const h = useStageHarness();
    let runs = 0;
    class Quotes {
      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 10, retryOn: [DownstreamError] })
      @Timeout(100)
      async price(): Promise<number> {
        runs++;
        return hang();
      }
    }

    const call = track(new Quotes().price());
    await h.clock.runAll();

    expect(call.error).toBeInstanceOf(TimeoutError);
    expect(runs).toBe(1);
    expect(h.events('retry')).toEqual([]);
    expect(h.events('failure')).toEqual([
      expect.objectContaining({ attempts: 1, reason: 'not-retryable' }),
    ]);
  });
});

describe(`@Timeout with @CircuitBreaker: a timed-out attempt counts for the breaker (${decoratorMode} decorators)`, () => {
  it('opens the breaker on hung calls, then refuses without running the body', async () => {
    const h = useStageHarness();
    const name = uniqueName('hung-calls');
    class Quotes {
      runs = 0;
      @CircuitBreaker({ name, consecutiveFailures: 3, openDuration: 60_000 })
      @Timeout(100)
      async price(): Promise<number> {
        this.runs++;
        return hang();
      }
    }
    const quotes = new Quotes();

    for (let i = 0; i < 3; i++) {
      const call = track(quotes.price());
      await h.clock.advance(100);
      expect(call.error).toBeInstanceOf(TimeoutError);
    }
    expect(defaultEngine.breaker(name).state).toBe('open');
    const refused = track(quotes.price());
    await h.clock.flush();

    expect(refused.error).toBeInstanceOf(CircuitOpenError);
    expect(quotes.runs).toBe(3);
    expect(h.events('stateChange')).toEqual([
      expect.objectContaining({ circuit: name, from: 'closed', to: 'open' }),
    ]);
  });

  it('counts each timed-out attempt as a failure and as a slow call', async () => {
    const h = useStageHarness();
    const name = uniqueName('slow-metrics');
    class Quotes {
      @CircuitBreaker({
        name,
        failureRate: { threshold: 1, window: { type: 'count', size: 10 }, minimumCalls: 10 },
        slowCall: { duration: 5_000, rateThreshold: 1 },
      })
      @Timeout(100)
      async price(): Promise<number> {
        return hang();
      }
    }

    for (let i = 0; i < 2; i++) {
      track(new Quotes().price());
      await h.clock.advance(100);
    }

    expect(defaultEngine.breaker(name).metrics()).toMatchObject({
      state: 'closed',
      calls: 2,
      failures: 2,
      slowCalls: 2,
    });
  });

  it('opens on the slow-call rate when timeouts are not recorded as failures', async () => {
    const h = useStageHarness();
    const name = uniqueName('slow-calls');
    class Quotes {
      runs = 0;
      @CircuitBreaker({
        name,
        recordOn: [DownstreamError],
        failureRate: { threshold: 1, window: { type: 'count', size: 2 }, minimumCalls: 2 },
        slowCall: { duration: 50, rateThreshold: 1 },
      })
      @Timeout(100)
      async price(): Promise<number> {
        this.runs++;
        return hang();
      }
    }
    const quotes = new Quotes();

    for (let i = 0; i < 2; i++) {
      track(quotes.price());
      await h.clock.advance(100);
    }
    const refused = track(quotes.price());
    await h.clock.flush();

    expect(defaultEngine.breaker(name).state).toBe('open');
    expect(h.events('stateChange')[0]?.reason).toContain('slow');
    expect(refused.error).toBeInstanceOf(CircuitOpenError);
    expect(quotes.runs).toBe(2);
  });
});
