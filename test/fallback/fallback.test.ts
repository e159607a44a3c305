import {
  Bulkhead,
  BulkheadRejectedError,
  CircuitBreaker,
  CircuitOpenError,
  ConfigError,
  Fallback,
  IdempotencyConflictError,
  Idempotent,
  NotIdempotentError,
  Retryable,
  Timeout,
  TimeoutError,
  defaultEngine,
} from '../../src';
import {
  DownstreamError,
  decoratorMode,
  deferred,
  hang,
  track,
  uniqueName,
  useStageHarness,
} from '../pipeline/support';

class RateLimited extends Error {}
class SpecificallyRateLimited extends RateLimited {}

describe(`@Fallback (${decoratorMode} decorators)`, () => {
  it("answers the call's final failure with the handler's value, called with the error, the arguments and the instance", async () => {
    const h = useStageHarness();
    const failure = new DownstreamError('quote service down');
    const calls: { self: unknown; error: unknown; args: unknown[] }[] = [];
    class Quotes {
      @Fallback(function (this: unknown, error: unknown, id: string, currency: string) {
        calls.push({ self: this, error, args: [id, currency] });
        return `cached ${id} in ${currency}`;
      })
      async price(_id: string, _currency: string): Promise<string> {
        throw failure;
      }
    }
    const quotes = new Quotes();

    const call = track(quotes.price('ACME', 'EUR'));
    await h.clock.flush();

    expect(call).toMatchObject({ state: 'resolved', value: 'cached ACME in EUR' });
    expect(calls).toEqual([{ self: quotes, error: failure, args: ['ACME', 'EUR'] }]);
  });

  it('awaits a handler that returns a promise', async () => {
    const h = useStageHarness();
    class Quotes {
      @Fallback(async () => {
        await h.clock.sleep(5);
        return 'from the cache';
      })
      async price(): Promise<string> {
        throw new DownstreamError('down');
      }
    }

    const call = track(new Quotes().price());
    await h.clock.advance(5);

    expect(call.value).toBe('from the cache');
  });

  it('calls the method of that name, on the instance, with the error and the arguments', async () => {
    const h = useStageHarness();
    const failure = new DownstreamError('down');
    class Quotes {
      readonly prefix = 'cached';

      @Fallback('cachedPrice')
      async price(_id: string): Promise<string> {
        throw failure;
      }

      cachedPrice(error: unknown, id: string): string {
        return `${this.prefix} ${id} (${error === failure ? 'after the failure' : 'unexpected error'})`;
      }
    }

    const call = track(new Quotes().price('ACME'));
    await h.clock.flush();

    expect(call.value).toBe('cached ACME (after the failure)');
  });

  it('accepts the name of an inherited method', async () => {
    const h = useStageHarness();
    class Base {
      cached(): string {
        return 'from the base class';
      }
    }
    class Quotes extends Base {
      @Fallback('cached')
      async price(): Promise<string> {
        throw new DownstreamError('down');
      }
    }

    const call = track(new Quotes().price());
    await h.clock.flush();

    expect(call.value).toBe('from the base class');
  });

  it('does not call the handler when the call succeeds', async () => {
    const h = useStageHarness();
    const handler = jest.fn(() => 'fallback');
    class Quotes {
      @Fallback(handler)
      async price(): Promise<string> {
        return 'live';
      }
    }

    expect(await new Quotes().price()).toBe('live');
    expect(handler).not.toHaveBeenCalled();
    expect(h.events('fallback')).toEqual([]);
  });

  it('emits fallback and logs one warn line, and neither emits failure nor logs at error', async () => {
    const h = useStageHarness();
    const failure = new DownstreamError('down');
    class Quotes {
      @Fallback(() => 'cached')
      async price(): Promise<string> {
        throw failure;
      }
    }

    await new Quotes().price();

    expect(h.events('fallback')).toEqual([
      { method: 'Quotes.price', error: failure, duration: expect.any(Number) },
    ]);
    expect(h.events('failure')).toEqual([]);
    expect(h.logger.at('error')).toEqual([]);
    const warns = h.logger.at('warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]?.fields).toMatchObject({ method: 'Quotes.price', error: failure });
  });

  it("rejects with what the handler threw, logged at error and emitted as failure with reason 'fallback-failed'", async () => {
    const h = useStageHarness();
    const thrown = new Error('the cache is down too');
    class Quotes {
      @Fallback(() => {
        throw thrown;
      })
      async price(): Promise<string> {
        throw new DownstreamError('down');
      }
    }

    const call = track(new Quotes().price());
    await h.clock.flush();

    expect(call).toMatchObject({ state: 'rejected', error: thrown });
    expect(h.events('failure')).toEqual([
      expect.objectContaining({ method: 'Quotes.price', reason: 'fallback-failed', error: thrown }),
    ]);
    const errors = h.logger.at('error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.fields.error).toBe(thrown);
  });

  it('rejects with the reason of a handler promise that rejects', async () => {
    const h = useStageHarness();
    const thrown = new Error('async cache failure');
    class Quotes {
      @Fallback(async () => {
        throw thrown;
      })
      async price(): Promise<string> {
        throw new DownstreamError('down');
      }
    }

    const call = track(new Quotes().price());
    await h.clock.flush();

    expect(call.error).toBe(thrown);
    expect(h.events('failure')).toEqual([
      expect.objectContaining({ reason: 'fallback-failed', error: thrown }),
    ]);
  });
});

describe(`@Fallback answers every kind of final failure (${decoratorMode} decorators)`, () => {
  it("gets the last attempt's error itself once the retries are exhausted", async () => {
    const h = useStageHarness();
    const errors: Error[] = [];
    const seen: unknown[] = [];
    class Quotes {
      @Fallback((error) => {
        seen.push(error);
        return 'cached';
      })
      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 10, jitter: 'none' })
      async price(): Promise<string> {
        const error = new DownstreamError(`attempt ${errors.length + 1}`);
        errors.push(error);
        throw error;
      }
    }

    const call = track(new Quotes().price());
    await h.clock.runAll();

    expect(call.value).toBe('cached');
    expect(errors).toHaveLength(3);
    expect(seen).toEqual([errors[2]]);
    expect(seen[0]).toBe(errors[2]);
    expect(h.events('retry')).toHaveLength(2);
    expect(h.events('failure')).toEqual([]);
  });

  it('answers a refusal by an open breaker, without running the body', async () => {
    const h = useStageHarness();
    const name = uniqueName('fallback-breaker');
    const seen: unknown[] = [];
    let runs = 0;
    class Quotes {
      @Fallback((error) => {
        seen.push(error);
        return 'cached';
      })
      @CircuitBreaker({ name, consecutiveFailures: 1, openDuration: 60_000 })
      async price(): Promise<string> {
        runs++;
        throw new DownstreamError('down');
      }
    }
    const quotes = new Quotes();

    await quotes.price();
    const answered = await quotes.price();

    expect(answered).toBe('cached');
    expect(runs).toBe(1);
    expect(seen[1]).toBeInstanceOf(CircuitOpenError);
    expect(h.events('fallback').map(({ error }) => (error as Error).name)).toEqual([
      'DownstreamError',
      'CircuitOpenError',
    ]);
  });

  it('answers an attempt timeout', async () => {
    const h = useStageHarness();
    const seen: unknown[] = [];
    class Quotes {
      @Fallback((error) => {
        seen.push(error);
        return 'cached';
      })
      @Timeout(100)
      async price(): Promise<string> {
        return hang();
      }
    }

    const call = track(new Quotes().price());
    await h.clock.advance(100);

    expect(call.value).toBe('cached');
    expect(seen[0]).toBeInstanceOf(TimeoutError);
    expect(seen[0]).toMatchObject({ kind: 'attempt' });
  });

  it('answers a total timeout at its deadline, and nothing is logged at error', async () => {
    const h = useStageHarness();
    const seen: unknown[] = [];
    class Quotes {
      @Fallback((error) => {
        seen.push(error);
        return 'cached';
      })
      @Idempotent()
      @Retryable({ maxAttempts: 5, initialDelay: 100, jitter: 'none' })
      @Timeout({ total: 250 })
      async price(): Promise<string> {
        throw new DownstreamError('down');
      }
    }

    const call = track(new Quotes().price());
    await h.clock.advance(249);
    expect(call.state).toBe('pending');
    await h.clock.advance(1);

    expect(call.value).toBe('cached');
    expect(seen[0]).toMatchObject({ kind: 'total', timeout: 250 });
    expect(h.events('failure')).toEqual([]);
    expect(h.logger.at('error')).toEqual([]);
  });

  it('answers a bulkhead rejection', async () => {
    const h = useStageHarness();
    const seen: unknown[] = [];
    const gate = deferred<string>();
    class Quotes {
      @Fallback((error) => {
        seen.push(error);
        return 'cached';
      })
      @Bulkhead(1)
      async price(): Promise<string> {
        return gate.promise;
      }
    }
    const quotes = new Quotes();

    const first = track(quotes.price());
    const second = track(quotes.price());
    await h.clock.flush();
    expect(second.value).toBe('cached');
    gate.resolve('live');
    await h.clock.flush();

    expect(first.value).toBe('live');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(BulkheadRejectedError);
  });

  it('answers an IdempotencyConflictError', async () => {
    const h = useStageHarness();
    const seen: unknown[] = [];
    const gate = deferred<string>();
    class Payments {
      @Fallback((error) => {
        seen.push(error);
        return 'conflict answered';
      })
      @Idempotent({ key: (request: { id: string }) => request.id })
      async charge(_request: { id: string; amount: number }): Promise<string> {
        return gate.promise;
      }
    }
    const payments = new Payments();

    const first = track(payments.charge({ id: 'c-1', amount: 10 }));
    const conflicting = track(payments.charge({ id: 'c-1', amount: 99 }));
    await h.clock.flush();
    gate.resolve('charged');
    await h.clock.flush();

    expect(first.value).toBe('charged');
    expect(conflicting.value).toBe('conflict answered');
    expect(seen[0]).toBeInstanceOf(IdempotencyConflictError);
  });

  it('records nothing for a keyed idempotent call that the fallback answered', async () => {
    const h = useStageHarness();
    let runs = 0;
    class Payments {
      @Fallback(() => 'fallback receipt')
      @Idempotent({ key: (id: string) => id })
      async charge(_id: string): Promise<string> {
        runs++;
        if (runs === 1) throw new DownstreamError('down');
        return `receipt ${runs}`;
      }
    }
    const payments = new Payments();

    expect(await payments.charge('c-1')).toBe('fallback receipt');
    expect(await payments.charge('c-1')).toBe('receipt 2');
    expect(await payments.charge('c-1')).toBe('receipt 2');
    await h.clock.flush();

    expect(runs).toBe(2);
    expect(h.events('deduplicated')).toEqual([
      { method: 'Payments.charge', how: 'replayed', duration: expect.any(Number) },
    ]);
  });
});

