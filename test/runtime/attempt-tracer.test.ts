import { AsyncLocalStorage } from 'node:async_hooks';
import {
  Bulkhead,
  CircuitBreaker,
  ConfigError,
  defaultEngine,
  Idempotent,
  Retryable,
  Timeout,
} from '../../src';
import { decoratorMode, useHarness } from '../support/harness';
import { resultOf } from './support/services';

/** A tracer that records what it is told and runs each body in a context of its own, as a span's. */
function recordingTracer() {
  const context = new AsyncLocalStorage<string>();
  const told: string[] = [];
  let next = 0;
  const tracer = {
    start: (method: string, attempt: number) => {
      const id = `${method}#${attempt}/${++next}`;
      told.push(`start ${id}`);
      return id;
    },
    run: <T>(started: unknown, body: () => T): T => context.run(started as string, body),
    end: (started: unknown, failed: boolean, outcome: unknown) => {
      told.push(
        `end ${String(started)} ${failed ? `failed: ${(outcome as Error).message}` : `ok: ${String(outcome)}`}`,
      );
    },
  };
  return { tracer, told, current: () => context.getStore() };
}

describe(`engine.traceAttempts() (${decoratorMode} decorators)`, () => {
  it('is told of every attempt, runs each body in its context, before and after an await', async () => {
    const h = useHarness();
    const { tracer, told, current } = recordingTracer();
    const remove = defaultEngine.traceAttempts(tracer);
    try {
      const seen: (string | undefined)[] = [];
      class Catalog {
        runs = 0;
        @Idempotent()
        @Retryable({ maxAttempts: 3, initialDelay: 10, maxDelay: 10, jitter: 'none' })
        @CircuitBreaker({ consecutiveFailures: 5 })
        @Bulkhead(2)
        async item(): Promise<string> {
          seen.push(current());
          await Promise.resolve();
          seen.push(current());
          if (++this.runs < 3) throw new Error(`attempt ${this.runs} failed`);
          return 'kettle';
        }
      }

      await expect(resultOf(h.clock, new Catalog().item())).resolves.toBe('kettle');
      expect(told).toEqual([
        'start Catalog.item#1/1',
        'end Catalog.item#1/1 failed: attempt 1 failed',
        'start Catalog.item#2/2',
        'end Catalog.item#2/2 failed: attempt 2 failed',
        'start Catalog.item#3/3',
        'end Catalog.item#3/3 ok: kettle',
      ]);
      expect(seen).toEqual([
        'Catalog.item#1/1',
        'Catalog.item#1/1',
        'Catalog.item#2/2',
        'Catalog.item#2/2',
        'Catalog.item#3/3',
        'Catalog.item#3/3',
      ]);
    } finally {
      remove();
    }
  });

  it('tells of an attempt cut at its deadline when the deadline passes, and of nothing once removed', async () => {
    const h = useHarness();
    const { tracer, told } = recordingTracer();
    const remove = defaultEngine.traceAttempts(tracer);
    class Hung {
      @Timeout(100)
      async wait(): Promise<string> {
        return new Promise<string>(() => undefined);
      }
      @Idempotent()
      async quick(): Promise<string> {
        return 'quick';
      }
    }
    const hung = new Hung();
    const call = hung.wait().catch((error: unknown) => error);
    await h.clock.advance(100);
    await call;
    expect(told).toEqual([
      'start Hung.wait#1/1',
      'end Hung.wait#1/1 failed: Hung.wait: the attempt timed out after 100 ms',
    ]);

    remove();
    await hung.quick();
    expect(told).toHaveLength(2);
  });

  it('takes one tracer at a time, and refuses one without start, run and end', () => {
    const { tracer } = recordingTracer();
    const remove = defaultEngine.traceAttempts(tracer);
    try {
      expect(() => defaultEngine.traceAttempts(recordingTracer().tracer)).toThrow(ConfigError);
    } finally {
      remove();
    }
    expect(() => defaultEngine.traceAttempts({ start: () => 1 } as never)).toThrow(ConfigError);
  });
});
