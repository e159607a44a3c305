import {
  CircuitBreaker,
  CircuitOpenError,
  Idempotent,
  NotIdempotentError,
  Retryable,
  type CircuitBreakerOptions,
  type RetryOptions,
} from '../../src';
import { decoratorMode, useHarness } from '../support/harness';
import {
  breakerNamed,
  DownstreamError,
  rejectionOf,
  settle,
  uniqueCircuit,
  type Outcome,
} from './support';

/** The six orders in which the three decorators can be written, top to bottom. */
const ORDERS = [
  'Retryable, CircuitBreaker, Idempotent',
  'Retryable, Idempotent, CircuitBreaker',
  'CircuitBreaker, Retryable, Idempotent',
  'CircuitBreaker, Idempotent, Retryable',
  'Idempotent, Retryable, CircuitBreaker',
  'Idempotent, CircuitBreaker, Retryable',
] as const;
type Order = (typeof ORDERS)[number];

/** What the body does on its n-th run (1-based). */
type Body = (run: number) => Promise<string>;

interface Orders {
  place(): Promise<string>;
}

/** The same method, written with the three decorators in the given order. */
function defineInOrder(
  order: Order,
  retry: RetryOptions,
  breaker: CircuitBreakerOptions,
  body: Body,
): Orders {
  switch (order) {
    case 'Retryable, CircuitBreaker, Idempotent': {
      class OrderDesk {
        @Retryable(retry)
        @CircuitBreaker(breaker)
        @Idempotent()
        async place(): Promise<string> {
          return body(++this.runs);
        }
        runs = 0;
      }
      return new OrderDesk();
    }
    case 'Retryable, Idempotent, CircuitBreaker': {
      class OrderDesk {
        @Retryable(retry)
        @Idempotent()
        @CircuitBreaker(breaker)
        async place(): Promise<string> {
          return body(++this.runs);
        }
        runs = 0;
      }
      return new OrderDesk();
    }
    case 'CircuitBreaker, Retryable, Idempotent': {
      class OrderDesk {
        @CircuitBreaker(breaker)
        @Retryable(retry)
        @Idempotent()
        async place(): Promise<string> {
          return body(++this.runs);
        }
        runs = 0;
      }
      return new OrderDesk();
    }
    case 'CircuitBreaker, Idempotent, Retryable': {
      class OrderDesk {
        @CircuitBreaker(breaker)
        @Idempotent()
        @Retryable(retry)
        async place(): Promise<string> {
          return body(++this.runs);
        }
        runs = 0;
      }
      return new OrderDesk();
    }
    case 'Idempotent, Retryable, CircuitBreaker': {
      class OrderDesk {
        @Idempotent()
        @Retryable(retry)
        @CircuitBreaker(breaker)
        async place(): Promise<string> {
          return body(++this.runs);
        }
        runs = 0;
      }
      return new OrderDesk();
    }
    case 'Idempotent, CircuitBreaker, Retryable': {
      class OrderDesk {
        @Idempotent()
        @CircuitBreaker(breaker)
        @Retryable(retry)
        async place(): Promise<string> {
          return body(++this.runs);
        }
        runs = 0;
      }
      return new OrderDesk();
    }
  }
}

/** An outcome with the error described, so outcomes from different breakers compare equal. */
function describeOutcome(outcome: Outcome<string>): unknown {
  if (outcome.ok) return { value: outcome.value };
  const { error } = outcome;
  if (error instanceof CircuitOpenError)
    return { refusedBy: 'CircuitOpenError', state: error.state, retryAfter: error.retryAfter };
  return { error: error instanceof Error ? `${error.constructor.name}: ${error.message}` : error };
}

/** Runs one call to its end on the fake clock and reports everything observable about it. */
async function observe(
  order: Order,
  breakerOptions: Omit<CircuitBreakerOptions, 'name'>,
  body: Body,
) {
  const h = useHarness();
  const name = uniqueCircuit('composition');
  const retry: RetryOptions = { maxAttempts: 3, initialDelay: 100, jitter: 'none' };
  let runs = 0;
  const desk = defineInOrder(order, retry, { ...breakerOptions, name }, (run) => {
    runs = run;
    return body(run);
  });
  const outcome = settle(desk.place());
  await h.clock.runAll();
  const metrics = breakerNamed(name).metrics();
  return {
    runs,
    outcome: describeOutcome(await outcome),
    sleeps: [...h.clock.sleeps],
    breaker: {
      state: metrics.state,
      calls: metrics.calls,
      failures: metrics.failures,
      consecutiveFailures: metrics.consecutiveFailures,
    },
    finalReasons: h.events('failure').map(({ reason }) => reason),
  };
}

