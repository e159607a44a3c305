import { Idempotent, Retryable } from '../../../src';
import { useHarness, decoratorMode } from '../../support/harness';
import { flakyService, rejectionOf, resultOf } from '../support/services';

class PaymentDeclined extends Error {
  override readonly name = 'PaymentDeclined';
  constructor(
    readonly attempt: number,
    readonly code = 'card_declined',
  ) {
    super(`declined on attempt ${attempt}`);
  }
}

describe(`@Retryable exhaustion (${decoratorMode})`, () => {
  it('rejects with the last attempt’s error object itself after exactly maxAttempts body runs', async () => {
    const h = useHarness();
    const service = flakyService({ maxAttempts: 4, jitter: 'none' });

    const error = await rejectionOf(h.clock, service.fetch());

    expect(service.runs).toBe(4);
    expect(service.errors).toHaveLength(4);
    expect(error).toBe(service.errors[3]);
    expect(error).not.toBe(service.errors[0]);
    expect(h.clock.sleeps).toEqual([100, 200, 400]);
    expect(h.clock.pending).toBe(0);
  });

  it('keeps the error’s class, so callers’ instanceof checks hold, and adds nothing to it', async () => {
    const h = useHarness();
    let runs = 0;
    class Payments {
      @Idempotent()
      @Retryable({ maxAttempts: 3 })
      async charge(): Promise<void> {
        runs++;
        throw new PaymentDeclined(runs);
      }
    }

    const error = await rejectionOf(h.clock, new Payments().charge());

    expect(error).toBeInstanceOf(PaymentDeclined);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      attempt: 3,
      code: 'card_declined',
      message: 'declined on attempt 3',
      name: 'PaymentDeclined',
    });
    expect(Object.keys(error as object).sort()).toEqual(['attempt', 'code', 'name']);
    expect((error as Error).cause).toBeUndefined();
    expect(runs).toBe(3);
  });

  it('rejects with a thrown non-error value unchanged', async () => {
    const h = useHarness();
    const thrown = { reason: 'quota', remaining: 0 };
    class Quota {
      @Idempotent()
      @Retryable({ maxAttempts: 2 })
      async take(): Promise<void> {
        throw thrown;
      }
    }

    expect(await rejectionOf(h.clock, new Quota().take())).toBe(thrown);
  });

  it('resolves when the last allowed attempt succeeds', async () => {
    const h = useHarness();
    const service = flakyService({ maxAttempts: 3 }, 2);

    expect(await resultOf(h.clock, service.fetch())).toBe('ok');
    expect(service.runs).toBe(3);
  });

  it('does not run the body again once an attempt succeeds', async () => {
    const h = useHarness();
    const service = flakyService({ maxAttempts: 5 }, 1);

    expect(await resultOf(h.clock, service.fetch())).toBe('ok');
    expect(service.runs).toBe(2);
    expect(h.clock.sleeps).toHaveLength(1);
  });

  it('never sleeps when the first attempt succeeds', async () => {
    const h = useHarness();
    const service = flakyService({ maxAttempts: 5 }, 0);

    expect(await resultOf(h.clock, service.fetch())).toBe('ok');
    expect(service.runs).toBe(1);
    expect(h.clock.sleeps).toEqual([]);
  });

  it('runs the body once and never sleeps with maxAttempts: 1', async () => {
    const h = useHarness();
    const service = flakyService({ maxAttempts: 1 });
    const startedAt = h.clock.now();

    const call = service.fetch();
    await h.clock.flush();
    expect(h.clock.pending).toBe(0);
    const error = await rejectionOf(h.clock, call);

    expect(error).toBe(service.errors[0]);
    expect(service.runs).toBe(1);
    expect(h.clock.sleeps).toEqual([]);
    expect(h.clock.now()).toBe(startedAt);
    expect(h.events('retry')).toEqual([]);
    expect(h.events('failure')).toEqual([
      {
        method: 'Flaky.fetch',
        attempts: 1,
        reason: 'exhausted',
        error,
        duration: expect.any(Number),
      },
    ]);
  });

  it('lets each call of the same method make its own maxAttempts', async () => {
    const h = useHarness();
    const service = flakyService({ maxAttempts: 3 });

    await rejectionOf(h.clock, service.fetch());
    await rejectionOf(h.clock, service.fetch());

    expect(service.runs).toBe(6);
  });

  it('runs calls in flight at the same time independently', async () => {
    const h = useHarness();
    const first = flakyService({ maxAttempts: 3, jitter: 'none' });
    const second = flakyService({ maxAttempts: 2, jitter: 'none' });

    const firstCall = first.fetch();
    const secondCall = second.fetch();
    const [firstError, secondError] = await Promise.all([
      rejectionOf(h.clock, firstCall),
      rejectionOf(h.clock, secondCall),
    ]);

    expect(first.runs).toBe(3);
    expect(second.runs).toBe(2);
    expect(firstError).toBe(first.errors[2]);
    expect(secondError).toBe(second.errors[1]);
  });
});
