import { ConfigError, Idempotent, Retryable } from '../../../src';
import { decoratorMode, useHarness } from '../../support/harness';
import { reasonOf, resultOf } from '../support/services';

describe(`how a retried call finds its AbortSignal (${decoratorMode})`, () => {
  it('rejects the call, before the body runs, when the signal option picks something that is not a signal', async () => {
    useHarness();
    let runs = 0;
    class Picky {
      @Idempotent()
      @Retryable({ signal: () => 'not a signal' as never })
      async run(): Promise<string> {
        runs++;
        return 'ran';
      }
    }

    const error = await reasonOf(new Picky().run());
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ option: 'signal', method: 'Picky.run' });
    expect(runs).toBe(0);
  });

  it('ignores a signal that an argument only inherits from a polluted Object.prototype', async () => {
    const h = useHarness();
    const aborted = AbortSignal.abort(new Error('not the caller’s'));
    (Object.prototype as { signal?: unknown }).signal = aborted;
    try {
      let runs = 0;
      class Reader {
        @Idempotent()
        @Retryable({ maxAttempts: 2, initialDelay: 10, maxDelay: 10, jitter: 'none' })
        async read(_options: { id: string }): Promise<string> {
          if (++runs === 1) throw new Error('transient');
          return 'read';
        }
      }
      // An aborted signal found on the argument would end the call before the second attempt.
      await expect(resultOf(h.clock, new Reader().read({ id: 'r-1' }))).resolves.toBe('read');
      expect(runs).toBe(2);
    } finally {
      delete (Object.prototype as { signal?: unknown }).signal;
    }
  });

  it('still honours a signal that the argument’s own class declares (the control)', async () => {
    const h = useHarness();
    const controller = new AbortController();
    class Options {
      get signal(): AbortSignal {
        return controller.signal;
      }
    }
    let runs = 0;
    class Reader {
      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 10, maxDelay: 10, jitter: 'none' })
      async read(_options: Options): Promise<string> {
        runs++;
        controller.abort(new Error('caller gave up'));
        throw new Error('transient');
      }
    }
    await expect(resultOf(h.clock, new Reader().read(new Options()))).rejects.toThrow(
      'caller gave up',
    );
    expect(runs).toBe(1);
  });
});
