import { CircuitBreaker, CircuitOpenError } from '../../src';
import { decoratorMode, useHarness } from '../support/harness';
import {
  breakerNamed,
  deferred,
  DownstreamError,
  rejectionOf,
  settle,
  uniqueCircuit,
} from './support';

const ARRIVALS = 10_000;

describe(`@CircuitBreaker under a burst of concurrent calls (${decoratorMode} decorators)`, () => {
  it.each([1, 5])(
    'with halfOpenMaxCalls %i, runs exactly that many bodies when 10 000 calls arrive at once at a half-open breaker',
    async (halfOpenMaxCalls) => {
      const h = useHarness();
      const name = uniqueCircuit(`burst-${halfOpenMaxCalls}`);
      const recovery = deferred<string>();
      let failing = true;
      let bodiesStarted = 0;
      let bodiesFinished = 0;
      class Upstream {
        @CircuitBreaker({ name, consecutiveFailures: 1, openDuration: 1_000, halfOpenMaxCalls })
        async fetch(): Promise<string> {
          if (failing) throw new DownstreamError('down');
          bodiesStarted++;
          const value = await recovery.promise;
          bodiesFinished++;
          return value;
        }
      }
      const upstream = new Upstream();
      await rejectionOf(upstream.fetch());
      failing = false;
      await h.clock.advance(1_000);

      const calls = Array.from({ length: ARRIVALS }, () => settle(upstream.fetch()));
      await h.clock.flush();

      // Every call has arrived and been decided; the admitted bodies are all still in flight.
      expect(bodiesStarted).toBe(halfOpenMaxCalls);
      expect(bodiesFinished).toBe(0);
      expect(breakerNamed(name).metrics()).toMatchObject({
        state: 'half-open',
        trialCalls: halfOpenMaxCalls,
        rejected: ARRIVALS - halfOpenMaxCalls,
      });

      recovery.resolve('recovered');
      const outcomes = await Promise.all(calls);

      const succeeded = outcomes.filter((outcome) => outcome.ok);
      const refused = outcomes.flatMap((outcome) => (outcome.ok ? [] : [outcome.error]));
      expect(succeeded).toHaveLength(halfOpenMaxCalls);
      expect(succeeded.every((outcome) => outcome.ok && outcome.value === 'recovered')).toBe(true);
      expect(refused).toHaveLength(ARRIVALS - halfOpenMaxCalls);
      expect(
        refused.every(
          (error) =>
            error instanceof CircuitOpenError &&
            error.state === 'half-open' &&
            error.circuit === name,
        ),
      ).toBe(true);
      expect(bodiesStarted).toBe(halfOpenMaxCalls);
      expect(bodiesFinished).toBe(halfOpenMaxCalls);

      expect(breakerNamed(name).state).toBe('closed');
      expect(h.events('stateChange').map(({ from, to }) => `${from}->${to}`)).toEqual([
        'closed->open',
        'open->half-open',
        'half-open->closed',
      ]);
      expect(h.events('rejected')).toHaveLength(ARRIVALS - halfOpenMaxCalls);
      await expect(upstream.fetch()).resolves.toBe('recovered');
    },
  );
});
