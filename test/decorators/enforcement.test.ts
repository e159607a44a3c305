import { Idempotent, NotIdempotentError, Retryable, SteadfastError } from '../../src';
import { decoratorMode, useHarness } from '../support/harness';
import { settle } from './helpers';

class Flaky extends Error {}

describe(`@Retryable requires @Idempotent (${decoratorMode} decorators)`, () => {
  describe('a @Retryable method without @Idempotent', () => {
    it('never runs its body and rejects with NotIdempotentError naming Class.method', async () => {
      useHarness();
      let runs = 0;
      class Payments {
        @Retryable({ maxAttempts: 5, jitter: 'none' })
        async charge(_amount: number): Promise<string> {
          runs++;
          return 'charged';
        }
      }

      const error = (await settle(new Payments().charge(10))).error;

      expect(error).toBeInstanceOf(NotIdempotentError);
      expect(error).toBeInstanceOf(SteadfastError);
      expect(error).toBeInstanceOf(Error);
      expect((error as NotIdempotentError).code).toBe('STEADFAST_NOT_IDEMPOTENT');
      expect((error as NotIdempotentError).method).toBe('Payments.charge');
      expect((error as NotIdempotentError).message).toContain('Payments.charge');
      expect(runs).toBe(0);
    });

    it('rejects every call, not only the first, and never sleeps', async () => {
      const h = useHarness();
      let runs = 0;
      class Payments {
        @Retryable(3)
        async charge(): Promise<void> {
          runs++;
        }
      }
      const payments = new Payments();

      for (let call = 0; call < 3; call++) {
        await expect(payments.charge()).rejects.toBeInstanceOf(NotIdempotentError);
      }
      await expect(new Payments().charge()).rejects.toBeInstanceOf(NotIdempotentError);

      expect(runs).toBe(0);
      expect(h.clock.sleeps).toEqual([]);
    });

    it('is refused with the method body not run even when the body would throw synchronously', async () => {
      useHarness();
      let runs = 0;
      class Payments {
        @Retryable()
        charge(): Promise<void> {
          runs++;
          throw new Flaky('boom');
        }
      }

      await expect(new Payments().charge()).rejects.toBeInstanceOf(NotIdempotentError);
      expect(runs).toBe(0);
    });

    it('logs the refusal at error level', async () => {
      const h = useHarness();
      class Payments {
        @Retryable()
        async charge(): Promise<void> {}
      }

      await expect(new Payments().charge()).rejects.toBeInstanceOf(NotIdempotentError);
      expect(h.logger.at('error').map((entry) => entry.message)).toEqual([
        expect.stringContaining('Payments.charge'),
      ]);
    });

    it('is refused for a static method too, naming Class.method', async () => {
      useHarness();
      let runs = 0;
      class Payments {
        @Retryable(3)
        static async refundAll(): Promise<void> {
          runs++;
        }
      }

      const error = (await settle(Payments.refundAll())).error;

      expect(error).toBeInstanceOf(NotIdempotentError);
      expect((error as NotIdempotentError).message).toContain('Payments.refundAll');
      expect(runs).toBe(0);
    });
  });

  describe('with @Idempotent', () => {
    it('retries when @Idempotent is written above @Retryable', async () => {
      const h = useHarness();
      let runs = 0;
      class Catalog {
        @Idempotent()
        @Retryable({ maxAttempts: 3, initialDelay: 100, jitter: 'none' })
        async find(id: string): Promise<string> {
          runs++;
          if (runs < 3) throw new Flaky('flaky');
          return `item ${id}`;
        }
      }

      const outcome = settle(new Catalog().find('a'));
      await h.clock.runAll();

      expect(await outcome).toEqual({ value: 'item a', rejected: false });
      expect(runs).toBe(3);
    });

    it('retries when @Idempotent is written below @Retryable', async () => {
      const h = useHarness();
      let runs = 0;
      class Catalog {
        @Retryable({ maxAttempts: 3, initialDelay: 100, jitter: 'none' })
        @Idempotent()
        async find(id: string): Promise<string> {
          runs++;
          if (runs < 3) throw new Flaky('flaky');
          return `item ${id}`;
        }
      }

      const outcome = settle(new Catalog().find('a'));
      await h.clock.runAll();

      expect(await outcome).toEqual({ value: 'item a', rejected: false });
      expect(runs).toBe(3);
    });

    it('retries a marked static method, in both orders', async () => {
      const h = useHarness();
      let runs = 0;
      class Catalog {
        @Idempotent()
        @Retryable({ maxAttempts: 2, jitter: 'none' })
        static async above(): Promise<string> {
          runs++;
          if (runs % 2 === 1) throw new Flaky('flaky');
          return 'ok';
        }

        @Retryable({ maxAttempts: 2, jitter: 'none' })
        @Idempotent()
        static async below(): Promise<string> {
          runs++;
          if (runs % 2 === 1) throw new Flaky('flaky');
          return 'ok';
        }
      }

      const first = settle(Catalog.above());
      await h.clock.runAll();
      const second = settle(Catalog.below());
      await h.clock.runAll();

      expect(await first).toEqual({ value: 'ok', rejected: false });
      expect(await second).toEqual({ value: 'ok', rejected: false });
      expect(runs).toBe(4);
    });

    it('marks only the method it decorates, not its neighbours in the class', async () => {
      useHarness();
      let chargeRuns = 0;
      class Payments {
        @Idempotent()
        @Retryable()
        async status(): Promise<string> {
          return 'ok';
        }

        @Retryable()
        async charge(): Promise<void> {
          chargeRuns++;
        }
      }
      const payments = new Payments();

      await expect(payments.status()).resolves.toBe('ok');
      await expect(payments.charge()).rejects.toBeInstanceOf(NotIdempotentError);
      expect(chargeRuns).toBe(0);
    });
  });

  describe('in a subclass', () => {
    function marked() {
      const runs = { parent: 0 };
      class Gateway {
        @Idempotent()
        @Retryable({ maxAttempts: 3, jitter: 'none' })
        async fetch(id: string): Promise<string> {
          runs.parent++;
          if (runs.parent < 3) throw new Flaky('flaky');
          return `parent ${id}`;
        }
      }
      return { Gateway, runs };
    }

    it('refuses an override decorated @Retryable but not @Idempotent, though the parent method is marked', async () => {
      useHarness();
      const { Gateway, runs } = marked();
      let childRuns = 0;
      class CachedGateway extends Gateway {
        @Retryable()
        override async fetch(id: string): Promise<string> {
          childRuns++;
          return `child ${id}`;
        }
      }

      const error = (await settle(new CachedGateway().fetch('a'))).error;

      expect(error).toBeInstanceOf(NotIdempotentError);
      expect((error as NotIdempotentError).message).toContain('CachedGateway.fetch');
      expect(childRuns).toBe(0);
      expect(runs.parent).toBe(0);
    });

    it('refuses such an override even when it only calls super', async () => {
      useHarness();
      const { Gateway, runs } = marked();
      class DelegatingGateway extends Gateway {
        @Retryable()
        override async fetch(id: string): Promise<string> {
          return super.fetch(id);
        }
      }

      await expect(new DelegatingGateway().fetch('a')).rejects.toBeInstanceOf(NotIdempotentError);
      expect(runs.parent).toBe(0);
    });

    it('runs an undecorated override plainly, once, with no retry', async () => {
      const h = useHarness();
      const { Gateway } = marked();
      let childRuns = 0;
      class PlainGateway extends Gateway {
        override async fetch(_id: string): Promise<string> {
          childRuns++;
          throw new Flaky('child fails');
        }
      }

      const outcome = settle(new PlainGateway().fetch('a'));
      await h.clock.runAll();

      expect((await outcome).error).toBeInstanceOf(Flaky);
      expect(childRuns).toBe(1);
      expect(h.clock.sleeps).toEqual([]);
    });

    it('inherits the parent marked behaviour when it does not override', async () => {
      const h = useHarness();
      const { Gateway, runs } = marked();
      class RegionalGateway extends Gateway {}

      const outcome = settle(new RegionalGateway().fetch('a'));
      await h.clock.runAll();

      expect(await outcome).toEqual({ value: 'parent a', rejected: false });
      expect(runs.parent).toBe(3);
    });

    it('does not mark an unmarked parent method when an override is marked and calls super', async () => {
      useHarness();
      let parentRuns = 0;
      class Ledger {
        @Retryable()
        async post(): Promise<void> {
          parentRuns++;
        }
      }
      class AuditedLedger extends Ledger {
        @Idempotent()
        override async post(): Promise<void> {
          return super.post();
        }
      }

      await expect(new AuditedLedger().post()).rejects.toBeInstanceOf(NotIdempotentError);
      expect(parentRuns).toBe(0);
    });

    it('refuses a static override decorated @Retryable but not @Idempotent', async () => {
      useHarness();
      let runs = 0;
      class Jobs {
        @Idempotent()
        @Retryable()
        static async sync(): Promise<void> {
          runs++;
        }
      }
      class NightlyJobs extends Jobs {
        @Retryable()
        static override async sync(): Promise<void> {
          runs++;
        }
      }

      await expect(NightlyJobs.sync()).rejects.toBeInstanceOf(NotIdempotentError);
      await expect(Jobs.sync()).resolves.toBeUndefined();
      expect(runs).toBe(1);
    });
  });
});
