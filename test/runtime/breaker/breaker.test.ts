import { REFUSED } from '../../../src/runtime/breaker/breaker';
import { resolveBreakerSettings } from '../../../src/runtime/breaker/breaker-options';
import { CircuitOpenError, isCircuitOpenError } from '../../../src/runtime/errors';
import { breakerWith, footprint, START, type BreakerFixture } from './support/breaker-fixture';

class ValidationError extends Error {}
class NotFoundError extends Error {}

const abortError = (): Error =>
  Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });

function failTimes(f: BreakerFixture, times: number): void {
  for (let i = 0; i < times; i++) f.fail();
}

function refusalOf(f: BreakerFixture): CircuitOpenError {
  expect(f.breaker.tryAcquire()).toBe(REFUSED);
  return f.breaker.refusal();
}

describe('Breaker', () => {
  describe('transitions', () => {
    it('opens when the failures in a row reach consecutiveFailures, and not one failure sooner', () => {
      const f = breakerWith({ consecutiveFailures: 3 });

      failTimes(f, 2);
      f.succeed(); // breaks the streak
      failTimes(f, 2);
      expect(f.breaker.state).toBe('closed');
      f.fail();

      expect(f.breaker.state).toBe('open');
      expect(f.transitions).toEqual(['closed->open']);
      expect(f.reasons).toEqual(['3 consecutive failures']);
    });

    it('opens when the failure rate reaches the threshold, once the window holds minimumCalls calls', () => {
      const f = breakerWith({
        failureRate: { threshold: 0.5, window: { type: 'count', size: 4 }, minimumCalls: 4 },
      });

      failTimes(f, 3); // a rate of 1, but over only 3 calls
      expect(f.breaker.state).toBe('closed');
      f.succeed(); // 3 of 4

      expect(f.breaker.state).toBe('open');
      expect(f.reasons).toEqual(['failure rate 75% >= 50% over 4 calls']);
    });

    it('reports nothing when an isolated breaker is isolated again or a closed one is reset', () => {
      const f = breakerWith({});

      f.breaker.reset();
      f.breaker.isolate();
      f.breaker.isolate();

      expect(f.transitions).toEqual(['closed->isolated']);
    });

    it('holds an isolated breaker past any openDuration, and lets it leave only through reset(), to closed', () => {
      const f = breakerWith({ consecutiveFailures: 1, openDuration: 100 });
      f.fail();
      f.breaker.isolate();

      f.advance(1_000_000);
      expect(f.breaker.state).toBe('isolated');
      expect(f.breaker.tryAcquire()).toBe(REFUSED);
      f.breaker.reset();

      expect(f.breaker.state).toBe('closed');
      expect(f.transitions).toEqual(['closed->open', 'open->isolated', 'isolated->closed']);
      expect(f.breaker.tryAcquire()).not.toBe(REFUSED);
    });

    it('goes from half-open to isolated, and from open to closed, by hand', () => {
      const f = breakerWith({ consecutiveFailures: 1, openDuration: 100 });
      f.fail();
      f.advance(100);
      expect(f.breaker.state).toBe('half-open');
      f.breaker.isolate();
      f.breaker.reset();
      f.fail();
      f.breaker.reset();

      expect(f.transitions).toEqual([
        'closed->open',
        'open->half-open',
        'half-open->isolated',
        'isolated->closed',
        'closed->open',
        'open->closed',
      ]);
    });
  });

  describe('open → half-open', () => {
    it('reads as open one ms before openedAt + openDuration and as half-open at it', () => {
      const f = breakerWith({ consecutiveFailures: 1, openDuration: 5_000 });
      f.fail();
      const openedAt = f.now();

      f.advance(4_999);
      expect(f.breaker.state).toBe('open');
      expect(f.breaker.metrics().state).toBe('open');
      f.advance(1);
      expect(f.now()).toBe(openedAt + 5_000);
      expect(f.breaker.state).toBe('half-open');

      expect(f.transitions).toEqual(['closed->open', 'open->half-open']);
      expect(f.reasons[1]).toBe('openDuration elapsed');
      expect(f.breaker.metrics().since).toBe(openedAt + 5_000);
    });

    it('refuses a call one ms before the boundary and admits the call at it as the first trial', () => {
      const f = breakerWith({ consecutiveFailures: 1, openDuration: 5_000 });
      f.fail();

      f.advance(4_999);
      expect(refusalOf(f).retryAfter).toBe(1);
      f.advance(1);
      const trial = f.breaker.tryAcquire();

      expect(trial).not.toBe(REFUSED);
      expect(f.transitions).toEqual(['closed->open', 'open->half-open']);
      expect(f.breaker.metrics()).toMatchObject({ state: 'half-open', trialCalls: 1, rejected: 0 });
    });
  });

  describe('isRefusing()', () => {
    it('is true while open before openDuration has passed, and while isolated', () => {
      const f = breakerWith({ consecutiveFailures: 1, openDuration: 100 });
      expect(f.breaker.isRefusing()).toBe(false);
      f.fail();
      expect(f.breaker.isRefusing()).toBe(true);
      f.advance(99);
      expect(f.breaker.isRefusing()).toBe(true);

      f.advance(1);
      expect(f.breaker.isRefusing()).toBe(false); // a call now would be the first trial
      expect(f.transitions).toEqual(['closed->open']); // and asking changed nothing
      f.breaker.isolate();
      expect(f.breaker.isRefusing()).toBe(true);
    });
  });

  describe('refusal()', () => {
    it('while open, names the circuit and the state, and gives the ms left until trials start', () => {
      const f = breakerWith({ consecutiveFailures: 1, openDuration: 5_000 }, 'inventory');
      f.fail();
      f.advance(1_250);

      const refusal = refusalOf(f);

      expect(refusal).toBeInstanceOf(CircuitOpenError);
      expect(isCircuitOpenError(refusal)).toBe(true);
      expect(refusal).toMatchObject({
        circuit: 'inventory',
        state: 'open',
        retryAfter: 3_750,
        code: 'STEADFAST_CIRCUIT_OPEN',
      });
      expect(refusal.message).toBe(
        "circuit 'inventory' is open: call refused, retry after 3750 ms",
      );
    });

    it('while half-open with every trial permit taken, gives a retryAfter of 0', () => {
      const f = breakerWith({ consecutiveFailures: 1, openDuration: 100, halfOpenMaxCalls: 2 });
      f.fail();
      f.advance(100);
      f.admit();
      f.admit();

      expect(refusalOf(f)).toMatchObject({
        circuit: 'payments-api',
        state: 'half-open',
        retryAfter: 0,
      });
    });

    it('while isolated, gives a retryAfter of Infinity', () => {
      const f = breakerWith({});
      f.breaker.isolate();

      expect(refusalOf(f)).toMatchObject({
        circuit: 'payments-api',
        state: 'isolated',
        retryAfter: Number.POSITIVE_INFINITY,
      });
    });

    it('carries no stack frames, only the first line, and leaves Error.stackTraceLimit as it was', () => {
      const f = breakerWith({ consecutiveFailures: 1 });
      f.fail();
      const limit = Error.stackTraceLimit;

      const refusal = refusalOf(f);

      expect(refusal.stack?.split('\n')).toEqual([`CircuitOpenError: ${refusal.message}`]);
      expect(Error.stackTraceLimit).toBe(limit);
      expect(new Error('elsewhere').stack?.split('\n').length).toBeGreaterThan(1);
    });

    it('counts each refused call in rejected, until the next transition', () => {
      const f = breakerWith({ consecutiveFailures: 1, openDuration: 100 });
      f.fail();

      refusalOf(f);
      refusalOf(f);
      expect(f.breaker.metrics().rejected).toBe(2);
      f.advance(100);

      expect(f.breaker.metrics().rejected).toBe(0);
    });
  });

  describe('trial calls', () => {
    it('admits exactly halfOpenMaxCalls calls at once and refuses the rest', () => {
      const f = breakerWith({ consecutiveFailures: 1, openDuration: 100, halfOpenMaxCalls: 3 });
      f.fail();
      f.advance(100);

      const permits = Array.from({ length: 5 }, () => f.breaker.tryAcquire());

      expect(permits.map((p) => p !== REFUSED)).toEqual([true, true, true, false, false]);
      expect(f.breaker.metrics()).toMatchObject({ state: 'half-open', trialCalls: 3, rejected: 2 });
    });

    it('closes only when every trial call has succeeded, and admits no more after the successful ones', () => {
      const f = breakerWith({ consecutiveFailures: 1, openDuration: 100, halfOpenMaxCalls: 3 });
      f.fail();
      f.advance(100);

      f.succeed();
      f.succeed();
      expect(f.breaker.metrics()).toMatchObject({ state: 'half-open', calls: 2, trialCalls: 0 });
      f.succeed();

      expect(f.breaker.state).toBe('closed');
      expect(f.transitions).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
      expect(f.reasons[2]).toBe('all trial calls succeeded');
    });

    it('refuses a fourth trial when three have already succeeded or are running', () => {
      const f = breakerWith({ consecutiveFailures: 1, openDuration: 100, halfOpenMaxCalls: 3 });
      f.fail();
      f.advance(100);
      f.succeed();
      f.admit();
      f.admit();

      expect(f.breaker.tryAcquire()).toBe(REFUSED);
    });

    it('reopens on the first failed trial, however the others end', () => {
      const f = breakerWith({ consecutiveFailures: 1, openDuration: 100, halfOpenMaxCalls: 3 });
      f.fail();
      f.advance(100);
      f.succeed();
      const running = f.admit();
      f.fail();

      expect(f.breaker.state).toBe('open');
      f.breaker.succeeded(running, 'ok', 0); // a trial of the past half-open: ignored
      expect(f.breaker.state).toBe('open');
      expect(f.transitions.slice(2)).toEqual(['half-open->open']);
      expect(f.reasons[2]).toBe('a trial call failed');
    });

    it('reopens on a trial call that succeeds, but slowly', () => {
      const f = breakerWith({
        consecutiveFailures: 1,
        openDuration: 100,
        slowCall: { duration: 200, rateThreshold: 1 },
      });
      f.fail();
      f.advance(100);

      f.succeed(201);

      expect(f.breaker.state).toBe('open');
      expect(f.reasons[2]).toBe('a trial call was slow');
      expect(f.breaker.metrics().openings).toBe(2);
    });

    it('closes on a trial call that takes exactly slowCall.duration', () => {
      const f = breakerWith({
        consecutiveFailures: 1,
        openDuration: 100,
        slowCall: { duration: 200, rateThreshold: 1 },
      });
      f.fail();
      f.advance(100);

      f.succeed(200);

      expect(f.breaker.state).toBe('closed');
    });

    it('gives the permit of an ignored trial back without counting it', () => {
      const f = breakerWith({
        consecutiveFailures: 1,
        openDuration: 100,
        ignoreOn: [ValidationError],
      });
      f.fail();
      f.advance(100);

      f.fail(new ValidationError('bad input'));
      expect(f.breaker.metrics()).toMatchObject({
        state: 'half-open',
        trialCalls: 0,
        calls: 0,
        failures: 0,
      });
      f.fail(abortError());
      expect(f.breaker.metrics()).toMatchObject({
        state: 'half-open',
        trialCalls: 0,
        calls: 0,
        failures: 0,
      });
      f.succeed();

      expect(f.breaker.state).toBe('closed');
    });

    it('lets a call admitted while closed neither spend nor free a trial permit', () => {
      const f = breakerWith({ consecutiveFailures: 1, openDuration: 100 });
      const slowCall = f.admit();
      f.fail();
      f.advance(100);
      const trial = f.admit();

      f.breaker.failed(slowCall, new Error('late failure'), 5_000);
      expect(f.breaker.metrics()).toMatchObject({ state: 'half-open', trialCalls: 1, calls: 0 });
      expect(f.breaker.tryAcquire()).toBe(REFUSED);
      f.breaker.succeeded(trial, 'ok', 0);

      expect(f.breaker.state).toBe('closed');
    });
  });

  describe('counting', () => {
    it('starts every count from zero on each transition', () => {
      const f = breakerWith({
        failureRate: { threshold: 0.5, window: { type: 'count', size: 10 }, minimumCalls: 4 },
        openDuration: 100,
        halfOpenMaxCalls: 2,
      });
      f.succeed();
      f.succeed();
      failTimes(f, 2);
      expect(f.breaker.state).toBe('open');
      const cleared = {
        calls: 0,
        failures: 0,
        slowCalls: 0,
        failureRate: 0,
        slowCallRate: 0,
        consecutiveFailures: 0,
        rejected: 0,
        trialCalls: 0,
      };
      expect(f.breaker.metrics()).toMatchObject({ ...cleared, state: 'open', openings: 1 });

      refusalOf(f);
      f.advance(100);
      expect(f.breaker.metrics()).toMatchObject({ ...cleared, state: 'half-open', openings: 1 });

      f.succeed();
      expect(f.breaker.metrics()).toMatchObject({ state: 'half-open', calls: 1, failures: 0 });
      f.succeed();
      expect(f.breaker.metrics()).toMatchObject({
        ...cleared,
        state: 'closed',
        openings: 0,
        since: START + 100,
      });
    });

    it('counts only calls slower than slowCall.duration as slow, successes and failures alike', () => {
      const f = breakerWith({ slowCall: { duration: 200, rateThreshold: 1 } });

      f.succeed(200);
      f.succeed(201);
      f.fail(new Error('down'), 200.5);

      expect(f.breaker.metrics()).toMatchObject({
        calls: 3,
        failures: 1,
        slowCalls: 2,
        slowCallRate: 2 / 3,
      });
    });

    it('opens when the slow-call rate reaches its threshold over minimumCalls calls', () => {
      const f = breakerWith({
        slowCall: { duration: 200, rateThreshold: 0.5 },
        failureRate: { threshold: 1, window: { type: 'count', size: 4 }, minimumCalls: 4 },
      });

      f.succeed(300);
      f.succeed(300);
      f.succeed(10);
      expect(f.breaker.state).toBe('closed');
      f.succeed(10);

      expect(f.breaker.state).toBe('open');
      expect(f.reasons).toEqual(['slow-call rate 50% >= 50% over 4 calls']);
    });

    it('counts a resolved value that recordOnResult flags as a failure, and one it throws on too', () => {
      const f = breakerWith({
        consecutiveFailures: 5,
        recordOnResult: (result) => {
          if (result === 'garbled') throw new Error('cannot parse');
          return result === 'empty';
        },
      });

      f.succeed(0, 'empty');
      f.succeed(0, 'garbled');
      f.succeed(0, 'full');

      expect(f.breaker.metrics()).toMatchObject({ calls: 3, failures: 2, consecutiveFailures: 0 });
    });

    it('counts an error that recordOn does not match as a success, which breaks a failure streak', () => {
      const f = breakerWith({
        consecutiveFailures: 2,
        recordOn: (error) => !(error instanceof NotFoundError),
      });

      f.fail();
      f.fail(new NotFoundError('no such invoice'));
      f.fail();

      expect(f.breaker.state).toBe('closed');
      expect(f.breaker.metrics()).toMatchObject({ calls: 3, failures: 2, consecutiveFailures: 1 });
    });

    it('counts an error that ignoreOn matches neither way, even when recordOn matches it too', () => {
      const f = breakerWith({
        consecutiveFailures: 2,
        recordOn: [Error],
        ignoreOn: [ValidationError],
      });

      f.fail();
      f.fail(new ValidationError('bad input'));
      f.fail(abortError());

      expect(f.breaker.metrics()).toMatchObject({
        state: 'closed',
        calls: 1,
        failures: 1,
        consecutiveFailures: 1,
      });
    });

    it('forgets failures that have fallen out of a time window', () => {
      const f = breakerWith({
        failureRate: { threshold: 0.5, window: { type: 'time', size: 1_000 }, minimumCalls: 3 },
      });
      failTimes(f, 2);
      f.advance(1_000);
      expect(f.breaker.metrics()).toMatchObject({ calls: 0, failures: 0 });

      f.fail(); // 1 failure in the window, not 3
      expect(f.breaker.state).toBe('closed');
    });
  });

  describe('openDuration', () => {
    /** Opens, waits out the opening and fails the trial, `times` times. */
    function reopen(f: BreakerFixture, times: number): number[] {
      const durations: number[] = [];
      for (let i = 0; i < times; i++) {
        durations.push(refusalOf(f).retryAfter);
        f.advance(durations[i] as number);
        f.fail();
      }
      return durations;
    }

    it('calls a function with 1, 2, 3 … for consecutive openings', () => {
      const asked: number[] = [];
      const f = breakerWith({
        consecutiveFailures: 1,
        openDuration: (openings) => (asked.push(openings), openings * 1_000),
      });
      f.fail();

      const durations = reopen(f, 3);

      expect(asked).toEqual([1, 2, 3, 4]);
      expect(durations).toEqual([1_000, 2_000, 3_000]);
      expect(f.breaker.metrics().openings).toBe(4);
    });

    it('starts again from 1 after the breaker closes', () => {
      const asked: number[] = [];
      const f = breakerWith({
        consecutiveFailures: 1,
        openDuration: (openings) => (asked.push(openings), openings * 1_000),
      });
      f.fail();
      reopen(f, 1);
      f.advance(2_000);
      f.succeed();
      expect(f.breaker.state).toBe('closed');

      f.fail();

      expect(asked).toEqual([1, 2, 1]);
      expect(refusalOf(f).retryAfter).toBe(1_000);
    });

    it('keeps counting through isolation, and starts again from 1 after reset()', () => {
      const asked: number[] = [];
      const f = breakerWith({
        consecutiveFailures: 1,
        openDuration: (openings) => (asked.push(openings), 100),
      });
      f.fail();
      f.breaker.isolate();
      expect(f.breaker.metrics().openings).toBe(1);

      f.breaker.reset();
      expect(f.breaker.metrics().openings).toBe(0);
      f.fail();

      expect(asked).toEqual([1, 1]);
    });

    it('is capped by maxOpenDuration', () => {
      const f = breakerWith({
        consecutiveFailures: 1,
        openDuration: (openings) => 1_000 * 10 ** openings,
        maxOpenDuration: 50_000,
      });
      f.fail();

      expect(reopen(f, 3)).toEqual([10_000, 50_000, 50_000]);
    });

    it('lets trials through no sooner than the capped duration', () => {
      const f = breakerWith({
        consecutiveFailures: 1,
        openDuration: () => 1_000_000,
        maxOpenDuration: 50_000,
      });
      f.fail();

      f.advance(49_999);
      expect(f.breaker.state).toBe('open');
      f.advance(1);
      expect(f.breaker.state).toBe('half-open');
    });

    it.each([Number.NaN, -1, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY])(
      'opens for maxOpenDuration when a function returns %p',
      (nonsense) => {
        const f = breakerWith({
          consecutiveFailures: 1,
          openDuration: () => nonsense,
          maxOpenDuration: 7_000,
        });
        f.fail();

        expect(refusalOf(f).retryAfter).toBe(7_000);
      },
    );

    it('opens for maxOpenDuration when a function throws, reports the opening and lets the outcome be recorded quietly', () => {
      const f = breakerWith({
        consecutiveFailures: 1,
        openDuration: () => {
          throw new Error('bug in the backoff function');
        },
        maxOpenDuration: 7_000,
      });

      expect(() => f.fail()).not.toThrow();
      expect(f.transitions).toEqual(['closed->open']);
      expect(refusalOf(f).retryAfter).toBe(7_000);
    });

    it('keeps a fixed openDuration longer than the default cap of 600 s', () => {
      const f = breakerWith({ consecutiveFailures: 1, openDuration: 900_000 });
      f.fail();

      expect(refusalOf(f).retryAfter).toBe(900_000);
    });

    it('still caps a growing openDuration at 600 s by default', () => {
      const f = breakerWith({ consecutiveFailures: 1, openDuration: () => 900_000 });
      f.fail();

      expect(refusalOf(f).retryAfter).toBe(600_000);
    });

    it('defaults to 30 s', () => {
      const f = breakerWith({ consecutiveFailures: 1 });
      f.fail();

      expect(refusalOf(f).retryAfter).toBe(30_000);
    });
  });

  describe('memory', () => {
    it('keeps a count window of 100 at 100 calls after 100 000', () => {
      const f = breakerWith({
        failureRate: { threshold: 1, window: { type: 'count', size: 100 } },
      });
      for (let i = 0; i < 100_000; i++) {
        if (i % 10 === 0) f.fail();
        else f.succeed();
      }

      expect(f.breaker.metrics()).toMatchObject({
        state: 'closed',
        calls: 100,
        failures: 10,
        failureRate: 0.1,
      });
    });

    it.each([
      ['a count window', { type: 'count', size: 100 }],
      ['a time window', { type: 'time', size: 1_000 }],
    ] as const)('holds no more after 100 000 calls than after 100, with %s', (_label, window) => {
      const f = breakerWith({
        failureRate: { threshold: 1, window },
        slowCall: { duration: 50, rateThreshold: 1 },
      });
      const call = (i: number): void => {
        f.advance(3);
        if (i % 10 === 0) f.fail(new Error('down'), i % 7);
        else f.succeed(i % 70);
      };
      for (let i = 0; i < 100; i++) call(i);
      const before = footprint(f.breaker);

      for (let i = 100; i < 100_000; i++) call(i);

      expect(footprint(f.breaker)).toBe(before);
      expect(f.breaker.state).toBe('closed');
    });
  });

  describe('defaults', () => {
    it('opens after 5 failures in a row when no criterion is given', () => {
      const f = breakerWith({});
      failTimes(f, 4);
      expect(f.breaker.state).toBe('closed');
      f.fail();

      expect(f.breaker.state).toBe('open');
    });

    it('waits for 10 calls in the window, or a smaller count window’s size, before a rate counts', () => {
      expect(
        resolveBreakerSettings({ failureRate: { threshold: 0.5 } }, undefined).minimumCalls,
      ).toBe(10);
      expect(
        resolveBreakerSettings(
          { failureRate: { threshold: 0.5, window: { type: 'time', size: 500 } } },
          undefined,
        ).minimumCalls,
      ).toBe(10);
      expect(
        resolveBreakerSettings(
          { failureRate: { threshold: 0.5, window: { type: 'count', size: 4 } } },
          undefined,
        ).minimumCalls,
      ).toBe(4);

      const f = breakerWith({
        failureRate: { threshold: 0.5, window: { type: 'count', size: 4 } },
      });
      failTimes(f, 3);
      expect(f.breaker.state).toBe('closed');
      f.fail();
      expect(f.breaker.state).toBe('open');
    });

    it('uses no failure streak once a failure rate is given, here or in the configured defaults', () => {
      const own = resolveBreakerSettings(
        { failureRate: { threshold: 0.5 } },
        { consecutiveFailures: 2 },
      );
      const configured = resolveBreakerSettings({}, { failureRate: { threshold: 0.5 } });

      expect(own).toMatchObject({ consecutiveFailures: undefined, failureRateThreshold: 0.5 });
      expect(configured).toMatchObject({
        consecutiveFailures: undefined,
        failureRateThreshold: 0.5,
      });
    });
  });
});
