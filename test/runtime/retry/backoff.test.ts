import { configure, Idempotent, Retryable, type RetryOptions } from '../../../src';
import { useHarness, decoratorMode } from '../../support/harness';
import { flakyService, rejectionOf } from '../support/services';

describe(`@Retryable backoff (${decoratorMode})`, () => {
  describe("with jitter: 'none'", () => {
    const cases: { name: string; options: RetryOptions; delays: number[] }[] = [
      {
        name: 'doubles the delay (multiplier 2)',
        options: { maxAttempts: 6, initialDelay: 100, multiplier: 2, maxDelay: 10_000 },
        delays: [100, 200, 400, 800, 1_600],
      },
      {
        name: 'keeps the delay constant (multiplier 1)',
        options: { maxAttempts: 5, initialDelay: 250, multiplier: 1, maxDelay: 1_000 },
        delays: [250, 250, 250, 250],
      },
      {
        name: 'grows the delay by half each time (multiplier 1.5)',
        options: { maxAttempts: 6, initialDelay: 100, multiplier: 1.5, maxDelay: 10_000 },
        delays: [100, 150, 225, 337.5, 506.25],
      },
      {
        name: 'triples the delay and stops at maxDelay (multiplier 3)',
        options: { maxAttempts: 7, initialDelay: 10, multiplier: 3, maxDelay: 500 },
        delays: [10, 30, 90, 270, 500, 500],
      },
      {
        name: 'caps the delay at maxDelay once the exponential passes it',
        options: { maxAttempts: 8, initialDelay: 100, multiplier: 2, maxDelay: 700 },
        delays: [100, 200, 400, 700, 700, 700, 700],
      },
      {
        name: 'uses maxDelay from the first retry when it equals initialDelay',
        options: { maxAttempts: 4, initialDelay: 300, multiplier: 2, maxDelay: 300 },
        delays: [300, 300, 300],
      },
    ];

    it.each(cases)(
      '$name: the n-th delay is min(maxDelay, initialDelay·multiplier^(n-1))',
      async ({ options, delays }) => {
        const h = useHarness();
        const service = flakyService({ ...options, jitter: 'none' });
        const startedAt = h.clock.now();

        await rejectionOf(h.clock, service.fetch());

        expect(h.clock.sleeps).toEqual(delays);
        expect(h.events('retry').map((event) => event.delay)).toEqual(delays);
        expect(service.runs).toBe(options.maxAttempts);
        expect(h.clock.now() - startedAt).toBe(delays.reduce((sum, delay) => sum + delay, 0));
      },
    );

    it('never exceeds maxDelay however many attempts are made', async () => {
      const h = useHarness();
      const service = flakyService({
        maxAttempts: 40,
        initialDelay: 1,
        multiplier: 3,
        maxDelay: 60_000,
        jitter: 'none',
      });

      await rejectionOf(h.clock, service.fetch());

      expect(h.clock.sleeps).toHaveLength(39);
      expect(Math.max(...h.clock.sleeps)).toBe(60_000);
      expect(h.clock.sleeps.slice(11)).toEqual(new Array(28).fill(60_000));
    });

    it('retries at once, without sleeping, when initialDelay is 0', async () => {
      const h = useHarness();
      const service = flakyService({
        maxAttempts: 4,
        initialDelay: 0,
        maxDelay: 0,
        jitter: 'none',
      });
      const startedAt = h.clock.now();

      await rejectionOf(h.clock, service.fetch());

      expect(service.runs).toBe(4);
      expect(h.clock.sleeps).toEqual([]);
      expect(h.events('retry').map((event) => event.delay)).toEqual([0, 0, 0]);
      expect(h.clock.now()).toBe(startedAt);
    });

    it('resets the backoff for every new call', async () => {
      const h = useHarness();
      const service = flakyService({ maxAttempts: 3, initialDelay: 100, jitter: 'none' });

      await rejectionOf(h.clock, service.fetch());
      await rejectionOf(h.clock, service.fetch());

      expect(h.clock.sleeps).toEqual([100, 200, 100, 200]);
    });
  });

  describe('positional form', () => {
    it('@Retryable(4, 50, 300) behaves as { maxAttempts: 4, initialDelay: 50, maxDelay: 300 }', async () => {
      const h = useHarness();
      let positionalRuns = 0;
      let objectRuns = 0;
      class Positional {
        @Idempotent()
        @Retryable(4, 50, 300)
        async fetch(): Promise<void> {
          positionalRuns++;
          throw new Error('down');
        }
      }
      class WithObject {
        @Idempotent()
        @Retryable({ maxAttempts: 4, initialDelay: 50, maxDelay: 300 })
        async fetch(): Promise<void> {
          objectRuns++;
          throw new Error('down');
        }
      }

      h.randomValues(0.2, 0.7, 0.9);
      await rejectionOf(h.clock, new Positional().fetch());
      const positionalSleeps = [...h.clock.sleeps];
      h.randomValues(0.2, 0.7, 0.9);
      await rejectionOf(h.clock, new WithObject().fetch());
      const objectSleeps = h.clock.sleeps.slice(positionalSleeps.length);

      expect(positionalRuns).toBe(4);
      expect(objectRuns).toBe(4);
      expect(positionalSleeps).toEqual([50 * 0.2, 100 * 0.7, 200 * 0.9]);
      expect(objectSleeps).toEqual(positionalSleeps);
    });

    it('applies the positional maxDelay as the cap', async () => {
      const h = useHarness();
      configure({ defaults: { retry: { jitter: 'none' } } });
      let runs = 0;
      class Positional {
        @Idempotent()
        @Retryable(5, 50, 150)
        async fetch(): Promise<void> {
          runs++;
          throw new Error('down');
        }
      }

      await rejectionOf(h.clock, new Positional().fetch());

      expect(runs).toBe(5);
      expect(h.clock.sleeps).toEqual([50, 100, 150, 150]);
    });

    it('keeps the library defaults for the positions left out', async () => {
      const h = useHarness();
      configure({ defaults: { retry: { jitter: 'none' } } });
      let runs = 0;
      class Positional {
        @Idempotent()
        @Retryable(5)
        async fetch(): Promise<void> {
          runs++;
          throw new Error('down');
        }
      }

      await rejectionOf(h.clock, new Positional().fetch());

      expect(runs).toBe(5);
      expect(h.clock.sleeps).toEqual([100, 200, 400, 800]);
    });
  });

  describe('defaults', () => {
    it('makes 3 attempts in all', async () => {
      const h = useHarness();
      const service = flakyService({});

      await rejectionOf(h.clock, service.fetch());

      expect(service.runs).toBe(3);
      expect(h.clock.sleeps).toHaveLength(2);
    });

    it('uses full jitter over initialDelay 100 doubling (multiplier 2): delay = d · random', async () => {
      const h = useHarness();
      const service = flakyService({});
      h.randomValues(0.25, 0.75);

      await rejectionOf(h.clock, service.fetch());

      // 'equal' would give 62.5 and 175, 'none' 100 and 200.
      expect(h.clock.sleeps).toEqual([25, 150]);
    });

    it('caps delays at maxDelay 10 000', async () => {
      const h = useHarness();
      const service = flakyService({ maxAttempts: 12, jitter: 'none' });

      await rejectionOf(h.clock, service.fetch());

      expect(h.clock.sleeps).toEqual([
        100, 200, 400, 800, 1_600, 3_200, 6_400, 10_000, 10_000, 10_000, 10_000,
      ]);
    });

    it('applies the defaults to @Retryable() without options', async () => {
      const h = useHarness();
      let runs = 0;
      class Bare {
        @Idempotent()
        @Retryable()
        async fetch(): Promise<void> {
          runs++;
          throw new Error('down');
        }
      }
      h.randomValues(1 / 4, 1 / 2);

      await rejectionOf(h.clock, new Bare().fetch());

      expect(runs).toBe(3);
      expect(h.clock.sleeps).toEqual([25, 100]);
    });
  });
});
