import {
  CircuitBreaker,
  Idempotent,
  Retryable,
  Timeout,
  TimeoutError,
  defaultEngine,
  type TimeoutOptions,
} from '../../src';
import {
  DownstreamError,
  decoratorMode,
  hang,
  track,
  uniqueName,
  useStageHarness,
} from '../pipeline/support';

describe(`@Timeout({ total }): the whole call's deadline (${decoratorMode} decorators)`, () => {
  it('rejects a hung call with TimeoutError (kind total) exactly at the deadline', async () => {
    const h = useStageHarness();
    class Reports {
      @Timeout({ total: 500 })
      async build(): Promise<string> {
        return hang();
      }
    }

    const call = track(new Reports().build());
    await h.clock.advance(499);
    expect(call.state).toBe('pending');
    await h.clock.advance(1);

    const error = call.error as TimeoutError;
    expect(error).toBeInstanceOf(TimeoutError);
    expect({
      code: error.code,
      method: error.method,
      kind: error.kind,
      timeout: error.timeout,
      retryable: error.retryable,
    }).toEqual({
      code: 'STEADFAST_TIMEOUT',
      method: 'Reports.build',
      kind: 'total',
      timeout: 500,
      retryable: false,
    });
  });

  it('counts the sleeps: a deadline passing during a retry sleep rejects at once and clears the sleep', async () => {
    const h = useStageHarness();
    const startedAt: number[] = [];
    class Reports {
      @Idempotent()
      @Retryable({ maxAttempts: 5, initialDelay: 1_000, jitter: 'none' })
      @Timeout({ total: 1_500 })
      async build(): Promise<string> {
        startedAt.push(h.clock.now());
        throw new DownstreamError('not ready');
      }
    }

    const origin = h.clock.now();
    const call = track(new Reports().build());
    await h.clock.advance(1_499);
    expect(call.state).toBe('pending');
    await h.clock.advance(1);

    expect(call.error).toMatchObject({ kind: 'total', timeout: 1_500 });
    // attempt 2 failed at 1 000 and its 2 000 ms sleep was pending: it is gone, and no attempt follows
    expect(h.clock.pending).toBe(0);
    await h.clock.advance(60_000);
    expect(startedAt.map((at) => at - origin)).toEqual([0, 1_000]);
  });

  it('abandons the running attempt and starts no further one, whatever retryOn says', async () => {
    const h = useStageHarness();
    let runs = 0;
    class Reports {
      @Idempotent()
      @Retryable({ maxAttempts: 5, initialDelay: 10, jitter: 'none', retryOn: () => true })
      @Timeout({ attempt: 100, total: 250 })
      async build(): Promise<string> {
        runs++;
        return hang();
      }
    }

    const call = track(new Reports().build());
    await h.clock.advance(250);
    expect(call.error).toMatchObject({ kind: 'total' });
    expect(runs).toBe(3);
    await h.clock.runAll();

    expect(runs).toBe(3);
    expect(h.events('retry')).toHaveLength(2);
  });

  it('reports attempt timeouts and then the total timeout, in order', async () => {
    const h = useStageHarness();
    class Reports {
      @Idempotent()
      @Retryable({ maxAttempts: 5, initialDelay: 10, multiplier: 1, jitter: 'none' })
      @Timeout({ attempt: 100, total: 250 })
      async build(): Promise<string> {
        return hang();
      }
    }

    track(new Reports().build());
    await h.clock.runAll();

    expect(h.events('timeout')).toEqual([
      { method: 'Reports.build', kind: 'attempt', timeout: 100, attempt: 1 },
      { method: 'Reports.build', kind: 'attempt', timeout: 100, attempt: 2 },
      { method: 'Reports.build', kind: 'total', timeout: 250, attempt: 3 },
    ]);
  });

  it("is the call's final failure: logged once at error, failure reason 'timeout'", async () => {
    const h = useStageHarness();
    class Reports {
      @Idempotent()
      @Retryable({ maxAttempts: 5, initialDelay: 10, multiplier: 1, jitter: 'none' })
      @Timeout({ attempt: 100, total: 250 })
      async build(): Promise<string> {
        return hang();
      }
    }

    const call = track(new Reports().build());
    await h.clock.runAll();

    expect(h.events('failure')).toEqual([
      {
        method: 'Reports.build',
        attempts: 3,
        reason: 'timeout',
        error: call.error,
        duration: expect.any(Number),
      },
    ]);
    const errors = h.logger.at('error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.fields).toMatchObject({
      method: 'Reports.build',
      reason: 'timeout',
      error: call.error,
    });
    // two failed attempts were retried (warn); the abandoned third is not logged as a retry
    expect(
      h.logger.at('warn').filter((entry) => entry.fields.method === 'Reports.build'),
    ).toHaveLength(2);
  });

  it("reports attempt 0 when the deadline passes while no attempt runs (a retry sleep), as TimeoutEvent's doc says", async () => {
    const h = useStageHarness();
    class Reports {
      @Idempotent()
      @Retryable({ maxAttempts: 5, initialDelay: 1_000, jitter: 'none' })
      @Timeout({ total: 1_500 })
      async build(): Promise<string> {
        throw new DownstreamError('not ready');
      }
    }

    track(new Reports().build());
    await h.clock.advance(1_500);

    expect(h.events('timeout')).toEqual([
      { method: 'Reports.build', kind: 'total', timeout: 1_500, attempt: 0 },
    ]);
  });

  it('resolves normally when a retried call succeeds within the deadline', async () => {
    const h = useStageHarness();
    let runs = 0;
    class Reports {
      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 100, jitter: 'none' })
      @Timeout({ total: 1_000 })
      async build(): Promise<string> {
        if (++runs < 3) throw new DownstreamError('not ready');
        return 'report';
      }
    }

    const call = track(new Reports().build());
    await h.clock.runAll();

    expect(call).toMatchObject({ state: 'resolved', value: 'report' });
    expect(h.events('timeout')).toEqual([]);
    expect(h.events('failure')).toEqual([]);
  });

  it('leaves maxElapsed as it is: a sleep that would end past maxElapsed is not started, before the total deadline', async () => {
    const h = useStageHarness();
    let runs = 0;
    const last = new DownstreamError('still not ready');
    class Reports {
      @Idempotent()
      @Retryable({ maxAttempts: 5, initialDelay: 400, jitter: 'none', maxElapsed: 1_000 })
      @Timeout({ total: 5_000 })
      async build(): Promise<string> {
        runs++;
        throw runs === 2 ? last : new DownstreamError('not ready');
      }
    }

    const call = track(new Reports().build());
    // attempt 1 at 0, sleep 400, attempt 2 at 400; the next sleep (800) would end at 1 200 > 1 000
    await h.clock.advance(400);

    expect(call).toMatchObject({ state: 'rejected', error: last });
    expect(runs).toBe(2);
    expect(h.events('failure')).toEqual([
      expect.objectContaining({ reason: 'budget', error: last }),
    ]);
    expect(h.events('timeout')).toEqual([]);
  });

  it('is a hard deadline even when maxElapsed would allow more', async () => {
    const h = useStageHarness();
    class Reports {
      @Idempotent()
      @Retryable({ maxAttempts: 5, initialDelay: 100, jitter: 'none', maxElapsed: 10_000 })
      @Timeout({ total: 250 })
      async build(): Promise<string> {
        throw new DownstreamError('not ready');
      }
    }

    const call = track(new Reports().build());
    await h.clock.advance(250);

    expect(call.error).toMatchObject({ kind: 'total', timeout: 250 });
  });
});

