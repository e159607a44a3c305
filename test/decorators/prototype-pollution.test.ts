import {
  CircuitBreaker,
  ConfigError,
  configure,
  defaultEngine,
  Idempotent,
  MemoryStore,
  Retryable,
  type CircuitBreakerOptions,
  type IdempotentOptions,
  type RetryOptions,
} from '../../src';
import { FakeClock, RecordingLogger } from '../../src/testing';
import { decoratorMode } from '../support/harness';

/**
 * Sets properties on Object.prototype the way polluting code does (plain assignment, so they are
 * enumerable), runs `body`, and removes them whatever happens. Assertions run after it returns.
 */
async function withPollutedPrototype<T>(
  pollution: Record<string, unknown>,
  body: () => T | Promise<T>,
): Promise<T> {
  const prototype = Object.prototype as Record<string, unknown>;
  const keys = Object.keys(pollution);
  for (const key of keys)
    if (Object.prototype.hasOwnProperty.call(prototype, key))
      throw new Error(`Object.prototype already has '${key}'`);
  try {
    for (const key of keys) prototype[key] = pollution[key];
    return await body();
  } finally {
    for (const key of keys) delete prototype[key];
  }
}

/** The engine set up with a FakeClock and a RecordingLogger, and (unlike useHarness) without `defaults`. */
function setUp(): { clock: FakeClock; logger: RecordingLogger } {
  const clock = new FakeClock(1_000_000);
  const logger = new RecordingLogger();
  configure({ clock, logger, random: () => 0.5, store: new MemoryStore() });
  return { clock, logger };
}

/** Runs a call to its end, waking every retry sleep; returns whether it resolved and with what. */
async function outcomeOf(
  clock: FakeClock,
  call: Promise<unknown>,
): Promise<{ resolved: boolean; value: unknown }> {
  const outcome = call.then(
    (value: unknown) => ({ resolved: true, value }),
    (error: unknown) => ({ resolved: false, value: error }),
  );
  await clock.runAll();
  return outcome;
}

class DownstreamError extends Error {}

const anAbortedSignal = AbortSignal.abort();

