import fc from 'fast-check';
import type { JitterKind } from '../../../src';
import { useHarness, decoratorMode, type Harness } from '../../support/harness';
import { flakyService, rejectionOf, TOP_RANDOM } from '../support/services';

/** Expects each delay to equal its bound, or to lie below it by less than a rounding error. */
function expectAtUpperBounds(delays: readonly number[], bounds: readonly number[]): void {
  expect(delays).toHaveLength(bounds.length);
  delays.forEach((delay, index) => {
    const bound = bounds[index] as number;
    expect(delay).toBeLessThanOrEqual(bound);
    expect(bound - delay).toBeLessThan(1e-9);
  });
}

/** The delays of the retries reported since `from` retry events had been seen. */
function retryDelays(h: Harness, from = 0): number[] {
  return h
    .events('retry')
    .slice(from)
    .map((event) => event.delay);
}

// 6 attempts, so 5 delays; the exponential 100·2^(n-1) reaches maxDelay 1000 at the 5th.
const options = { maxAttempts: 6, initialDelay: 100, multiplier: 2, maxDelay: 1_000 } as const;
const ceilings = [100, 200, 400, 800, 1_000];

describe(`@Retryable jitter (${decoratorMode})`, () => {
  describe("'full': uniform in [0, d]", () => {
    it('picks 0 for every attempt when random() is 0, and so never sleeps', async () => {
      const h = useHarness();
      h.randomValues(0, 0, 0, 0, 0);
      const service = flakyService({ ...options, jitter: 'full' });
      const startedAt = h.clock.now();

      await rejectionOf(h.clock, service.fetch());

      expect(retryDelays(h)).toEqual([0, 0, 0, 0, 0]);
      expect(h.clock.sleeps).toEqual([]);
      expect(h.clock.now()).toBe(startedAt);
      expect(service.runs).toBe(6);
    });

    it('reaches d for every attempt when random() is at its largest', async () => {
      const h = useHarness();
      h.randomValues(...ceilings.map(() => TOP_RANDOM));
      const service = flakyService({ ...options, jitter: 'full' });

      await rejectionOf(h.clock, service.fetch());

      expectAtUpperBounds(h.clock.sleeps, ceilings);
    });

    it('scales d by random() attempt after attempt', async () => {
      const h = useHarness();
      h.randomValues(0.5, 0.25, 0.75, 0.1, 0.5);
      const service = flakyService({ ...options, jitter: 'full' });

      await rejectionOf(h.clock, service.fetch());

      expect(h.clock.sleeps).toEqual([50, 50, 300, 80, 500]);
    });

    it('caps d at maxDelay before randomising', async () => {
      const h = useHarness();
      h.randomValues(0.5, 0.5, 0.5, 0.5);
      const service = flakyService({
        maxAttempts: 5,
        initialDelay: 100,
        maxDelay: 300,
        jitter: 'full',
      });

      await rejectionOf(h.clock, service.fetch());

      // min(300, 400)·0.5 = 150; randomising first would give min(300, 400·0.5) = 200
      expect(h.clock.sleeps).toEqual([50, 100, 150, 150]);
    });
  });

  describe("'equal': uniform in [d/2, d]", () => {
    it('picks d/2 for every attempt when random() is 0', async () => {
      const h = useHarness();
      h.randomValues(0, 0, 0, 0, 0);
      const service = flakyService({ ...options, jitter: 'equal' });

      await rejectionOf(h.clock, service.fetch());

      expect(h.clock.sleeps).toEqual([50, 100, 200, 400, 500]);
    });

    it('reaches d for every attempt when random() is at its largest', async () => {
      const h = useHarness();
      h.randomValues(...ceilings.map(() => TOP_RANDOM));
      const service = flakyService({ ...options, jitter: 'equal' });

      await rejectionOf(h.clock, service.fetch());

      expectAtUpperBounds(h.clock.sleeps, ceilings);
    });

    it('caps d at maxDelay before randomising', async () => {
      const h = useHarness();
      h.randomValues(0, 0, 0, 0);
      const service = flakyService({
        maxAttempts: 5,
        initialDelay: 100,
        maxDelay: 300,
        jitter: 'equal',
      });

      await rejectionOf(h.clock, service.fetch());

      // min(300, 400)/2 = 150; capping afterwards would give min(300, 400/2) = 200
      expect(h.clock.sleeps).toEqual([50, 100, 150, 150]);
    });
  });

  describe("'decorrelated': uniform in [initialDelay, min(maxDelay, 3·previous)]", () => {
    it('picks initialDelay for every attempt when random() is 0', async () => {
      const h = useHarness();
      h.randomValues(0, 0, 0, 0, 0);
      const service = flakyService({ ...options, jitter: 'decorrelated' });

      await rejectionOf(h.clock, service.fetch());

      expect(h.clock.sleeps).toEqual([100, 100, 100, 100, 100]);
    });

    it('reaches min(maxDelay, 3·previous) for every attempt when random() is at its largest', async () => {
      const h = useHarness();
      h.randomValues(...ceilings.map(() => TOP_RANDOM));
      const service = flakyService({ ...options, jitter: 'decorrelated' });

      await rejectionOf(h.clock, service.fetch());

      // previous starts at initialDelay: 3·100, 3·300, then maxDelay caps
      expectAtUpperBounds(h.clock.sleeps, [300, 900, 1_000, 1_000, 1_000]);
    });

    it('grows from the previous delay, not from the attempt number', async () => {
      const h = useHarness();
      h.randomValues(TOP_RANDOM, 0, TOP_RANDOM, TOP_RANDOM);
      const service = flakyService({
        maxAttempts: 5,
        initialDelay: 100,
        maxDelay: 10_000,
        jitter: 'decorrelated',
      });

      await rejectionOf(h.clock, service.fetch());

      expectAtUpperBounds(h.clock.sleeps, [300, 100, 300, 900]);
    });

    it('caps 3·previous at maxDelay before randomising', async () => {
      const h = useHarness();
      h.randomValues(0.5, 0.5, 0.5, 0.5);
      const service = flakyService({
        maxAttempts: 5,
        initialDelay: 100,
        maxDelay: 1_000,
        jitter: 'decorrelated',
      });

      await rejectionOf(h.clock, service.fetch());

      // 100 + (300-100)/2 = 200; 100 + (600-100)/2 = 350; then 3·350 = 1050 is capped to 1000: 100 + 900/2 = 550
      expect(h.clock.sleeps).toEqual([200, 350, 550, 550]);
    });
  });

  describe('for any parameters and random values', () => {
    const scenario = fc.record({
      initialDelay: fc.integer({ min: 0, max: 2_000 }),
      headroom: fc.integer({ min: 0, max: 30_000 }),
      multiplier: fc.double({ min: 1, max: 4, noNaN: true }),
      randoms: fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
        minLength: 1,
        maxLength: 8,
      }),
    });

    type Bounds = (
      n: number,
      ceiling: number,
      previous: number,
      initialDelay: number,
      maxDelay: number,
    ) => [number, number];
    const boundsOf: Record<Exclude<JitterKind, 'none'>, Bounds> = {
      full: (_n, ceiling) => [0, ceiling],
      equal: (_n, ceiling) => [ceiling / 2, ceiling],
      decorrelated: (_n, _ceiling, previous, initialDelay, maxDelay) => [
        initialDelay,
        Math.min(maxDelay, 3 * previous),
      ],
    };

    it.each(Object.keys(boundsOf) as (keyof typeof boundsOf)[])(
      "'%s' keeps every delay within its bound and never above maxDelay",
      async (jitter) => {
        const h = useHarness();
        await fc.assert(
          fc.asyncProperty(scenario, async ({ initialDelay, headroom, multiplier, randoms }) => {
            const maxDelay = initialDelay + headroom;
            const maxAttempts = randoms.length + 1;
            const seenEvents = h.events('retry').length;
            const seenSleeps = h.clock.sleeps.length;
            h.randomValues(...randoms);
            const service = flakyService({
              maxAttempts,
              initialDelay,
              maxDelay,
              multiplier,
              jitter,
            });

            await rejectionOf(h.clock, service.fetch());

            const delays = retryDelays(h, seenEvents);
            expect(delays).toHaveLength(randoms.length);
            let previous = initialDelay;
            delays.forEach((delay, index) => {
              const n = index + 1;
              const ceiling = Math.min(maxDelay, initialDelay * multiplier ** (n - 1));
              const [lower, upper] = boundsOf[jitter](n, ceiling, previous, initialDelay, maxDelay);
              expect(delay).toBeGreaterThanOrEqual(lower);
              expect(delay).toBeLessThanOrEqual(upper);
              expect(delay).toBeLessThanOrEqual(maxDelay);
              previous = delay;
            });
            expect(h.clock.sleeps.slice(seenSleeps)).toEqual(delays.filter((delay) => delay > 0));
            expect(service.runs).toBe(maxAttempts);
          }),
          { numRuns: 100 },
        );
      },
    );

    it("'none' gives exactly min(maxDelay, initialDelay·multiplier^(n-1))", async () => {
      const h = useHarness();
      await fc.assert(
        fc.asyncProperty(scenario, async ({ initialDelay, headroom, multiplier, randoms }) => {
          const maxDelay = initialDelay + headroom;
          const maxAttempts = randoms.length + 1;
          const seenEvents = h.events('retry').length;
          const service = flakyService({
            maxAttempts,
            initialDelay,
            maxDelay,
            multiplier,
            jitter: 'none',
          });

          await rejectionOf(h.clock, service.fetch());

          const expected = randoms.map((_, index) =>
            Math.min(maxDelay, initialDelay * multiplier ** index),
          );
          expect(retryDelays(h, seenEvents)).toEqual(expected);
        }),
        { numRuns: 100 },
      );
    });
  });
});
