import { Bulkhead, ConfigError, defaultEngine, Idempotent, Retryable, Timeout } from '../../src';
import { decoratorMode, useHarness } from '../support/harness';
import { thrownBy } from '../decorators/helpers';

describe(`deadlines on an injected clock (${decoratorMode} decorators)`, () => {
  it('leaves no deadline pending once the calls that needed it have ended', async () => {
    const h = useHarness();
    class Quick {
      @Idempotent()
      @Retryable({ maxAttempts: 2 })
      @Timeout({ attempt: 3_600_000, total: 7_200_000 })
      async run(): Promise<string> {
        return 'done';
      }
    }
    const quick = new Quick();
    await expect(quick.run()).resolves.toBe('done');
    await expect(quick.run()).resolves.toBe('done');
    await h.clock.flush();

    expect(h.clock.pending).toBe(0);
    const before = h.clock.now();
    await h.clock.runAll();
    // runAll() has nothing to jump to: no stale hour-long deadline.
    expect(h.clock.now()).toBe(before);
  });

  it('still expires a deadline added after the queue went idle', async () => {
    const h = useHarness();
    let hangs = false;
    class Sometimes {
      @Timeout(100)
      async run(): Promise<string> {
        return hangs ? new Promise<string>(() => undefined) : 'quick';
      }
    }
    const service = new Sometimes();
    await expect(service.run()).resolves.toBe('quick');
    hangs = true;
    const hung = service.run().catch((error: unknown) => error);
    await h.clock.advance(100);
    expect(await hung).toMatchObject({ code: 'STEADFAST_TIMEOUT', kind: 'attempt' });
  });
});

describe(`bulkheads shared by name (${decoratorMode} decorators)`, () => {
  it('lets a declaration that gives only the name join a bulkhead configured elsewhere', async () => {
    useHarness();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    class Reports {
      @Bulkhead({ name: `reports-${decoratorMode}`, maxConcurrent: 1 })
      async daily(): Promise<string> {
        await gate;
        return 'daily';
      }
    }
    class Exports {
      @Bulkhead({ name: `reports-${decoratorMode}` })
      async csv(): Promise<string> {
        return 'csv';
      }
    }
    const running = new Reports().daily();
    await Promise.resolve();
    await expect(new Exports().csv()).rejects.toMatchObject({
      code: 'STEADFAST_BULKHEAD_FULL',
      bulkhead: `reports-${decoratorMode}`,
    });
    expect(defaultEngine.bulkhead(`reports-${decoratorMode}`)).toMatchObject({
      maxConcurrent: 1,
      running: 1,
      rejected: 1,
    });
    release();
    await expect(running).resolves.toBe('daily');
  });

  it('refuses, at the first call, a bulkhead that is only ever named', async () => {
    useHarness();
    let runs = 0;
    class Lonely {
      @Bulkhead({ name: `nobody-configures-${decoratorMode}` })
      async run(): Promise<string> {
        runs++;
        return 'ran';
      }
    }
    await expect(new Lonely().run()).rejects.toBeInstanceOf(ConfigError);
    expect(runs).toBe(0);
  });

  it('refuses one name with two different limits, at definition', () => {
    class First {
      @Bulkhead({ name: `limits-${decoratorMode}`, maxConcurrent: 2 })
      async run(): Promise<void> {}
    }
    expect(First).toBeDefined();
    const error = thrownBy(() => {
      class Second {
        @Bulkhead({ name: `limits-${decoratorMode}`, maxConcurrent: 3 })
        async run(): Promise<void> {}
      }
      return Second;
    });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ option: 'name' });
  });
});
