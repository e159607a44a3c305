import { CircuitBreaker, CircuitOpenError, defaultEngine, Idempotent, Retryable } from '../src';
import { useHarness, decoratorMode } from './support/harness';

describe(`breaker smoke (${decoratorMode})`, () => {
  it('opens, rejects fast, half-opens after openDuration and closes on a good trial', async () => {
    const h = useHarness();
    let fail = true;
    let runs = 0;
    class Downstream {
      @CircuitBreaker({ name: 'smoke-downstream', consecutiveFailures: 2, openDuration: 1_000 })
      async call(): Promise<string> {
        runs++;
        if (fail) throw new Error('down');
        return 'ok';
      }
    }
    const d = new Downstream();
    await expect(d.call()).rejects.toThrow('down');
    await expect(d.call()).rejects.toThrow('down');
    const breaker = defaultEngine.breaker('smoke-downstream');
    expect(breaker.state).toBe('open');
    const refusal = await d.call().catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(CircuitOpenError);
    expect((refusal as CircuitOpenError).retryAfter).toBe(1_000);
    expect(runs).toBe(2);
    await h.clock.advance(1_000);
    fail = false;
    await expect(d.call()).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(h.events('stateChange').map((e) => `${e.from}->${e.to}`)).toEqual([
      'closed->open',
      'open->half-open',
      'half-open->closed',
    ]);
  });

  it('ends the retry loop at once when the breaker opens', async () => {
    const h = useHarness();
    let runs = 0;
    class Svc {
      @Retryable({ maxAttempts: 5, initialDelay: 10, jitter: 'none' })
      @CircuitBreaker({ consecutiveFailures: 2, openDuration: 10_000 })
      @Idempotent()
      async get(): Promise<string> {
        runs++;
        throw new Error('down');
      }
    }
    const outcome = new Svc().get().catch((e: unknown) => e);
    await h.clock.runAll();
    expect(await outcome).toBeInstanceOf(CircuitOpenError);
    expect(runs).toBe(2);
  });
});