describe(`@Timeout({ total }) with @CircuitBreaker: the abandoned attempt ends for the breaker too (${decoratorMode} decorators)`, () => {
  it.each<[string, TimeoutOptions]>([
    ['an attempt and a total deadline', { attempt: 150, total: 200 }],
    ['only a total deadline', { total: 200 }],
  ])(
    'does not leave a hung half-open trial holding its permit, with %s',
    async (_what, timeout) => {
      const h = useStageHarness();
      const name = uniqueName('hung-trial');
      let runs = 0;
      class Reports {
        @CircuitBreaker({ name, consecutiveFailures: 1, openDuration: 1_000, halfOpenMaxCalls: 1 })
        @Timeout(timeout)
        async build(): Promise<string> {
          runs++;
          if (runs === 1) throw new DownstreamError('down');
          if (runs === 2) return hang();
          return 'report';
        }
      }
      const reports = new Reports();

      track(reports.build());
      await h.clock.advance(1_000);
      // the trial call hangs until its deadline
      const trial = track(reports.build());
      await h.clock.advance(200);
      expect(trial.error).toBeInstanceOf(TimeoutError);
      await h.clock.advance(1_000);
      const after = track(reports.build());
      await h.clock.flush();

      expect(after).toMatchObject({ state: 'resolved', value: 'report' });
      expect(defaultEngine.breaker(name).state).toBe('closed');
    },
  );
});
