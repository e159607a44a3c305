import { ConfigError, configure, Idempotent, Retryable, type RetryOptions } from '../../src';
import { decoratorMode, useHarness, type Harness } from '../support/harness';
import { thrownBy } from '../decorators/helpers';

/** A dependency that fails every call; counts the bodies that ran. */
function failingService(options: RetryOptions) {
  const service = { bodies: 0, call: undefined as unknown as () => Promise<string> };
  class Dependent {
    @Idempotent()
    @Retryable({ initialDelay: 0, maxDelay: 0, jitter: 'none', ...options })
    async call(): Promise<string> {
      service.bodies++;
      throw new Error('dependency down');
    }
  }
  const instance = new Dependent();
  service.call = () => instance.call();
  return service;
}

/** The spec's rule, written out: retries in the window may not exceed ratio × calls + minPerSecond × window/1000. */
function expectedBodies(
  calls: number,
  retriesPerCall: number,
  ratio: number,
  floor: number,
): number {
  let retries = 0;
  for (let call = 1; call <= calls; call++) {
    for (let retry = 0; retry < retriesPerCall; retry++) {
      if (retries + 1 > ratio * call + floor) break;
      retries++;
    }
  }
  return calls + retries;
}

async function callMany(h: Harness, call: () => Promise<string>, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const done = call().catch(() => undefined);
    await h.clock.runAll();
    await done;
  }
}

describe(`retry budgets (${decoratorMode} decorators)`, () => {
  afterEach(() => configure({ retryBudget: false }));

  it('keeps the retries of a window under ratio × calls + the floor, and never refuses a first attempt', async () => {
    const h = useHarness();
    configure({ retryBudget: { ratio: 0.1, minPerSecond: 1, window: 10_000 } });
    const service = failingService({ maxAttempts: 4 });

    await callMany(h, service.call, 200);

    expect(service.bodies).toBe(expectedBodies(200, 3, 0.1, 10));
    // Without a budget the dependency would have seen 800 calls: 4 attempts each.
    expect(service.bodies / 200).toBeLessThanOrEqual(1.2);
    const refused = h.events('failure').filter((event) => event.reason === 'retry-budget');
    expect(refused.length).toBeGreaterThan(0);
    expect(h.events('failure')).toHaveLength(200);
  });

  it('ends a refused call at once with its last error, without sleeping', async () => {
    const h = useHarness();
    configure({ retryBudget: { ratio: 0, minPerSecond: 0 } });
    const service = failingService({ maxAttempts: 3, initialDelay: 100, maxDelay: 100 });

    const error = await service.call().catch((caught: unknown) => caught);

    expect(error).toMatchObject({ message: 'dependency down' });
    expect(service.bodies).toBe(1);
    expect(h.clock.sleeps).toEqual([]);
    expect(h.events('failure')).toEqual([
      expect.objectContaining({
        method: 'Dependent.call',
        attempts: 1,
        reason: 'retry-budget',
        error,
      }),
    ]);
  });

  it('recovers once the window has moved on', async () => {
    const h = useHarness();
    configure({ retryBudget: { ratio: 0, minPerSecond: 1, window: 1_000 } });
    const service = failingService({ maxAttempts: 3 });

    await callMany(h, service.call, 3);
    expect(service.bodies).toBe(3 + 1); // the floor: one retry a second, for a 1 s window
    await h.clock.advance(1_000);
    await callMany(h, service.call, 1);
    expect(service.bodies).toBe(4 + 2);
  });

  it('gives a method its own budget, shares a named one, and lets budget: false opt out of the engine’s', async () => {
    const h = useHarness();
    configure({ retryBudget: { ratio: 0, minPerSecond: 0 } });
    const exempt = failingService({ maxAttempts: 3, budget: false });
    const own = failingService({
      maxAttempts: 3,
      budget: { ratio: 0, minPerSecond: 0.1, window: 10_000 },
    });
    const sharedA = failingService({
      maxAttempts: 3,
      budget: { name: `shared-${decoratorMode}`, ratio: 0, minPerSecond: 0.1 },
    });
    const sharedB = failingService({
      maxAttempts: 3,
      budget: { name: `shared-${decoratorMode}`, ratio: 0, minPerSecond: 0.1 },
    });

    await callMany(h, exempt.call, 2);
    await callMany(h, own.call, 2);
    await callMany(h, sharedA.call, 1);
    await callMany(h, sharedB.call, 1);

    expect(exempt.bodies).toBe(6); // no budget: every attempt
    expect(own.bodies).toBe(2 + 1); // a floor of 1 retry per 10 s window
    expect(sharedA.bodies + sharedB.bodies).toBe(2 + 1); // one floor for both
  });

  it('logs refusals without flooding: the first in full, then a count', async () => {
    const h = useHarness();
    configure({ retryBudget: { ratio: 0, minPerSecond: 0 } });
    const service = failingService({ maxAttempts: 2 });

    await callMany(h, service.call, 30);
    await h.clock.advance(10_000);
    await callMany(h, service.call, 1);

    const lines = h.logger.entries.map((entry) => `${entry.level} ${entry.message}`);
    expect(lines).toEqual([
      expect.stringMatching(
        /^warn Dependent\.call failed after 1\/2 attempts, not retried: the retry budget is spent/,
      ),
      expect.stringMatching(
        /^warn retry budget 'engine' refused 30 more retries in the last 10 s$/,
      ),
    ]);
  });

  describe('bad options', () => {
    it.each([
      ['a ratio above 1', { ratio: 1.5 }, 'budget.ratio'],
      ['a negative ratio', { ratio: -0.1 }, 'budget.ratio'],
      ['a negative floor', { minPerSecond: -1 }, 'budget.minPerSecond'],
      ['a window of NaN', { window: Number.NaN }, 'budget.window'],
      ['an unknown key', { ratoi: 0.1 }, 'budget.ratoi'],
      ['an empty name', { name: '' }, 'budget.name'],
    ])('refuses %s at definition', (_what, budget, option) => {
      const error = thrownBy(() => failingService({ budget: budget as never }));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ option });
    });

    it('refuses one budget name with other settings, at definition', () => {
      failingService({ budget: { name: `conflict-${decoratorMode}`, ratio: 0.2 } });
      const error = thrownBy(() =>
        failingService({ budget: { name: `conflict-${decoratorMode}`, ratio: 0.3 } }),
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ option: 'name' });
    });

    it.each([
      ['a ratio above 1', { ratio: 2 }, 'retryBudget.ratio'],
      ['a name (the engine’s budget has none)', { name: 'x' }, 'retryBudget.name'],
    ])('refuses %s in configure({ retryBudget })', (_what, retryBudget, option) => {
      useHarness();
      expect(() => configure({ retryBudget: retryBudget as never })).toThrow(ConfigError);
      try {
        configure({ retryBudget: retryBudget as never });
      } catch (error) {
        expect(error).toMatchObject({ option });
      }
    });
  });
});
