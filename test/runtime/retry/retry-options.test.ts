import {
  CircuitOpenError,
  ConfigError,
  Idempotent,
  NotIdempotentError,
  Retryable,
  type RetryOptions,
} from '../../../src';
import { useHarness, decoratorMode } from '../../support/harness';
import { rejectionOf, resultOf } from '../support/services';

class TransientError extends Error {
  override readonly name = 'TransientError';
}
class GatewayTimeout extends TransientError {}
class ValidationError extends Error {
  override readonly name = 'ValidationError';
}

/** An error with a server's hint: do not come back sooner than `retryAfter` ms. */
class RateLimited extends Error {
  constructor(readonly retryAfter: number) {
    super(`rate limited, retry after ${retryAfter} ms`);
  }
}

/** A service whose `call()` runs the next step of a script: a thrown error or a returned value. */
function scriptedService(options: RetryOptions, script: (() => unknown)[]) {
  class Scripted {
    runs = 0;

    @Idempotent()
    @Retryable(options)
    async call(): Promise<unknown> {
      const step = script[Math.min(this.runs, script.length - 1)] as () => unknown;
      this.runs++;
      return step();
    }
  }
  return new Scripted();
}

const fail = (error: unknown) => (): never => {
  throw error;
};
const give = (value: unknown) => (): unknown => value;

