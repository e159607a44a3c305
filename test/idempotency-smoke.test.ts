import { Idempotent, IdempotencyConflictError, Retryable, UnstorableResultError } from '../src';
import { useHarness, decoratorMode } from './support/harness';

describe(`keyed idempotency smoke (${decoratorMode})`, () => {
  it('runs the body once per key and replays the result', async () => {
    useHarness();
    let runs = 0;
    class Payments {
      @Idempotent({ key: (req: { id: string; cents: number }) => req.id })
      @Retryable(3, 10, 100)
      async charge(req: { id: string; cents: number }): Promise<{ receipt: string }> {
        runs++;
        return { receipt: `r-${req.id}-${runs}` };
      }
    }
    const p = new Payments();
    const [a, b] = await Promise.all([
      p.charge({ id: 'x', cents: 5 }),
      p.charge({ cents: 5, id: 'x' }),
    ]);
    const c = await p.charge({ id: 'x', cents: 5 });
    expect(runs).toBe(1);
    expect(a).toEqual({ receipt: 'r-x-1' });
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    await expect(p.charge({ id: 'x', cents: 6 })).rejects.toBeInstanceOf(IdempotencyConflictError);
  });

  it('refuses a result JSON would change', async () => {
    useHarness();
    let runs = 0;
    class Clock {
      @Idempotent({ key: (k: string) => k })
      async stamp(_k: string): Promise<Date> {
        runs++;
        return new Date(0);
      }
    }
    const c = new Clock();
    await expect(c.stamp('a')).rejects.toBeInstanceOf(UnstorableResultError);
    await expect(c.stamp('a')).rejects.toBeInstanceOf(UnstorableResultError);
    expect(runs).toBe(1);
  });
});