describe(`@Fallback({ on }) (${decoratorMode} decorators)`, () => {
  it('answers only the listed error classes (and their subclasses); others reach the caller as usual', async () => {
    const h = useStageHarness();
    const failures: Error[] = [
      new RateLimited('limited'),
      new SpecificallyRateLimited('very limited'),
      new DownstreamError('down'),
    ];
    let runs = 0;
    class Quotes {
      @Fallback(() => 'cached', { on: [RateLimited] })
      async price(): Promise<string> {
        throw failures[runs++];
      }
    }
    const quotes = new Quotes();

    const outcomes = [track(quotes.price()), track(quotes.price()), track(quotes.price())];
    await h.clock.flush();

    expect(
      outcomes.map(({ state, value, error }) => (state === 'resolved' ? value : error)),
    ).toEqual(['cached', 'cached', failures[2]]);
    expect(h.events('fallback')).toHaveLength(2);
    expect(h.events('failure')).toEqual([
      expect.objectContaining({ method: 'Quotes.price', error: failures[2] }),
    ]);
    expect(h.logger.at('error')).toHaveLength(1);
  });

  it('answers the failures a predicate accepts', async () => {
    const h = useStageHarness();
    const failures = [new DownstreamError('retryable'), new DownstreamError('fatal')];
    let runs = 0;
    class Quotes {
      @Fallback(() => 'cached', {
        on: (error) => error instanceof Error && error.message === 'retryable',
      })
      async price(): Promise<string> {
        throw failures[runs++];
      }
    }
    const quotes = new Quotes();

    const outcomes = [track(quotes.price()), track(quotes.price())];
    await h.clock.flush();

    expect(outcomes.map(({ state }) => state)).toEqual(['resolved', 'rejected']);
    expect(outcomes[1]?.error).toBe(failures[1]);
  });

  it('never answers a ConfigError, even with on: () => true', async () => {
    const h = useStageHarness();
    const handler = jest.fn(() => 'cached');
    class Payments {
      // an argument that cannot be fingerprinted (a unique symbol) is a ConfigError at the call
      @Fallback(handler, { on: () => true })
      @Idempotent({ key: () => 'k-1' })
      async charge(_tag: symbol): Promise<string> {
        return 'charged';
      }
    }

    const call = track(new Payments().charge(Symbol('not registered')));
    await h.clock.flush();

    expect(call.error).toBeInstanceOf(ConfigError);
    expect(handler).not.toHaveBeenCalled();
    expect(h.events('fallback')).toEqual([]);
  });

  it('never answers a ConfigError thrown by the body, even with on: [Error]', async () => {
    const h = useStageHarness();
    const handler = jest.fn(() => 'cached');
    const thrown = new ConfigError('misconfigured', 'option', 'Other.method');
    class Quotes {
      @Fallback(handler, { on: [Error] })
      async price(): Promise<string> {
        throw thrown;
      }
    }

    const call = track(new Quotes().price());
    await h.clock.flush();

    expect(call.error).toBe(thrown);
    expect(handler).not.toHaveBeenCalled();
  });

  it('never answers NotIdempotentError: a @Retryable method without @Idempotent still refuses, body not run', async () => {
    const h = useStageHarness();
    const handler = jest.fn(() => 'cached');
    let runs = 0;
    class Payments {
      @Fallback(handler)
      @Retryable({ maxAttempts: 3 })
      async charge(): Promise<string> {
        runs++;
        return 'charged';
      }
    }

    const call = track(new Payments().charge());
    await h.clock.flush();

    expect(call.error).toBeInstanceOf(NotIdempotentError);
    expect(runs).toBe(0);
    expect(handler).not.toHaveBeenCalled();
    expect(h.events('fallback')).toEqual([]);
  });
});

describe(`@Fallback with the pipeline's other stages (${decoratorMode} decorators)`, () => {
  it('sees a refusal by a breaker that opened during the retries as the final failure', async () => {
    const h = useStageHarness();
    const name = uniqueName('fallback-opening');
    const seen: unknown[] = [];
    let runs = 0;
    class Quotes {
      @Fallback((error) => {
        seen.push(error);
        return 'cached';
      })
      @Idempotent()
      @Retryable({ maxAttempts: 5, initialDelay: 10, jitter: 'none' })
      @CircuitBreaker({ name, consecutiveFailures: 2, openDuration: 60_000 })
      async price(): Promise<string> {
        runs++;
        throw new DownstreamError('down');
      }
    }

    const call = track(new Quotes().price());
    await h.clock.runAll();

    expect(call.value).toBe('cached');
    expect(runs).toBe(2);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(CircuitOpenError);
    expect(defaultEngine.breaker(name).state).toBe('open');
  });
});
