import 'reflect-metadata';
import {
  Bulkhead,
  CircuitBreaker,
  CircuitOpenError,
  Fallback,
  Idempotent,
  Retryable,
  Timeout,
  TimeoutError,
  defaultEngine,
} from '../../src';
import { onFunction } from '../decorators/helpers';
import {
  DownstreamError,
  decoratorMode,
  deferred,
  hang,
  track,
  uniqueName,
  useStageHarness,
} from './support';

describe(`the pipeline's stages together (${decoratorMode} decorators)`, () => {
  it('returns a recorded result before anything else runs: no slot, no breaker permit, no deadline', async () => {
    const h = useStageHarness();
    const name = uniqueName('replay-first');
    let runs = 0;
    class Quotes {
      @Idempotent({ key: (id: string) => id })
      @Retryable({ maxAttempts: 2, initialDelay: 10 })
      @CircuitBreaker({ name, consecutiveFailures: 1 })
      @Bulkhead({ name, maxConcurrent: 1 })
      @Timeout({ attempt: 10_000, total: 20_000 })
      async quote(id: string): Promise<string> {
        runs++;
        return id === 'recorded' ? 'recorded quote' : hang();
      }
    }
    const quotes = new Quotes();

    expect(await quotes.quote('recorded')).toBe('recorded quote');
    track(quotes.quote('holds the slot'));
    await h.clock.flush();
    defaultEngine.breaker(name).isolate();
    const replay = track(quotes.quote('recorded'));
    await h.clock.flush();

    expect(replay).toMatchObject({ state: 'resolved', value: 'recorded quote' });
    expect(runs).toBe(2);
    expect(defaultEngine.bulkhead(name)).toMatchObject({ running: 1, rejected: 0 });
    expect(defaultEngine.breaker(name).metrics().rejected).toBe(0);
    expect(h.events('deduplicated')).toEqual([
      { method: 'Quotes.quote', how: 'replayed', duration: expect.any(Number) },
    ]);
  });

  it('passes each attempt, not each call, through the breaker', async () => {
    const h = useStageHarness();
    const name = uniqueName('per-attempt');
    let runs = 0;
    class Quotes {
      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 10, jitter: 'none' })
      @CircuitBreaker({ name, consecutiveFailures: 10 })
      @Timeout(100)
      async quote(): Promise<string> {
        if (++runs < 3) return hang();
        return 'quote';
      }
    }

    const call = track(new Quotes().quote());
    await h.clock.runAll();

    expect(call.value).toBe('quote');
    expect(defaultEngine.breaker(name).metrics()).toMatchObject({ calls: 3, failures: 2 });
  });

  it('ends the retry loop at once when the breaker opens: no sleep, no further attempt', async () => {
    const h = useStageHarness();
    const name = uniqueName('ends-loop');
    let runs = 0;
    class Quotes {
      @Idempotent()
      @Retryable({ maxAttempts: 5, initialDelay: 100, jitter: 'none' })
      @CircuitBreaker({ name, consecutiveFailures: 2, openDuration: 60_000 })
      @Timeout(50)
      async quote(): Promise<string> {
        runs++;
        return hang();
      }
    }

    const call = track(new Quotes().quote());
    await h.clock.advance(50);
    await h.clock.advance(100);
    await h.clock.advance(50);

    expect(call.error).toBeInstanceOf(CircuitOpenError);
    expect(runs).toBe(2);
    expect(h.events('retry')).toHaveLength(1);
    expect(h.events('failure')).toEqual([
      expect.objectContaining({ reason: 'circuit-open', attempts: 2 }),
    ]);
    await h.clock.runAll();
    expect(runs).toBe(2);
  });

  it('lets the breaker decide when a queued attempt gets its slot, not when it queued', async () => {
    const h = useStageHarness();
    const name = uniqueName('queued-then-refused');
    const gate = deferred<string>();
    let runs = 0;
    class Quotes {
      @CircuitBreaker({ name, consecutiveFailures: 1, openDuration: 60_000 })
      @Bulkhead(1, 1)
      async quote(): Promise<string> {
        runs++;
        return gate.promise;
      }
    }
    const quotes = new Quotes();

    const first = track(quotes.quote());
    const queued = track(quotes.quote());
    await h.clock.flush();
    gate.reject(new DownstreamError('down'));
    await h.clock.flush();

    expect(first.error).toBeInstanceOf(DownstreamError);
    expect(queued.error).toBeInstanceOf(CircuitOpenError);
    expect(runs).toBe(1);
    expect(defaultEngine.bulkhead('Quotes.quote')).toMatchObject({ running: 0, queued: 0 });
  });

  it('shares one in-flight keyed call, and records nothing when its total deadline passes', async () => {
    const h = useStageHarness();
    let runs = 0;
    class Quotes {
      @Idempotent({ key: (id: string) => id })
      @Timeout({ total: 200 })
      async quote(_id: string): Promise<string> {
        if (++runs === 1) return hang();
        return 'second run';
      }
    }
    const quotes = new Quotes();

    const first = track(quotes.quote('k'));
    const joined = track(quotes.quote('k'));
    await h.clock.advance(200);

    expect(first.error).toBeInstanceOf(TimeoutError);
    expect(joined.error).toBe(first.error);
    expect(runs).toBe(1);
    expect(await quotes.quote('k')).toBe('second run');
    expect(runs).toBe(2);
  });

  it("gives the fallback the call's final failure, after the retries, not each attempt's", async () => {
    const h = useStageHarness();
    const seen: unknown[] = [];
    class Quotes {
      @Fallback((error) => {
        seen.push(error);
        return 'cached';
      })
      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 10, jitter: 'none' })
      @Timeout(100)
      async quote(): Promise<string> {
        return hang();
      }
    }

    const call = track(new Quotes().quote());
    await h.clock.runAll();

    expect(call.value).toBe('cached');
    expect(seen).toHaveLength(1);
    expect(h.events('timeout')).toHaveLength(3);
    expect(h.events('fallback')).toEqual([
      { method: 'Quotes.quote', error: seen[0], duration: expect.any(Number) },
    ]);
  });
});

describe(`a method with every stage keeps what it was (${decoratorMode} decorators)`, () => {
  it('keeps its name, its length, its this and the reflect-metadata other decorators put on it', async () => {
    useStageHarness();
    class Quotes {
      readonly desk = 'fx';

      @Fallback(() => 'cached')
      @Idempotent()
      @Retryable({ maxAttempts: 2 })
      @CircuitBreaker()
      @Bulkhead(2)
      @Timeout(1_000)
      @onFunction('route', '/quotes/:id')
      async quote(id: string, _currency: string): Promise<string> {
        return `${this.desk} ${id}`;
      }
    }

    expect(Quotes.prototype.quote.name).toBe('quote');
    expect(Quotes.prototype.quote.length).toBe(2);
    expect(Reflect.getMetadata('route', Quotes.prototype.quote)).toBe('/quotes/:id');
    expect(await new Quotes().quote('EURUSD', 'EUR')).toBe('fx EURUSD');
  });
});