describe(`options are read as own properties only: a polluted Object.prototype changes nothing (${decoratorMode} decorators)`, () => {
  afterEach(() => {
    // The helper restores the prototype; this proves it for every test, so no pollution leaks into the next.
    for (const key of [
      'maxAttempts',
      'consecutiveFailures',
      'ttl',
      'logger',
      'key',
      'failure',
      'retry',
      'maxEntries',
    ]) {
      expect(Object.prototype.hasOwnProperty.call(Object.prototype, key)).toBe(false);
    }
  });

  describe('@Retryable', () => {
    it('makes the default 3 attempts, not the 25 of Object.prototype.maxAttempts, and reads no other inherited option', async () => {
      const { clock } = setUp();
      let runs = 0;
      let positionalRuns = 0;
      const outcomes = await withPollutedPrototype(
        {
          maxAttempts: 25,
          multiplier: 7,
          jitter: 'none',
          retryOn: () => false,
          retryOnResult: () => true,
          maxElapsed: 0,
          signal: () => anAbortedSignal,
        },
        async () => {
          class Payments {
            @Idempotent()
            @Retryable({ initialDelay: 0, maxDelay: 0 })
            async charge(): Promise<void> {
              runs++;
              throw new DownstreamError('down');
            }

            @Idempotent()
            @Retryable(2, 0, 0)
            async refund(): Promise<void> {
              positionalRuns++;
              throw new DownstreamError('down');
            }

            @Idempotent()
            @Retryable({ initialDelay: 0, maxDelay: 0 })
            async status(): Promise<string> {
              return 'settled';
            }
          }
          const payments = new Payments();
          return [
            await outcomeOf(clock, payments.charge()),
            await outcomeOf(clock, payments.refund()),
            await outcomeOf(clock, payments.status()),
          ];
        },
      );

      expect(runs).toBe(3);
      expect(positionalRuns).toBe(2);
      expect(outcomes[0]?.value).toBeInstanceOf(DownstreamError);
      expect(outcomes[2]).toEqual({ resolved: true, value: 'settled' });
    });

    it('does not refuse valid options because Object.prototype holds invalid ones', async () => {
      setUp();
      const define = (): unknown =>
        withPollutedPrototype(
          {
            maxAttempts: -1,
            initialDelay: Number.NaN,
            maxDelay: 'soon',
            multiplier: 0.5,
            jitter: 'bogus',
            retryOn: [],
          },
          () => {
            class Payments {
              @Idempotent()
              @Retryable({ maxAttempts: 2 })
              async charge(): Promise<void> {}

              @Idempotent()
              @Retryable()
              async refund(): Promise<void> {}

              @Idempotent()
              @Retryable(3)
              async capture(): Promise<void> {}
            }
            return Payments;
          },
        );

      await expect(define()).resolves.toBeInstanceOf(Function);
    });

    it('ignores options a custom prototype of the options object would supply', async () => {
      const { clock } = setUp();
      let runs = 0;
      const inherited = Object.create({ maxAttempts: 25 }) as RetryOptions;
      class Payments {
        @Idempotent()
        @Retryable(Object.assign(inherited, { initialDelay: 0, maxDelay: 0 }))
        async charge(): Promise<void> {
          runs++;
          throw new DownstreamError('down');
        }
      }

      await outcomeOf(clock, new Payments().charge());

      expect(runs).toBe(3);
    });

    it("refuses an own '__proto__' key (as JSON.parse makes it) as an unknown option", () => {
      setUp();
      const parsed = JSON.parse('{ "__proto__": { "maxAttempts": 25 } }') as RetryOptions;
      let thrown: unknown;
      try {
        class Payments {
          @Idempotent()
          @Retryable(parsed)
          async charge(): Promise<void> {}
        }
        void Payments;
      } catch (error) {
        thrown = error;
      }

      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).option).toBe('__proto__');
    });
  });

  describe('configured defaults', () => {
    it('are not read from Object.prototype.retry and .circuitBreaker by an engine never given defaults', async () => {
      let lib!: typeof import('../../src');
      // A fresh copy of the library: its defaultEngine has never been given `defaults`.
      jest.isolateModules(() => {
        lib = require('../../src') as typeof import('../../src');
      });
      const clock = new FakeClock(1_000_000);
      lib.configure({ clock, logger: false });
      let runs = 0;
      let breakerRuns = 0;
      const states = await withPollutedPrototype(
        {
          retry: { maxAttempts: 25, initialDelay: 0, maxDelay: 0 },
          circuitBreaker: { consecutiveFailures: 1 },
        },
        async () => {
          class Payments {
            @lib.Idempotent()
            @lib.Retryable({ initialDelay: 0, maxDelay: 0 })
            async charge(): Promise<void> {
              runs++;
              throw new DownstreamError('down');
            }

            @lib.CircuitBreaker()
            async authorize(): Promise<void> {
              breakerRuns++;
              throw new DownstreamError('down');
            }
          }
          const payments = new Payments();
          await outcomeOf(clock, payments.charge());
          const seen: string[] = [];
          for (let call = 1; call <= 5; call++) {
            await outcomeOf(clock, payments.authorize());
            seen.push(lib.defaultEngine.breaker('Payments.authorize').state);
          }
          return seen;
        },
      );

      expect(runs).toBe(3);
      expect(breakerRuns).toBe(5);
      expect(states).toEqual(['closed', 'closed', 'closed', 'closed', 'open']);
    });

    it('are not read from Object.prototype after configure({ defaults: {} })', async () => {
      const { clock } = setUp();
      configure({ defaults: {} });
      let runs = 0;
      await withPollutedPrototype(
        { retry: { maxAttempts: 25 }, circuitBreaker: { consecutiveFailures: 1 } },
        async () => {
          class Payments {
            @Idempotent()
            @Retryable({ initialDelay: 0, maxDelay: 0 })
            async charge(): Promise<void> {
              runs++;
              throw new DownstreamError('down');
            }
          }
          await outcomeOf(clock, new Payments().charge());
        },
      );

      expect(runs).toBe(3);
    });
  });

  describe('@CircuitBreaker', () => {
    const pollution = {
      consecutiveFailures: 1,
      scope: 'instance',
      openDuration: 0,
      halfOpenMaxCalls: 50,
      recordOnResult: () => true,
      ignoreOn: () => true,
      slowCall: { duration: 0, rateThreshold: 0.01 },
      window: { type: 'count', size: 2 },
      minimumCalls: 1,
    };

    it('opens after the default 5 failures, class-scoped, under its default name, with the default openDuration', async () => {
      const { clock } = setUp();
      const states = await withPollutedPrototype(pollution, async () => {
        class Gateway {
          @CircuitBreaker()
          async authorize(fail: boolean): Promise<string> {
            await clock.sleep(10);
            if (fail) throw new DownstreamError('down');
            return 'authorized';
          }
        }
        const gateway = new Gateway();
        const seen: string[] = [];
        await outcomeOf(clock, gateway.authorize(false));
        // The shared (class-scoped) breaker is found without an instance.
        seen.push(defaultEngine.breaker('Gateway.authorize').state);
        for (let call = 1; call <= 5; call++) {
          await outcomeOf(clock, new Gateway().authorize(true));
          seen.push(defaultEngine.breaker('Gateway.authorize').state);
        }
        await clock.advance(29_999);
        seen.push(defaultEngine.breaker('Gateway.authorize').state);
        return { seen, slowCalls: defaultEngine.breaker('Gateway.authorize').metrics().slowCalls };
      });

      expect(states.seen).toEqual([
        'closed',
        'closed',
        'closed',
        'closed',
        'closed',
        'open',
        'open',
      ]);
      expect(states.slowCalls).toBe(0);
    });

    it('counts a failure rate over the default window of 100 calls with the default minimumCalls of 10', async () => {
      const { clock } = setUp();
      const states = await withPollutedPrototype(pollution, async () => {
        class Gateway {
          @CircuitBreaker({ failureRate: { threshold: 0.5 } })
          async capture(): Promise<void> {
            throw new DownstreamError('down');
          }
        }
        const gateway = new Gateway();
        const seen: string[] = [];
        for (let call = 1; call <= 10; call++) {
          await outcomeOf(clock, gateway.capture());
          seen.push(defaultEngine.breaker('Gateway.capture').state);
        }
        return seen;
      });

      expect(states).toEqual([...Array<string>(9).fill('closed'), 'open']);
    });

    it('does not refuse valid options because Object.prototype holds invalid ones', async () => {
      setUp();
      const define = (): unknown =>
        withPollutedPrototype(
          { consecutiveFailures: 0, scope: 'global', name: '', halfOpenMaxCalls: -1, recordOn: [] },
          () => {
            class Gateway {
              @CircuitBreaker()
              async authorize(): Promise<void> {}

              @CircuitBreaker({
                failureRate: { threshold: 0.5, window: { type: 'time', size: 1_000 } },
              } as CircuitBreakerOptions)
              async capture(): Promise<void> {}
            }
            return Gateway;
          },
        );

      await expect(define()).resolves.toBeInstanceOf(Function);
    });
  });

  describe('@Idempotent', () => {
    it('keeps @Idempotent({}) a plain mark and a keyed record for its whole default ttl', async () => {
      const { clock } = setUp();
      const runs: string[] = [];
      const results = await withPollutedPrototype(
        {
          key: () => 'one-key-for-all',
          ttl: 1,
          lease: 1,
          wait: 0,
          onStoreError: 'proceed',
          fingerprint: () => 'same',
          store: {},
        },
        async () => {
          class Ledger {
            @Idempotent({} as IdempotentOptions)
            async post(entry: string): Promise<string> {
              runs.push(`post ${entry}`);
              return entry;
            }

            @Idempotent({ key: (id: string) => id })
            async charge(id: string): Promise<string> {
              runs.push(`charge ${id}`);
              return `receipt ${id}`;
            }
          }
          const ledger = new Ledger();
          const seen = [await ledger.post('a'), await ledger.post('b'), await ledger.charge('c')];
          await clock.advance(60_000);
          seen.push(await ledger.charge('c'));
          return seen;
        },
      );

      expect(results).toEqual(['a', 'b', 'receipt c', 'receipt c']);
      expect(runs).toEqual(['post a', 'post b', 'charge c']);
    });
  });

  describe('configure()', () => {
    it('does not take a logger, clock, random or store from Object.prototype', async () => {
      const { clock, logger } = setUp();
      const polluter = new RecordingLogger();
      const otherClock = new FakeClock(0);
      let runs = 0;
      await withPollutedPrototype(
        { logger: polluter, clock: otherClock, random: () => 0.99, store: new MemoryStore() },
        async () => {
          configure({});
          class Payments {
            @Idempotent()
            @Retryable({ initialDelay: 100, maxDelay: 100, jitter: 'full' })
            async charge(): Promise<void> {
              runs++;
              throw new DownstreamError('down');
            }
          }
          await outcomeOf(clock, new Payments().charge());
        },
      );

      expect(runs).toBe(3);
      // Full jitter with the configured random (0.5), on the configured clock.
      expect(clock.sleeps).toEqual([50, 50]);
      expect(otherClock.sleeps).toEqual([]);
      expect(logger.entries.map((entry) => entry.level)).toEqual(['warn', 'warn', 'error']);
      expect(polluter.entries).toEqual([]);
    });

    it('refuses a logger, clock or store whose methods only Object.prototype supplies', async () => {
      setUp();
      const method = (): undefined => undefined;
      const errors = await withPollutedPrototype(
        {
          warn: method,
          error: method,
          now: method,
          sleep: method,
          claim: method,
          complete: method,
          release: method,
          read: method,
        },
        () =>
          [{ logger: {} }, { clock: {} }, { store: {} }].map((options) => {
            try {
              configure(options as never);
              return undefined;
            } catch (error) {
              return error;
            }
          }),
      );

      expect(errors.map((error) => error instanceof ConfigError && error.option)).toEqual([
        'logger',
        'clock',
        'store',
      ]);
    });
  });

  describe('engine events', () => {
    it('reach no listener that Object.prototype holds under an event name', async () => {
      const { clock } = setUp();
      const stray = jest.fn();
      const outcome = await withPollutedPrototype(
        {
          success: [stray],
          failure: [stray],
          retry: [stray],
          stateChange: [stray],
          rejected: [stray],
          deduplicated: [stray],
        },
        async () => {
          class Payments {
            @Idempotent()
            @Retryable({ maxAttempts: 2, initialDelay: 0, maxDelay: 0 })
            async charge(): Promise<string> {
              return 'paid';
            }
          }
          return outcomeOf(clock, new Payments().charge());
        },
      );

      expect(outcome).toEqual({ resolved: true, value: 'paid' });
      expect(stray).not.toHaveBeenCalled();
    });
  });

  describe('new MemoryStore()', () => {
    it('keeps its default 10 000 entries, not the maxEntries of Object.prototype', async () => {
      const { clock } = setUp();
      const runs: string[] = [];
      await withPollutedPrototype({ maxEntries: 1 }, async () => {
        configure({ store: new MemoryStore() });
        class Ledger {
          @Idempotent({ key: (id: string) => id })
          async charge(id: string): Promise<string> {
            runs.push(id);
            return id;
          }
        }
        const ledger = new Ledger();
        for (const id of ['a', 'b', 'a']) await outcomeOf(clock, ledger.charge(id));
      });

      expect(runs).toEqual(['a', 'b']);
    });

    it('does not refuse its construction because Object.prototype holds an invalid maxEntries', async () => {
      await expect(
        withPollutedPrototype({ maxEntries: 0 }, () => new MemoryStore()),
      ).resolves.toBeInstanceOf(MemoryStore);
    });
  });
  it('does not take a MemoryStore for a fleet store, nor any object for a store, because of inherited methods', async () => {
    const { clock } = setUp();
    const probe = () => undefined;
    await withPollutedPrototype({ createBreaker: probe }, async () => {
      class Guarded {
        runs = 0;
        @CircuitBreaker({ consecutiveFailures: 1 })
        async call(): Promise<string> {
          this.runs++;
          return 'ok';
        }
      }
      // A fleet store would be asked for the breaker; the polluted method would give none and fail the call.
      expect((await outcomeOf(clock, new Guarded().call())).value).toBe('ok');
    });
    await withPollutedPrototype(
      { claim: probe, complete: probe, release: probe, read: probe },
      () => {
        expect(() => configure({ store: {} as never })).toThrow(ConfigError);
        expect(() => {
          class Keyed {
            @Idempotent({ key: (id: string) => id, store: {} as never })
            async run(id: string): Promise<string> {
              return id;
            }
          }
          return Keyed;
        }).toThrow(ConfigError);
      },
    );
  });

  it('refuses @CircuitBreaker(null) instead of reading it as no options', () => {
    expect(() => {
      class Nulled {
        @CircuitBreaker(null as never)
        async call(): Promise<string> {
          return 'ok';
        }
      }
      return Nulled;
    }).toThrow(ConfigError);
  });
});