describe(`@Retryable options (${decoratorMode})`, () => {
  describe('retryOn with error classes', () => {
    it('retries an error of a listed class until attempts run out', async () => {
      const h = useHarness();
      const error = new TransientError('flaky');
      const service = scriptedService({ maxAttempts: 3, retryOn: [TransientError] }, [fail(error)]);

      expect(await rejectionOf(h.clock, service.call())).toBe(error);
      expect(service.runs).toBe(3);
    });

    it('retries an error whose class extends a listed one', async () => {
      const h = useHarness();
      const service = scriptedService({ maxAttempts: 3, retryOn: [TransientError] }, [
        fail(new GatewayTimeout('504')),
        give('recovered'),
      ]);

      expect(await resultOf(h.clock, service.call())).toBe('recovered');
      expect(service.runs).toBe(2);
    });

    it('matches any of several listed classes', async () => {
      const h = useHarness();
      const service = scriptedService(
        { maxAttempts: 4, retryOn: [ValidationError, TransientError] },
        [fail(new ValidationError('a')), fail(new TransientError('b')), give('done')],
      );

      expect(await resultOf(h.clock, service.call())).toBe('done');
      expect(service.runs).toBe(3);
    });

    it('does not retry an error of another class: one body run, the error itself rejects', async () => {
      const h = useHarness();
      const error = new ValidationError('bad input');
      const service = scriptedService({ maxAttempts: 5, retryOn: [TransientError] }, [
        fail(error),
        give('never'),
      ]);

      expect(await rejectionOf(h.clock, service.call())).toBe(error);
      expect(service.runs).toBe(1);
      expect(h.clock.sleeps).toEqual([]);
      expect(h.events('failure')).toEqual([
        {
          method: 'Scripted.call',
          attempts: 1,
          reason: 'not-retryable',
          error,
          duration: expect.any(Number),
        },
      ]);
    });

    it('does not retry a thrown non-error value when only classes are listed', async () => {
      const h = useHarness();
      const service = scriptedService({ maxAttempts: 3, retryOn: [Error] }, [fail('a string')]);

      expect(await rejectionOf(h.clock, service.call())).toBe('a string');
      expect(service.runs).toBe(1);
    });
  });

  describe('retryOn with a predicate', () => {
    it('receives the error and the 1-based attempt number, and retries while it returns true', async () => {
      const h = useHarness();
      const errors = [new Error('one'), new Error('two'), new Error('three')];
      const seen: [unknown, number][] = [];
      const service = scriptedService(
        {
          maxAttempts: 5,
          retryOn: (error, attempt) => {
            seen.push([error, attempt]);
            return attempt < 2;
          },
        },
        errors.map(fail),
      );

      expect(await rejectionOf(h.clock, service.call())).toBe(errors[1]);
      expect(service.runs).toBe(2);
      expect(seen).toHaveLength(2);
      expect(seen[0]?.[0]).toBe(errors[0]);
      expect(seen[0]?.[1]).toBe(1);
      expect(seen[1]?.[0]).toBe(errors[1]);
      expect(seen[1]?.[1]).toBe(2);
    });

    it('can decide on the error itself', async () => {
      const h = useHarness();
      const service = scriptedService(
        { maxAttempts: 5, retryOn: (error) => (error as { status?: number }).status === 503 },
        [
          fail(Object.assign(new Error('busy'), { status: 503 })),
          fail(Object.assign(new Error('gone'), { status: 404 })),
        ],
      );

      const error = await rejectionOf(h.clock, service.call());

      expect((error as Error).message).toBe('gone');
      expect(service.runs).toBe(2);
    });

    it('retries nothing when the predicate throws, and the caller gets the original error', async () => {
      const h = useHarness();
      const original = new TransientError('the real failure');
      const service = scriptedService(
        {
          maxAttempts: 4,
          retryOn: () => {
            throw new Error('bug in the predicate');
          },
        },
        [fail(original), give('never')],
      );

      expect(await rejectionOf(h.clock, service.call())).toBe(original);
      expect(service.runs).toBe(1);
      expect(h.clock.sleeps).toEqual([]);
    });
  });

  describe('errors that are never retried, whatever retryOn says', () => {
    const neverRetried: [string, () => unknown][] = [
      ['a NotIdempotentError thrown by the body', () => new NotIdempotentError('Other.method')],
      [
        'a CircuitOpenError thrown by the body',
        () => new CircuitOpenError('downstream', 'open', 0),
      ],
      [
        "an Error named 'AbortError'",
        () => Object.assign(new Error('aborted'), { name: 'AbortError' }),
      ],
      [
        "a DOMException named 'AbortError'",
        () => new DOMException('The operation was aborted.', 'AbortError'),
      ],
    ];

    it.each(neverRetried)(
      'does not retry %s when retryOn is a predicate returning true',
      async (_what, make) => {
        const h = useHarness();
        const error = make();
        const service = scriptedService({ maxAttempts: 4, retryOn: () => true }, [
          fail(error),
          give('never'),
        ]);

        expect(await rejectionOf(h.clock, service.call())).toBe(error);
        expect(service.runs).toBe(1);
        expect(h.events('failure')[0]?.reason).toBe('not-retryable');
      },
    );

    it.each(neverRetried)('does not retry %s when retryOn lists Error', async (_what, make) => {
      const h = useHarness();
      const error = make();
      const service = scriptedService({ maxAttempts: 4, retryOn: [Error] }, [
        fail(error),
        give('never'),
      ]);

      expect(await rejectionOf(h.clock, service.call())).toBe(error);
      expect(service.runs).toBe(1);
    });

    it.each(neverRetried)('does not retry %s without retryOn', async (_what, make) => {
      const h = useHarness();
      const error = make();
      const service = scriptedService({ maxAttempts: 4 }, [fail(error), give('never')]);

      expect(await rejectionOf(h.clock, service.call())).toBe(error);
      expect(service.runs).toBe(1);
    });

    it("does not sleep for a CircuitOpenError's retryAfter", async () => {
      const h = useHarness();
      const service = scriptedService({ maxAttempts: 4 }, [
        fail(new CircuitOpenError('downstream', 'open', 30_000)),
      ]);

      await rejectionOf(h.clock, service.call());

      expect(h.clock.sleeps).toEqual([]);
    });
  });

  describe('retryOnResult', () => {
    it('retries a result it rejects and resolves with the first one it accepts', async () => {
      const h = useHarness();
      const service = scriptedService(
        { maxAttempts: 5, jitter: 'none', retryOnResult: (result) => result === null },
        [give(null), give(null), give({ id: 7 })],
      );

      expect(await resultOf(h.clock, service.call())).toEqual({ id: 7 });
      expect(service.runs).toBe(3);
      expect(h.clock.sleeps).toEqual([100, 200]);
      expect(h.events('success')).toEqual([
        { method: 'Scripted.call', attempts: 3, duration: expect.any(Number) },
      ]);
    });

    it('resolves with the last result itself when every result is rejected', async () => {
      const h = useHarness();
      const results = [
        { status: 'pending', n: 1 },
        { status: 'pending', n: 2 },
        { status: 'pending', n: 3 },
      ];
      const service = scriptedService(
        {
          maxAttempts: 3,
          jitter: 'none',
          retryOnResult: (result) => (result as { status: string }).status === 'pending',
        },
        results.map(give),
      );

      expect(await resultOf(h.clock, service.call())).toBe(results[2]);
      expect(service.runs).toBe(3);
      expect(h.clock.sleeps).toEqual([100, 200]);
    });

    it('still logs and reports every retry and the final outcome when it resolves with a rejected result', async () => {
      const h = useHarness();
      const service = scriptedService(
        { maxAttempts: 3, jitter: 'none', retryOnResult: () => true },
        [give('stale')],
      );

      await resultOf(h.clock, service.call());

      expect(h.logger.at('warn')).toHaveLength(2);
      expect(h.logger.at('warn')[0]?.message).toContain('Scripted.call attempt 1/3');
      expect(h.logger.at('error')).toHaveLength(1);
      expect(h.logger.at('error')[0]?.message).toContain('Scripted.call');
      expect(
        h.events('retry').map(({ attempt, delay, error }) => ({ attempt, delay, error })),
      ).toEqual([
        { attempt: 1, delay: 100, error: undefined },
        { attempt: 2, delay: 200, error: undefined },
      ]);
      expect(h.events('failure')).toEqual([
        {
          method: 'Scripted.call',
          attempts: 3,
          reason: 'exhausted',
          error: undefined,
          duration: expect.any(Number),
        },
      ]);
      expect(h.events('success')).toEqual([]);
    });

    it('is not consulted on a thrown error, which follows retryOn as usual', async () => {
      const h = useHarness();
      const predicate = jest.fn((result: unknown) => result === 'bad');
      const service = scriptedService({ maxAttempts: 4, retryOnResult: predicate }, [
        fail(new Error('network')),
        give('bad'),
        give('good'),
      ]);

      expect(await resultOf(h.clock, service.call())).toBe('good');
      expect(service.runs).toBe(3);
      expect(predicate.mock.calls).toEqual([['bad'], ['good']]);
    });

    it('retries nothing when it throws: the call rejects with its error after one run', async () => {
      const h = useHarness();
      const bug = new Error('bug in retryOnResult');
      const service = scriptedService(
        {
          maxAttempts: 4,
          retryOnResult: () => {
            throw bug;
          },
        },
        [give('value')],
      );

      expect(await rejectionOf(h.clock, service.call())).toBe(bug);
      expect(service.runs).toBe(1);
      expect(h.clock.sleeps).toEqual([]);
      expect(h.events('failure')).toEqual([
        {
          method: 'Scripted.call',
          attempts: 1,
          reason: 'not-retryable',
          error: bug,
          duration: expect.any(Number),
        },
      ]);
    });

    it('resolves at once with the first result it accepts, undefined included', async () => {
      const h = useHarness();
      const service = scriptedService({ maxAttempts: 3, retryOnResult: () => false }, [
        give(undefined),
      ]);

      expect(await resultOf(h.clock, service.call())).toBeUndefined();
      expect(service.runs).toBe(1);
    });
  });

  describe('retryAfter hints on errors', () => {
    it('waits at least retryAfter ms, even above the computed delay and maxDelay', async () => {
      const h = useHarness();
      const service = scriptedService(
        { maxAttempts: 4, initialDelay: 100, maxDelay: 1_000, jitter: 'none' },
        [fail(new RateLimited(5_000)), fail(new Error('plain')), give('ok')],
      );

      expect(await resultOf(h.clock, service.call())).toBe('ok');
      expect(h.clock.sleeps).toEqual([5_000, 200]);
      expect(h.events('retry').map((event) => event.delay)).toEqual([5_000, 200]);
      expect(h.logger.at('warn')[0]?.fields.delay).toBe(5_000);
    });

    it('does not shorten the computed delay when the hint is smaller', async () => {
      const h = useHarness();
      const service = scriptedService({ maxAttempts: 3, initialDelay: 100, jitter: 'none' }, [
        fail(new RateLimited(10)),
        fail(new RateLimited(150)),
        give('ok'),
      ]);

      await resultOf(h.clock, service.call());

      expect(h.clock.sleeps).toEqual([100, 200]);
    });

    it('is applied after jitter: a hint above the jittered delay wins', async () => {
      const h = useHarness();
      h.randomValues(0, 0);
      const service = scriptedService({ maxAttempts: 3, initialDelay: 100, jitter: 'full' }, [
        fail(new RateLimited(40)),
        fail(new Error('plain')),
        give('ok'),
      ]);

      await resultOf(h.clock, service.call());

      // full jitter picked 0 both times: the hint alone makes the first retry wait
      expect(h.clock.sleeps).toEqual([40]);
    });

    it('ignores hints that are not a positive finite number of ms', async () => {
      const h = useHarness();
      const hinted = (retryAfter: unknown) =>
        fail(Object.assign(new Error('hinted'), { retryAfter }));
      const service = scriptedService(
        { maxAttempts: 5, initialDelay: 100, maxDelay: 100, jitter: 'none' },
        [hinted(-5_000), hinted(Number.NaN), hinted('5000'), hinted(Infinity), give('ok')],
      );

      await resultOf(h.clock, service.call());

      expect(h.clock.sleeps).toEqual([100, 100, 100, 100]);
    });
  });

  describe('maxDelay below initialDelay', () => {
    it('throws ConfigError naming maxDelay when the class is defined', () => {
      useHarness();
      const define = (): unknown => {
        class Misconfigured {
          @Idempotent()
          @Retryable({ initialDelay: 500, maxDelay: 100 })
          async fetch(): Promise<void> {}
        }
        return Misconfigured;
      };

      expect(define).toThrow(ConfigError);
      expect(define).toThrow(/maxDelay/);
    });

    it('never runs the body of a method declared so', async () => {
      const h = useHarness();
      let runs = 0;
      let instance: { fetch(): Promise<void> } | undefined;
      try {
        class Misconfigured {
          @Idempotent()
          @Retryable({ initialDelay: 500, maxDelay: 100 })
          async fetch(): Promise<void> {
            runs++;
          }
        }
        instance = new Misconfigured();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
      }
      if (instance !== undefined) {
        const error = await rejectionOf(h.clock, instance.fetch());
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).option).toBe('maxDelay');
      }
      expect(runs).toBe(0);
    });
  });
});
