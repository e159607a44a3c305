import {
  defaultEngine,
  Idempotent,
  Retryable,
  type FailureEvent,
  type RetryEvent,
  type SuccessEvent,
} from '../../src';
import { useHarness, decoratorMode } from '../support/harness';
import { flakyService, reasonOf, rejectionOf, resultOf } from './support/services';

describe(`engine events (${decoratorMode})`, () => {
  describe("'retry'", () => {
    it('is emitted once per retried failure with method, attempt, maxAttempts, delay and the error itself', async () => {
      const h = useHarness();
      const service = flakyService({ maxAttempts: 4, jitter: 'none' });

      await rejectionOf(h.clock, service.fetch());

      const events = h.events('retry');
      expect(events).toEqual<RetryEvent[]>([
        { method: 'Flaky.fetch', attempt: 1, maxAttempts: 4, delay: 100, error: service.errors[0] },
        { method: 'Flaky.fetch', attempt: 2, maxAttempts: 4, delay: 200, error: service.errors[1] },
        { method: 'Flaky.fetch', attempt: 3, maxAttempts: 4, delay: 400, error: service.errors[2] },
      ]);
      events.forEach((event, index) => expect(event.error).toBe(service.errors[index]));
    });

    it('is emitted before the sleep it announces', async () => {
      const h = useHarness();
      const pendingAtEvent: number[] = [];
      const off = defaultEngine.on('retry', () => pendingAtEvent.push(h.clock.pending));
      try {
        await rejectionOf(h.clock, flakyService({ maxAttempts: 3 }).fetch());
      } finally {
        off();
      }

      expect(pendingAtEvent).toEqual([0, 0]);
    });
  });

  describe("'success'", () => {
    it('is emitted with the number of attempts made, the successful one included', async () => {
      const h = useHarness();

      await resultOf(h.clock, flakyService({ maxAttempts: 5 }, 2).fetch());
      await resultOf(h.clock, flakyService({ maxAttempts: 5 }, 0).fetch());

      expect(h.events('success')).toEqual<SuccessEvent[]>([
        // the sleeps in between, on the FakeClock: full jitter with random() = 0.5 gives 50 ms, then 100 ms
        { method: 'Flaky.fetch', attempts: 3, duration: 150 },
        { method: 'Flaky.fetch', attempts: 1, duration: 0 },
      ]);
      expect(h.events('failure')).toEqual([]);
    });
  });

  describe('a method whose only decorator is @Idempotent()', () => {
    it("emits 'success' and 'failure' for its calls like any other, one attempt each, timed on the engine's clock", async () => {
      const h = useHarness();
      const down = new Error('down');
      class Ledger {
        @Idempotent()
        async read(fail: boolean, after = 0): Promise<string> {
          if (after > 0) await h.clock.sleep(after);
          if (fail) throw down;
          return 'ok';
        }
      }
      const ledger = new Ledger();
      const slow = ledger.read(false, 40);
      await h.clock.advance(40);
      await expect(slow).resolves.toBe('ok');
      await expect(ledger.read(true)).rejects.toBe(down);

      expect(h.events('success')).toEqual<SuccessEvent[]>([
        { method: 'Ledger.read', attempts: 1, duration: 40 },
      ]);
      expect(h.events('failure')).toEqual<FailureEvent[]>([
        { method: 'Ledger.read', attempts: 1, reason: 'exhausted', error: down, duration: 0 },
      ]);
    });
  });

  describe("'failure'", () => {
    it("gives reason 'exhausted' with the last error when every attempt failed", async () => {
      const h = useHarness();
      const service = flakyService({ maxAttempts: 3 });

      const error = await rejectionOf(h.clock, service.fetch());

      expect(h.events('failure')).toEqual<FailureEvent[]>([
        { method: 'Flaky.fetch', attempts: 3, reason: 'exhausted', error, duration: 150 },
      ]);
      expect(h.events('failure')[0]?.error).toBe(service.errors[2]);
      expect(h.events('success')).toEqual([]);
    });

    it("gives reason 'not-retryable' when retryOn refuses the error", async () => {
      const h = useHarness();
      const service = flakyService({ maxAttempts: 3, retryOn: (_error, attempt) => attempt < 2 });

      const error = await rejectionOf(h.clock, service.fetch());

      expect(h.events('failure')).toEqual<FailureEvent[]>([
        { method: 'Flaky.fetch', attempts: 2, reason: 'not-retryable', error, duration: 50 },
      ]);
    });

    it("gives reason 'aborted' with the signal's reason when the call is aborted", async () => {
      const h = useHarness();
      const controller = new AbortController();
      let runs = 0;
      class Sync {
        @Idempotent()
        @Retryable({ maxAttempts: 3 })
        async pull(_signal: AbortSignal): Promise<void> {
          runs++;
          throw new Error('offline');
        }
      }
      const failure = reasonOf(new Sync().pull(controller.signal));
      await h.clock.flush();
      const reason = new Error('cancelled by user');
      controller.abort(reason);

      expect(await failure).toBe(reason);
      expect(runs).toBe(1);
      expect(h.events('failure')).toEqual<FailureEvent[]>([
        { method: 'Sync.pull', attempts: 1, reason: 'aborted', error: reason, duration: 0 },
      ]);
    });

    it("gives reason 'budget' when maxElapsed stops the retries", async () => {
      const h = useHarness();
      const service = flakyService({
        maxAttempts: 5,
        initialDelay: 100,
        jitter: 'none',
        maxElapsed: 150,
      });

      const error = await rejectionOf(h.clock, service.fetch());

      expect(h.events('failure')).toEqual<FailureEvent[]>([
        { method: 'Flaky.fetch', attempts: 2, reason: 'budget', error, duration: 100 },
      ]);
    });
  });

  describe('subscriptions', () => {
    it('engine.on returns a function that unsubscribes the listener', async () => {
      const h = useHarness();
      const listener = jest.fn();
      const off = defaultEngine.on('retry', listener);

      await rejectionOf(h.clock, flakyService({ maxAttempts: 3 }).fetch());
      expect(listener).toHaveBeenCalledTimes(2);
      off();
      await rejectionOf(h.clock, flakyService({ maxAttempts: 3 }).fetch());

      expect(listener).toHaveBeenCalledTimes(2);
      expect(h.events('retry')).toHaveLength(4);
    });

    it('engine.off unsubscribes a listener as well', async () => {
      const h = useHarness();
      const listener = jest.fn();
      defaultEngine.on('success', listener);
      defaultEngine.off('success', listener);

      await resultOf(h.clock, flakyService({ maxAttempts: 3 }, 1).fetch());

      expect(listener).not.toHaveBeenCalled();
      expect(h.events('success')).toHaveLength(1);
    });

    it('unsubscribing removes only that listener, and unsubscribing twice is harmless', async () => {
      const h = useHarness();
      const kept = jest.fn();
      const removed = jest.fn();
      defaultEngine.on('failure', kept);
      const off = defaultEngine.on('failure', removed);
      off();
      off();

      try {
        await rejectionOf(h.clock, flakyService({ maxAttempts: 1 }).fetch());
      } finally {
        defaultEngine.off('failure', kept);
      }

      expect(kept).toHaveBeenCalledTimes(1);
      expect(removed).not.toHaveBeenCalled();
    });

    it('a listener that throws never breaks the call, and the other listeners still hear the event', async () => {
      const h = useHarness();
      const boom = (): never => {
        throw new Error('listener bug');
      };
      const offs = [
        defaultEngine.on('retry', boom),
        defaultEngine.on('success', boom),
        defaultEngine.on('failure', boom),
      ];
      const after = jest.fn();
      offs.push(defaultEngine.on('retry', after));
      try {
        const recovering = flakyService({ maxAttempts: 3 }, 1);
        expect(await resultOf(h.clock, recovering.fetch())).toBe('ok');
        expect(recovering.runs).toBe(2);

        const failing = flakyService({ maxAttempts: 2 });
        expect(await rejectionOf(h.clock, failing.fetch())).toBe(failing.errors[1]);
        expect(failing.runs).toBe(2);
      } finally {
        offs.forEach((off) => off());
      }

      expect(after).toHaveBeenCalledTimes(2);
      expect(h.events('success')).toHaveLength(1);
      expect(h.events('failure')).toHaveLength(1);
    });
  });
});
