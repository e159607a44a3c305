import { Idempotent, Retryable, NotIdempotentError } from '../src';
import { useHarness, decoratorMode } from './support/harness';

describe(`smoke (${decoratorMode})`, () => {
  it('retries an idempotent method until it succeeds', async () => {
    const h = useHarness();
    let calls = 0;
    class Svc {
      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 100, jitter: 'none' })
      async get(x: number): Promise<number> {
        calls++;
        if (calls < 3) throw new Error('flaky');
        return x * 2;
      }
    }
    const p = new Svc().get(21);
    await h.clock.runAll();
    await expect(p).resolves.toBe(42);
    expect(h.clock.sleeps).toEqual([100, 200]);
    expect(h.logger.at('warn')).toHaveLength(2);
    expect(h.logger.at('warn')[0]?.message).toContain('Svc.get attempt 1/3');
  });

  it('refuses an unmarked retryable method', async () => {
    useHarness();
    let calls = 0;
    class Svc {
      @Retryable(3)
      async charge(): Promise<void> {
        calls++;
      }
    }
    await expect(new Svc().charge()).rejects.toBeInstanceOf(NotIdempotentError);
    expect(calls).toBe(0);
  });
});
