import {
  CircuitBreaker,
  CircuitOpenError,
  configure,
  defaultEngine,
  Idempotent,
  Retryable,
  systemClock,
} from '../../src';
import { decoratorMode, useHarness } from '../support/harness';

// Users' own tests often fake time with jest rather than FakeClock: the system clock must follow it.
describe(`the system clock under jest's fake timers (${decoratorMode})`, () => {
  beforeEach(() => {
    useHarness();
    configure({ clock: systemClock });
    jest.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('retries after the faked delays', async () => {
    let runs = 0;
    class Feed {
      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 1_000, jitter: 'none' })
      async read(): Promise<string> {
        runs++;
        if (runs < 3) throw new Error('not yet');
        return 'items';
      }
    }
    const result = new Feed().read();
    await jest.advanceTimersByTimeAsync(999);
    expect(runs).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(runs).toBe(2);
    await jest.advanceTimersByTimeAsync(2_000);
    await expect(result).resolves.toBe('items');
  });

  it('reads the faked time for a breaker’s openDuration', async () => {
    const name = `fake-timers-${decoratorMode}`;
    class Api {
      @CircuitBreaker({ name, consecutiveFailures: 1, openDuration: 60_000 })
      async call(): Promise<void> {
        throw new Error('down');
      }
    }
    const api = new Api();
    await api.call().catch(() => undefined);
    const refusal = await api.call().catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(CircuitOpenError);
    expect((refusal as CircuitOpenError).retryAfter).toBe(60_000);
    jest.setSystemTime(Date.now() + 60_000);
    expect(defaultEngine.breaker(name).state).toBe('half-open');
  });
});