async function observeEveryOrder(breakerOptions: Omit<CircuitBreakerOptions, 'name'>, body: Body) {
  const seen = [];
  for (const order of ORDERS) seen.push({ order, ...(await observe(order, breakerOptions, body)) });
  return seen;
}

/** Every order observed the same as the first; the differing order is named if one does not. */
function expectAllAlike(seen: { order: Order }[]): void {
  const [first, ...others] = seen;
  const { order: _, ...expected } = first as { order: Order };
  for (const { order, ...observed } of others)
    expect({ order, ...observed }).toEqual({ order, ...expected });
}

const alwaysFails: Body = async (run) => {
  throw new DownstreamError(`run ${run}`);
};

describe(`@Retryable, @CircuitBreaker and @Idempotent in all six orders (${decoratorMode} decorators)`, () => {
  it('retry every attempt through the breaker, which counts each one, when the breaker does not open', async () => {
    const seen = await observeEveryOrder(
      { consecutiveFailures: 5, openDuration: 10_000 },
      alwaysFails,
    );

    expectAllAlike(seen);
    expect(seen[0]).toMatchObject({
      runs: 3,
      outcome: { error: 'DownstreamError: run 3' },
      sleeps: [100, 200],
      breaker: { state: 'closed', calls: 3, failures: 3, consecutiveFailures: 3 },
      finalReasons: ['exhausted'],
    });
  });

  it('stop retrying when the breaker opens mid-loop: the body runs consecutiveFailures times and the caller is refused', async () => {
    const seen = await observeEveryOrder(
      { consecutiveFailures: 2, openDuration: 10_000 },
      alwaysFails,
    );

    expectAllAlike(seen);
    expect(seen[0]).toMatchObject({
      runs: 2,
      outcome: { refusedBy: 'CircuitOpenError', state: 'open' },
      breaker: { state: 'open' },
      finalReasons: ['circuit-open'],
    });
  });

  it('succeed on the second attempt after one failure, the breaker counting both', async () => {
    const seen = await observeEveryOrder(
      { consecutiveFailures: 5, openDuration: 10_000 },
      async (run) => {
        if (run === 1) throw new DownstreamError('first run fails');
        return `placed on run ${run}`;
      },
    );

    expectAllAlike(seen);
    expect(seen[0]).toMatchObject({
      runs: 2,
      outcome: { value: 'placed on run 2' },
      sleeps: [100],
      breaker: { state: 'closed', calls: 2, failures: 1, consecutiveFailures: 0 },
      finalReasons: [],
    });
  });
});

describe(`@CircuitBreaker without @Idempotent (${decoratorMode} decorators)`, () => {
  it('runs a breaker-only method once per call, with no NotIdempotentError', async () => {
    useHarness();
    const name = uniqueCircuit('breaker-alone');
    let runs = 0;
    class Mailer {
      @CircuitBreaker({ name, consecutiveFailures: 3 })
      async send(to: string): Promise<string> {
        runs++;
        if (to === 'nobody') throw new DownstreamError('no such mailbox');
        return `sent to ${to}`;
      }
    }
    const mailer = new Mailer();

    await expect(mailer.send('ada')).resolves.toBe('sent to ada');
    const error = await rejectionOf(mailer.send('nobody'));
    expect(error).toBeInstanceOf(DownstreamError);
    expect(error).not.toBeInstanceOf(NotIdempotentError);
    expect(runs).toBe(2);
    expect(breakerNamed(name).metrics()).toMatchObject({ calls: 2, failures: 1 });
  });

  it('still refuses @Retryable with @CircuitBreaker when @Idempotent is missing, before the body runs', async () => {
    const h = useHarness();
    const name = uniqueCircuit('retry-without-idempotent');
    let runs = 0;
    let error: unknown;
    try {
      class Mailer {
        @CircuitBreaker({ name, consecutiveFailures: 3 })
        @Retryable({ maxAttempts: 3, initialDelay: 10 })
        async send(): Promise<string> {
          runs++;
          throw new DownstreamError('down');
        }
      }
      const outcome = settle(new Mailer().send());
      await h.clock.runAll();
      const settled = await outcome;
      error = settled.ok ? undefined : settled.error;
    } catch (thrown) {
      error = thrown; // refused when the class is defined: also allowed by the contract
    }
    expect(error).toBeInstanceOf(NotIdempotentError);
    expect(runs).toBe(0);
  });
});
