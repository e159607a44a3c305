import { CircuitBreaker, CircuitOpenError, type CircuitBreakerOptions } from '../../src';
import { decoratorMode, useHarness, type Harness } from '../support/harness';
import {
  breakerNamed,
  DownstreamError,
  refusalOf,
  rejectionOf,
  settle,
  uniqueCircuit,
} from './support';

type Work = () => Promise<string>;
const succeed: Work = async () => 'ok';
const failWith =
  (error: Error = new DownstreamError('down')): Work =>
  async () => {
    throw error;
  };

/** A class whose one method runs whatever work the caller hands it, behind the given breaker. */
function guardedService(options: CircuitBreakerOptions) {
  let runs = 0;
  class Inventory {
    @CircuitBreaker(options)
    async reserve(work: Work): Promise<string> {
      runs++;
      return work();
    }
  }
  return { service: new Inventory(), runs: () => runs };
}

/** Calls in sequence, each to its end, ignoring how they end (the breaker's view is what is checked). */
async function callInTurn(
  service: { reserve(work: Work): Promise<string> },
  ...works: Work[]
): Promise<void> {
  for (const work of works) await settle(service.reserve(work));
}

describe(`@CircuitBreaker opening (${decoratorMode} decorators)`, () => {
  describe('by consecutiveFailures', () => {
    it('opens on the Nth failure in a row, and a success in between starts the count again', async () => {
      const h = useHarness();
      const name = uniqueCircuit('consecutive');
      const { service, runs } = guardedService({ name, consecutiveFailures: 3 });
      const fail = failWith();

      await callInTurn(service, fail, fail, succeed, fail, fail);
      expect(breakerNamed(name).state).toBe('closed');
      expect(breakerNamed(name).metrics().consecutiveFailures).toBe(2);

      await callInTurn(service, fail);
      expect(breakerNamed(name).state).toBe('open');
      expect(h.events('stateChange')).toEqual([
        {
          circuit: name,
          from: 'closed',
          to: 'open',
          reason: expect.stringContaining('3 consecutive failures'),
        },
      ]);

      await refusalOf(service.reserve(succeed));
      expect(runs()).toBe(6);
    });

    it('passes each failure to the caller unchanged until it opens', async () => {
      useHarness();
      const name = uniqueCircuit('consecutive-identity');
      const { service } = guardedService({ name, consecutiveFailures: 2 });
      const first = new DownstreamError('first');
      const second = new DownstreamError('second');

      expect(await rejectionOf(service.reserve(failWith(first)))).toBe(first);
      expect(await rejectionOf(service.reserve(failWith(second)))).toBe(second);
      expect(await rejectionOf(service.reserve(succeed))).toBeInstanceOf(CircuitOpenError);
    });
  });

  describe('by failureRate over a count window', () => {
    it('does not open before minimumCalls calls, however many of them fail', async () => {
      const h = useHarness();
      const name = uniqueCircuit('rate-minimum');
      const { service } = guardedService({
        name,
        failureRate: { threshold: 0.5, window: { type: 'count', size: 4 }, minimumCalls: 4 },
      });
      const fail = failWith();

      await callInTurn(service, fail, fail, fail);
      expect(breakerNamed(name).metrics()).toMatchObject({
        state: 'closed',
        calls: 3,
        failures: 3,
        failureRate: 1,
      });

      await callInTurn(service, succeed);
      expect(breakerNamed(name).state).toBe('open');
      expect(h.events('stateChange')[0]?.reason).toMatch(/failure rate 75%.*4 calls/);
    });

    it('opens when the rate over the last `size` calls reaches the threshold, the oldest calls sliding out', async () => {
      const h = useHarness();
      const name = uniqueCircuit('rate-sliding');
      const { service } = guardedService({
        name,
        failureRate: { threshold: 0.5, window: { type: 'count', size: 4 }, minimumCalls: 4 },
      });
      const fail = failWith();

      await callInTurn(service, succeed, succeed, succeed, fail);
      expect(breakerNamed(name).metrics()).toMatchObject({
        state: 'closed',
        calls: 4,
        failures: 1,
        failureRate: 0.25,
      });

      // The window now holds [succeed, succeed, fail, fail]: the first success fell out.
      await callInTurn(service, fail);
      expect(breakerNamed(name).state).toBe('open');
      expect(h.events('stateChange')[0]?.reason).toMatch(/failure rate 50%.*4 calls/);
    });

    it('does not also open on the default consecutiveFailures when failureRate is the criterion', async () => {
      useHarness();
      const name = uniqueCircuit('rate-only');
      const { service, runs } = guardedService({
        name,
        failureRate: { threshold: 0.5, window: { type: 'count', size: 20 }, minimumCalls: 20 },
      });
      const fail = failWith();

      await callInTurn(service, fail, fail, fail, fail, fail, fail, fail);
      expect(breakerNamed(name).metrics()).toMatchObject({
        state: 'closed',
        calls: 7,
        failures: 7,
        consecutiveFailures: 7,
      });
      await callInTurn(service, succeed);
      expect(runs()).toBe(8);
    });
  });

  describe('by failureRate over a time window', () => {
    const timeWindow = (name: string): CircuitBreakerOptions => ({
      name,
      failureRate: { threshold: 0.5, window: { type: 'time', size: 10_000 }, minimumCalls: 4 },
    });

    it('counts failures that are still inside the window', async () => {
      const h = useHarness();
      const name = uniqueCircuit('time-inside');
      const { service } = guardedService(timeWindow(name));
      const fail = failWith();

      await callInTurn(service, fail, fail, fail);
      await h.clock.advance(5_000);
      expect(breakerNamed(name).metrics()).toMatchObject({
        calls: 3,
        failures: 3,
        state: 'closed',
      });

      await callInTurn(service, succeed);
      expect(breakerNamed(name).state).toBe('open');
    });

    it('forgets failures once the clock has moved a whole window past them', async () => {
      const h = useHarness();
      const name = uniqueCircuit('time-expired');
      const { service } = guardedService(timeWindow(name));
      const fail = failWith();

      await callInTurn(service, fail, fail, fail);
      await h.clock.advance(10_000);
      expect(breakerNamed(name).metrics()).toMatchObject({ calls: 0, failures: 0, failureRate: 0 });

      await callInTurn(service, succeed, succeed, succeed, fail);
      expect(breakerNamed(name).metrics()).toMatchObject({
        state: 'closed',
        calls: 4,
        failures: 1,
        failureRate: 0.25,
      });
      expect(h.events('stateChange')).toEqual([]);
    });

    it('drops the oldest bucket of calls as the window slides, keeping the newer ones', async () => {
      const h = useHarness();
      const name = uniqueCircuit('time-sliding');
      const { service } = guardedService({
        name,
        failureRate: { threshold: 0.75, window: { type: 'time', size: 10_000 }, minimumCalls: 4 },
      });
      const fail = failWith();

      await callInTurn(service, fail, fail);
      await h.clock.advance(6_000);
      await callInTurn(service, succeed);
      expect(breakerNamed(name).metrics()).toMatchObject({ calls: 3, failures: 2 });

      // 10 s after the first two failures they are gone; the success (4 s old) remains.
      await h.clock.advance(4_000);
      expect(breakerNamed(name).metrics()).toMatchObject({ calls: 1, failures: 0 });
      // Had they stayed, this would be 3 failures in 4 calls (75%) and the breaker would open.
      await callInTurn(service, fail);
      expect(breakerNamed(name).metrics()).toMatchObject({
        state: 'closed',
        calls: 2,
        failures: 1,
      });
    });
  });

  describe('by slowCall', () => {
    function slowService(h: Harness, name: string) {
      let runs = 0;
      class Reports {
        @CircuitBreaker({
          name,
          failureRate: { threshold: 1, window: { type: 'count', size: 4 }, minimumCalls: 4 },
          slowCall: { duration: 100, rateThreshold: 0.5 },
        })
        async render(ms: number, fails = false): Promise<string> {
          runs++;
          await h.clock.sleep(ms);
          if (fails) throw new DownstreamError(`failed after ${ms} ms`);
          return `rendered in ${ms} ms`;
        }
      }
      return { reports: new Reports(), runs: () => runs };
    }

    /** Runs one call that takes `ms` on the fake clock. */
    async function takes(h: Harness, call: Promise<string>, ms: number) {
      const outcome = settle(call);
      await h.clock.advance(ms);
      return outcome;
    }

    it('opens when slow calls reach the rate, though every call succeeded', async () => {
      const h = useHarness();
      const name = uniqueCircuit('slow');
      const svc = slowService(h, name);

      expect(await takes(h, svc.reports.render(150), 150)).toEqual({
        ok: true,
        value: 'rendered in 150 ms',
      });
      await takes(h, svc.reports.render(100), 100); // exactly the duration: not slow
      await takes(h, svc.reports.render(50), 50);
      expect(breakerNamed(name).metrics()).toMatchObject({
        state: 'closed',
        calls: 3,
        slowCalls: 1,
        failures: 0,
      });

      await takes(h, svc.reports.render(101), 101);
      expect(breakerNamed(name).state).toBe('open');
      expect(h.events('stateChange')).toEqual([
        {
          circuit: name,
          from: 'closed',
          to: 'open',
          reason: expect.stringMatching(/slow-call rate 50%.*4 calls/),
        },
      ]);
      await refusalOf(svc.reports.render(0));
      expect(svc.runs()).toBe(4);
    });

    it('counts a slow failure as slow as well as failed', async () => {
      const h = useHarness();
      const name = uniqueCircuit('slow-failure');
      const svc = slowService(h, name);

      await takes(h, svc.reports.render(200, true), 200);
      expect(breakerNamed(name).metrics()).toMatchObject({ calls: 1, failures: 1, slowCalls: 1 });
    });
  });

  describe('by what counts as a failure', () => {
    class TimeoutError extends Error {}
    class ValidationError extends Error {}

    it.each<[string, CircuitBreakerOptions['recordOn']]>([
      ['error classes', [TimeoutError]],
      ['a predicate', (error: unknown) => error instanceof TimeoutError],
    ])(
      'counts errors that recordOn does not match (given as %s) as successes',
      async (_, recordOn) => {
        useHarness();
        const name = uniqueCircuit('record-on');
        const { service } = guardedService({ name, consecutiveFailures: 2, recordOn });
        const invalid = new ValidationError('bad input');

        await callInTurn(service, failWith(new TimeoutError('slow')));
        expect(await rejectionOf(service.reserve(failWith(invalid)))).toBe(invalid);
        expect(breakerNamed(name).metrics()).toMatchObject({
          calls: 2,
          failures: 1,
          consecutiveFailures: 0,
        });

        await callInTurn(service, failWith(new TimeoutError('slow')));
        expect(breakerNamed(name).state).toBe('closed');
        await callInTurn(service, failWith(new TimeoutError('slow')));
        expect(breakerNamed(name).state).toBe('open');
      },
    );

    it('counts errors that ignoreOn matches neither as failures nor as successes', async () => {
      useHarness();
      const name = uniqueCircuit('ignore-on');
      const { service } = guardedService({
        name,
        consecutiveFailures: 2,
        ignoreOn: [ValidationError],
      });
      const invalid = new ValidationError('bad input');

      await callInTurn(service, failWith(new TimeoutError('slow')));
      expect(await rejectionOf(service.reserve(failWith(invalid)))).toBe(invalid);
      expect(breakerNamed(name).metrics()).toMatchObject({
        calls: 1,
        failures: 1,
        consecutiveFailures: 1,
      });

      await callInTurn(service, failWith(new TimeoutError('slow')));
      expect(breakerNamed(name).state).toBe('open');
    });

    it('counts a resolved value that recordOnResult matches as a failure, and still returns it', async () => {
      useHarness();
      const name = uniqueCircuit('record-on-result');
      let status = 503;
      let runs = 0;
      class Gateway {
        @CircuitBreaker({
          name,
          consecutiveFailures: 2,
          recordOnResult: (result) => (result as { status: number }).status >= 500,
        })
        async fetch(): Promise<{ status: number }> {
          runs++;
          return { status };
        }
      }
      const gateway = new Gateway();

      expect(await gateway.fetch()).toEqual({ status: 503 });
      status = 200;
      await gateway.fetch();
      status = 502;
      await gateway.fetch();
      expect(breakerNamed(name).metrics()).toMatchObject({
        state: 'closed',
        calls: 3,
        failures: 2,
        consecutiveFailures: 1,
      });

      expect(await gateway.fetch()).toEqual({ status: 502 });
      expect(breakerNamed(name).state).toBe('open');
      await refusalOf(gateway.fetch());
      expect(runs).toBe(4);
    });
  });
});
