import {
  configure,
  ConfigError,
  defaultEngine,
  ResilienceEngine,
  Retryable,
  type EngineOptions,
} from '../../src';
import { FakeClock, RecordingLogger } from '../../src/testing';
import { useHarness, decoratorMode } from '../support/harness';
import { flakyService, rejectionOf } from './support/services';

/** Runs `action` and returns the ConfigError it throws (fails if it throws anything else, or nothing). */
function configErrorOf(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe(`configure() and the engine (${decoratorMode})`, () => {
  describe('configuring after classes are defined', () => {
    it('changes maxAttempts of a method declared without it on its next call', async () => {
      const h = useHarness();
      const service = flakyService({ jitter: 'none' });

      await rejectionOf(h.clock, service.fetch());
      expect(service.runs).toBe(3);
      configure({ defaults: { retry: { maxAttempts: 5 } } });
      await rejectionOf(h.clock, service.fetch());

      expect(service.runs).toBe(3 + 5);
    });

    it('lets the decorator’s own options win over configured defaults', async () => {
      const h = useHarness();
      const service = flakyService({ maxAttempts: 2, jitter: 'none' });
      configure({ defaults: { retry: { maxAttempts: 5, jitter: 'equal', initialDelay: 7 } } });

      await rejectionOf(h.clock, service.fetch());

      expect(service.runs).toBe(2);
      expect(h.clock.sleeps).toEqual([7]);
    });

    it('fills every option the decorator leaves out from the configured defaults', async () => {
      const h = useHarness();
      const service = flakyService({});
      configure({
        defaults: {
          retry: { maxAttempts: 4, initialDelay: 10, multiplier: 3, maxDelay: 50, jitter: 'none' },
        },
      });

      await rejectionOf(h.clock, service.fetch());

      expect(service.runs).toBe(4);
      expect(h.clock.sleeps).toEqual([10, 30, 50]);
    });

    it('applies configured retryOn defaults', async () => {
      const h = useHarness();
      const service = flakyService({ maxAttempts: 4 });
      configure({ defaults: { retry: { retryOn: () => false } } });

      await rejectionOf(h.clock, service.fetch());

      expect(service.runs).toBe(1);
    });

    it('returns to the library defaults when defaults are replaced by {}', async () => {
      const h = useHarness();
      const service = flakyService({ jitter: 'none' });
      configure({ defaults: { retry: { maxAttempts: 6 } } });
      configure({ defaults: {} });

      await rejectionOf(h.clock, service.fetch());

      expect(service.runs).toBe(3);
    });

    it('keeps the configured defaults when configure() is called again without defaults', async () => {
      const h = useHarness();
      const service = flakyService({ jitter: 'none' });
      configure({ defaults: { retry: { maxAttempts: 4 } } });
      configure({ logger: h.logger });

      await rejectionOf(h.clock, service.fetch());

      expect(service.runs).toBe(4);
    });

    it('uses a clock configured later for the next call', async () => {
      const h = useHarness();
      const service = flakyService({ maxAttempts: 3, jitter: 'none' });
      const laterClock = new FakeClock(0);
      configure({ clock: laterClock });

      await rejectionOf(laterClock, service.fetch());

      expect(laterClock.sleeps).toEqual([100, 200]);
      expect(laterClock.now()).toBe(300);
      expect(h.clock.sleeps).toEqual([]);
    });

    it('uses a logger and a random source configured later for the next call', async () => {
      const h = useHarness();
      const service = flakyService({ maxAttempts: 2, jitter: 'full' });
      const laterLogger = new RecordingLogger();
      configure({ logger: laterLogger, random: () => 0.25 });

      await rejectionOf(h.clock, service.fetch());

      expect(h.clock.sleeps).toEqual([25]);
      expect(laterLogger.entries.map((entry) => entry.level)).toEqual(['warn', 'error']);
      expect(h.logger.entries).toEqual([]);
    });

    it('returns the default engine', () => {
      useHarness();
      expect(configure({})).toBe(defaultEngine);
    });
  });

  describe('invalid options', () => {
    const invalid: [string, unknown, string][] = [
      ['an unknown key', { retries: 3 }, 'retries'],
      ['a logger without warn/error', { logger: { info() {} } }, 'logger'],
      ['a logger that is a string', { logger: 'verbose' }, 'logger'],
      ['logger: true', { logger: true }, 'logger'],
      ['a clock without sleep', { clock: { now: () => 0 } }, 'clock'],
      ['a random that is a number', { random: 0.5 }, 'random'],
      ['an unknown defaults key', { defaults: { circuit: {} } }, 'defaults.circuit'],
      ['defaults that are not an object', { defaults: 'fast' }, 'defaults'],
      ['maxAttempts 0', { defaults: { retry: { maxAttempts: 0 } } }, 'maxAttempts'],
      ['maxAttempts 2.5', { defaults: { retry: { maxAttempts: 2.5 } } }, 'maxAttempts'],
      ['a negative initialDelay', { defaults: { retry: { initialDelay: -1 } } }, 'initialDelay'],
      ['a NaN maxDelay', { defaults: { retry: { maxDelay: Number.NaN } } }, 'maxDelay'],
      ['a multiplier below 1', { defaults: { retry: { multiplier: 0.5 } } }, 'multiplier'],
      ['an unknown jitter', { defaults: { retry: { jitter: 'some' } } }, 'jitter'],
      ['an empty retryOn', { defaults: { retry: { retryOn: [] } } }, 'retryOn'],
      ['an infinite maxElapsed', { defaults: { retry: { maxElapsed: Infinity } } }, 'maxElapsed'],
      ['an unknown retry key', { defaults: { retry: { attempts: 3 } } }, 'attempts'],
    ];

    it.each(invalid)('throws ConfigError naming the option for %s', (_what, options, option) => {
      useHarness();
      const error = configErrorOf(() => configure(options as EngineOptions));

      expect(error.option).toBe(option);
      expect(error.message).toContain(`'${option}'`);
      expect(error.code).toBe('STEADFAST_CONFIG');
    });

    it('throws for options that are not an object', () => {
      useHarness();
      // @ts-expect-error configure() takes an options object
      const error = configErrorOf(() => configure(5));

      expect(error.message).toContain('configure()');
    });

    it('throws the same way from the ResilienceEngine constructor', () => {
      const error = configErrorOf(
        () => new ResilienceEngine({ defaults: { retry: { maxAttempts: -1 } } }),
      );

      expect(error.option).toBe('maxAttempts');
    });

    it('rejects invalid defaults at configure() time, not at the next call', async () => {
      const h = useHarness();
      const service = flakyService({ jitter: 'none' });

      configErrorOf(() => configure({ defaults: { retry: { maxAttempts: 0 } } }));
      await rejectionOf(h.clock, service.fetch());

      expect(service.runs).toBe(3);
    });

    it('changes nothing when it throws, not even the settings given before the bad one', async () => {
      const h = useHarness();
      const service = flakyService({ maxAttempts: 2, jitter: 'none' });

      // @ts-expect-error a clock must have now() and sleep()
      configErrorOf(() => configure({ logger: false, clock: 'wall' }));
      await rejectionOf(h.clock, service.fetch());

      expect(h.logger.entries.map((entry) => entry.level)).toEqual(['warn', 'error']);
    });
  });

  describe('a second engine', () => {
    it('does not touch the default engine that decorators use', async () => {
      const h = useHarness();
      const other = new ResilienceEngine({
        logger: false,
        defaults: { retry: { maxAttempts: 7 } },
      });
      const listener = jest.fn();
      other.on('retry', listener);
      const service = flakyService({ jitter: 'none' });

      await rejectionOf(h.clock, service.fetch());

      expect(service.runs).toBe(3);
      expect(listener).not.toHaveBeenCalled();
      expect(h.logger.entries).toHaveLength(3);
    });
  });

  describe('a retryable method that is not idempotent', () => {
    it('runs its body never, however the engine is configured', async () => {
      const h = useHarness();
      configure({ defaults: { retry: { maxAttempts: 5 } } });
      let runs = 0;
      class Payments {
        @Retryable({ maxAttempts: 3 })
        async charge(): Promise<void> {
          runs++;
        }
      }

      await rejectionOf(h.clock, new Payments().charge());

      expect(runs).toBe(0);
      expect(h.clock.sleeps).toEqual([]);
    });
  });
});
