import 'reflect-metadata';
import { Idempotent, NotIdempotentError, Retryable, type RetryOptions } from '../../src';
import { decoratorMode, useHarness } from '../support/harness';
import { onFunction, replaceWith, settle } from './helpers';

class Flaky extends Error {}

type Order = 'idempotent above' | 'idempotent below';
type Body = (attempt: number) => Promise<string>;

/** The same method, decorated in the given order; each call of the body counts as an attempt. */
function defineInOrder(order: Order, options: RetryOptions, body: Body) {
  let attempts = 0;
  if (order === 'idempotent above') {
    class Catalog {
      @Idempotent()
      @Retryable(options)
      async find(): Promise<string> {
        return body(++attempts);
      }
    }
    return { catalog: new Catalog(), attempts: () => attempts };
  }
  class Catalog {
    @Retryable(options)
    @Idempotent()
    async find(): Promise<string> {
      return body(++attempts);
    }
  }
  return { catalog: new Catalog(), attempts: () => attempts };
}

/** Runs one call to its end on the fake clock and reports everything observable about it. */
async function observe(order: Order, options: RetryOptions, body: Body, randoms: number[] = []) {
  const h = useHarness();
  h.randomValues(...randoms);
  const { catalog, attempts } = defineInOrder(order, options, body);
  const outcome = settle(catalog.find());
  await h.clock.runAll();
  return {
    outcome: await outcome,
    attempts: attempts(),
    sleeps: [...h.clock.sleeps],
    retries: h.events('retry').map(({ attempt, delay }) => ({ attempt, delay })),
    failures: h.events('failure').map(({ attempts: made, reason }) => ({ attempts: made, reason })),
  };
}

describe(`@Idempotent and @Retryable in either order (${decoratorMode} decorators)`, () => {
  it('succeed on the same attempt after the same delays', async () => {
    const options: RetryOptions = {
      maxAttempts: 5,
      initialDelay: 100,
      multiplier: 3,
      jitter: 'none',
    };
    const body: Body = async (attempt) => {
      if (attempt < 4) throw new Flaky(`attempt ${attempt}`);
      return `found on attempt ${attempt}`;
    };

    const above = await observe('idempotent above', options, body);
    const below = await observe('idempotent below', options, body);

    expect(above.outcome).toEqual({ value: 'found on attempt 4', rejected: false });
    expect(above.attempts).toBe(4);
    expect(above.sleeps).toEqual([100, 300, 900]);
    expect(below).toEqual(above);
  });

  it('give up after the same number of attempts with the same last error', async () => {
    const options: RetryOptions = {
      maxAttempts: 3,
      initialDelay: 50,
      maxDelay: 80,
      jitter: 'none',
    };
    const errors = [new Flaky('1'), new Flaky('2'), new Flaky('3')];
    const body: Body = async (attempt) => {
      throw errors[attempt - 1];
    };

    const above = await observe('idempotent above', options, body);
    const below = await observe('idempotent below', options, body);

    expect(above.outcome.error).toBe(errors[2]);
    expect(above.attempts).toBe(3);
    expect(above.sleeps).toEqual([50, 80]);
    expect(above.failures).toEqual([{ attempts: 3, reason: 'exhausted' }]);
    expect(below).toEqual(above);
  });

  it('draw the same jittered delays from the same random values', async () => {
    const options: RetryOptions = { maxAttempts: 4, initialDelay: 100, jitter: 'full' };
    const body: Body = async (attempt) => {
      if (attempt < 4) throw new Flaky('again');
      return 'done';
    };

    const above = await observe('idempotent above', options, body, [0.25, 0.5, 0.75]);
    const below = await observe('idempotent below', options, body, [0.25, 0.5, 0.75]);

    expect(above.sleeps).toEqual([25, 100, 300]);
    expect(below).toEqual(above);
  });

  it('stop at once on a failure retryOn does not retry, in either order', async () => {
    const options: RetryOptions = { maxAttempts: 5, jitter: 'none', retryOn: [Flaky] };
    const fatal = new TypeError('fatal');
    const body: Body = async (attempt) => {
      if (attempt === 1) throw new Flaky('retried');
      throw fatal;
    };

    const above = await observe('idempotent above', options, body);
    const below = await observe('idempotent below', options, body);

    expect(above.outcome.error).toBe(fatal);
    expect(above.attempts).toBe(2);
    expect(above.failures).toEqual([{ attempts: 2, reason: 'not-retryable' }]);
    expect(below).toEqual(above);
  });

  it('behave the same with a metadata-only decorator written above, between or below them', async () => {
    const h = useHarness();
    const runs: Record<string, number> = {};
    const flaky = async (name: string): Promise<string> => {
      runs[name] = (runs[name] ?? 0) + 1;
      if ((runs[name] ?? 0) < 2) throw new Flaky(name);
      return name;
    };
    const options: RetryOptions = { maxAttempts: 2, initialDelay: 10, jitter: 'none' };
    class Routes {
      @onFunction('route:path', '/a')
      @Idempotent()
      @Retryable(options)
      async a(): Promise<string> {
        return flaky('a');
      }

      @Idempotent()
      @onFunction('route:path', '/b')
      @Retryable(options)
      async b(): Promise<string> {
        return flaky('b');
      }

      @Retryable(options)
      @onFunction('route:path', '/c')
      @Idempotent()
      async c(): Promise<string> {
        return flaky('c');
      }

      @Retryable(options)
      @Idempotent()
      @onFunction('route:path', '/d')
      async d(): Promise<string> {
        return flaky('d');
      }
    }
    const routes = new Routes();

    const outcomes = Promise.all([
      settle(routes.a()),
      settle(routes.b()),
      settle(routes.c()),
      settle(routes.d()),
    ]);
    await h.clock.runAll();

    expect((await outcomes).map((outcome) => outcome.value)).toEqual(['a', 'b', 'c', 'd']);
    expect(runs).toEqual({ a: 2, b: 2, c: 2, d: 2 });
    expect(h.clock.sleeps).toEqual([10, 10, 10, 10]);
  });

  // A decorator that replaces the function stands between the retry and the mark: the retrying
  // function is then not the marked one. That must be refused, never silently retried.
  it.each<Order>(['idempotent above', 'idempotent below'])(
    'refuse to retry when a wrapping decorator separates them (%s)',
    async (order) => {
      useHarness();
      let runs = 0;
      const passThrough = replaceWith(
        (original) =>
          function (this: unknown, ...args: never[]) {
            return original.apply(this, args);
          },
      );
      let payments: { charge(): Promise<string> };
      if (order === 'idempotent above') {
        class Payments {
          @Idempotent()
          @passThrough
          @Retryable()
          async charge(): Promise<string> {
            runs++;
            return 'charged';
          }
        }
        payments = new Payments();
      } else {
        class Payments {
          @Retryable()
          @passThrough
          @Idempotent()
          async charge(): Promise<string> {
            runs++;
            return 'charged';
          }
        }
        payments = new Payments();
      }

      await expect(payments.charge()).rejects.toBeInstanceOf(NotIdempotentError);
      expect(runs).toBe(0);
    },
  );
});
