import fc from 'fast-check';
import {
  defaultEngine,
  Idempotent,
  Retryable,
  type JitterKind,
  type RetryOptions,
} from '../../../src';
import type { FakeClock } from '../../../src/testing';
import { useHarness, decoratorMode } from '../../support/harness';
import { flakyService, rejectionOf, resultOf } from '../support/services';

/** A service whose every attempt takes `duration` ms of the (fake) clock's time, then fails. */
function slowService(clock: FakeClock, duration: number, options: RetryOptions) {
  class Slow {
    runs = 0;
    readonly errors: Error[] = [];

    @Idempotent()
    @Retryable(options)
    async fetch(): Promise<string> {
      this.runs++;
      await clock.sleep(duration);
      const error = new Error(`attempt ${this.runs} timed out`);
      this.errors.push(error);
      throw error;
    }
  }
  return new Slow();
}

describe(`@Retryable maxElapsed (${decoratorMode})`, () => {
  it('starts no sleep that would end past the budget and rejects with the last error', async () => {
    const h = useHarness();
    const service = flakyService({
      maxAttempts: 10,
      initialDelay: 100,
      jitter: 'none',
      maxElapsed: 250,
    });
    const startedAt = h.clock.now();

    const error = await rejectionOf(h.clock, service.fetch());

    // slept 100 (ends at 100 ≤ 250); the next sleep of 200 would end at 300 > 250
    expect(service.runs).toBe(2);
    expect(h.clock.sleeps).toEqual([100]);
    expect(error).toBe(service.errors[1]);
    expect(h.clock.now()).toBe(startedAt + 100);
    expect(h.clock.pending).toBe(0);
    expect(h.events('failure')).toEqual([
      { method: 'Flaky.fetch', attempts: 2, reason: 'budget', error, duration: expect.any(Number) },
    ]);
  });

  it('allows a sleep that ends exactly at the budget', async () => {
    const h = useHarness();
    const service = flakyService({
      maxAttempts: 10,
      initialDelay: 100,
      jitter: 'none',
      maxElapsed: 300,
    });
    const startedAt = h.clock.now();

    await rejectionOf(h.clock, service.fetch());

    expect(service.runs).toBe(3);
    expect(h.clock.sleeps).toEqual([100, 200]);
    expect(h.clock.now()).toBe(startedAt + 300);
  });

  it('reports exhaustion, not the budget, when attempts run out first', async () => {
    const h = useHarness();
    const service = flakyService({
      maxAttempts: 3,
      initialDelay: 100,
      jitter: 'none',
      maxElapsed: 60_000,
    });

    await rejectionOf(h.clock, service.fetch());

    expect(service.runs).toBe(3);
    expect(h.events('failure')[0]?.reason).toBe('exhausted');
  });

  it('counts the time attempts take toward the budget', async () => {
    const h = useHarness();
    const service = slowService(h.clock, 120, {
      maxAttempts: 10,
      initialDelay: 100,
      jitter: 'none',
      maxElapsed: 500,
    });
    const startedAt = h.clock.now();

    const error = await rejectionOf(h.clock, service.fetch());

    // attempt 1: 0→120, sleep 100: →220, attempt 2: →340; a sleep of 200 would end at 540 > 500
    expect(service.runs).toBe(2);
    expect(h.clock.sleeps).toEqual([120, 100, 120]);
    expect(h.clock.now()).toBe(startedAt + 340);
    expect(error).toBe(service.errors[1]);
    expect(h.events('failure')[0]?.reason).toBe('budget');
  });

  it('does not retry after a single attempt that used up the budget', async () => {
    const h = useHarness();
    const service = slowService(h.clock, 1_000, {
      maxAttempts: 5,
      initialDelay: 10,
      jitter: 'none',
      maxElapsed: 500,
    });

    const error = await rejectionOf(h.clock, service.fetch());

    expect(service.runs).toBe(1);
    expect(h.clock.sleeps).toEqual([1_000]);
    expect(error).toBe(service.errors[0]);
  });

  it('stops when an error’s retryAfter hint would end past the budget', async () => {
    const h = useHarness();
    let runs = 0;
    const limited = Object.assign(new Error('rate limited'), { retryAfter: 5_000 });
    class Limited {
      @Idempotent()
      @Retryable({ maxAttempts: 5, initialDelay: 10, jitter: 'none', maxElapsed: 1_000 })
      async fetch(): Promise<void> {
        runs++;
        throw limited;
      }
    }

    expect(await rejectionOf(h.clock, new Limited().fetch())).toBe(limited);
    expect(runs).toBe(1);
    expect(h.clock.sleeps).toEqual([]);
  });

  it('resolves with the last rejected result when the budget ends a retryOnResult loop', async () => {
    const h = useHarness();
    let runs = 0;
    class Poller {
      @Idempotent()
      @Retryable({
        maxAttempts: 10,
        initialDelay: 100,
        jitter: 'none',
        maxElapsed: 350,
        retryOnResult: (r) => r !== 'ready',
      })
      async status(): Promise<string> {
        runs++;
        return `pending ${runs}`;
      }
    }

    expect(await resultOf(h.clock, new Poller().status())).toBe('pending 3');
    expect(runs).toBe(3);
    expect(h.clock.sleeps).toEqual([100, 200]);
  });

  it('measures the budget from each call’s own start', async () => {
    const h = useHarness();
    const service = flakyService({
      maxAttempts: 10,
      initialDelay: 100,
      jitter: 'none',
      maxElapsed: 250,
    });

    await rejectionOf(h.clock, service.fetch());
    await h.clock.advance(10_000);
    await rejectionOf(h.clock, service.fetch());

    expect(service.runs).toBe(4);
    expect(h.clock.sleeps).toEqual([100, 100]);
  });

  it('never lets a retry sleep end past startedAt + maxElapsed, whatever the timings', async () => {
    const h = useHarness();
    const sleepEnds: number[] = [];
    const off = defaultEngine.on('retry', (event) => sleepEnds.push(h.clock.now() + event.delay));
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            maxElapsed: fc.integer({ min: 0, max: 5_000 }),
            attemptDuration: fc.integer({ min: 0, max: 400 }),
            initialDelay: fc.integer({ min: 0, max: 500 }),
            maxAttempts: fc.integer({ min: 1, max: 12 }),
            jitter: fc.constantFrom<JitterKind>('none', 'full', 'equal', 'decorrelated'),
          }),
          async ({ maxElapsed, attemptDuration, initialDelay, maxAttempts, jitter }) => {
            sleepEnds.length = 0;
            const service = slowService(h.clock, attemptDuration, {
              maxAttempts,
              initialDelay,
              maxDelay: initialDelay * 8,
              jitter,
              maxElapsed,
            });
            const startedAt = h.clock.now();

            await rejectionOf(h.clock, service.fetch());

            for (const end of sleepEnds) expect(end).toBeLessThanOrEqual(startedAt + maxElapsed);
            expect(service.runs).toBeLessThanOrEqual(maxAttempts);
            expect(service.runs).toBe(sleepEnds.length + 1);
            const reason = h.events('failure').at(-1)?.reason;
            expect(reason === 'budget' || reason === 'exhausted').toBe(true);
            if (reason === 'exhausted') expect(service.runs).toBe(maxAttempts);
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      off();
    }
  });
});
