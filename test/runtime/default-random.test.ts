import { configure, Idempotent, Retryable } from '../../src';
import { FakeClock, RecordingLogger } from '../../src/testing';
import { decoratorMode } from '../support/harness';

// This file never configures `random`: jest gives each file a fresh defaultEngine, so the engine's
// own default source is what runs here.
describe(`the default random source (${decoratorMode})`, () => {
  it('follows a spy on Math.random installed after the engine was created', async () => {
    const clock = new FakeClock();
    configure({ clock, logger: new RecordingLogger() });
    const spy = jest.spyOn(Math, 'random').mockReturnValue(0.25);
    try {
      let runs = 0;
      class Feed {
        @Idempotent()
        @Retryable({ maxAttempts: 3, initialDelay: 400, jitter: 'full' })
        async read(): Promise<string> {
          if (++runs < 3) throw new Error('not yet');
          return 'ok';
        }
      }
      const result = new Feed().read();
      await clock.runAll();
      await expect(result).resolves.toBe('ok');
      // full jitter: uniform in [0, d] → 0.25 · 400, then 0.25 · 800
      expect(clock.sleeps).toEqual([100, 200]);
    } finally {
      spy.mockRestore();
    }
  });
});
