import { getEventListeners } from 'node:events';
import { configure, Idempotent, Retryable, systemClock } from '../../src';
import { useHarness, decoratorMode } from '../support/harness';
import { reasonOf } from './support/services';
import { FakeClock } from '../../src/testing';

/** Active Node timers (jest's own per-test timeout among them, so compare counts, not zero). */
function activeTimeouts(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe(`systemClock, the real clock (${decoratorMode})`, () => {
  it('reads the time from Date.now()', () => {
    const before = Date.now();
    const now = systemClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('resolves a sleep after the time given, and removes its abort listener', async () => {
    const controller = new AbortController();
    const startedAt = performance.now();

    await systemClock.sleep(15, controller.signal);

    // timers may fire up to a millisecond early by performance.now()'s reckoning
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(14);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects a sleep with signal.reason as soon as the signal aborts, and clears its timer', async () => {
    const baseline = activeTimeouts();
    const controller = new AbortController();
    const startedAt = performance.now();

    const failure = reasonOf(systemClock.sleep(60_000, controller.signal));
    expect(activeTimeouts()).toBe(baseline + 1);
    const reason = new Error('stop sleeping');
    controller.abort(reason);

    expect(await failure).toBe(reason);
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    expect(activeTimeouts()).toBe(baseline);
  });

  it('sleeps longer than the longest timer Node keeps (2^31 - 1 ms) for the whole time, not 1 ms', async () => {
    jest.useFakeTimers({ now: 0 });
    try {
      let woke = false;
      let wokeAborted = false;
      void systemClock.sleep(3_000_000_000).then(() => (woke = true));
      void systemClock
        .sleep(3_000_000_000, new AbortController().signal)
        .then(() => (wokeAborted = true));
      await jest.advanceTimersByTimeAsync(2_147_483_647);
      expect([woke, wokeAborted]).toEqual([false, false]);
      await jest.advanceTimersByTimeAsync(3_000_000_000 - 2_147_483_647 - 1);
      expect([woke, wokeAborted]).toEqual([false, false]);
      await jest.advanceTimersByTimeAsync(1);
      expect([woke, wokeAborted]).toEqual([true, true]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('rejects at once, without a timer, when the signal is already aborted', async () => {
    const baseline = activeTimeouts();
    const controller = new AbortController();
    const reason = new Error('too late');
    controller.abort(reason);

    const failure = reasonOf(systemClock.sleep(60_000, controller.signal));
    expect(activeTimeouts()).toBe(baseline);

    expect(await failure).toBe(reason);
  });

  it('clears the retry timer of a decorated call aborted during its sleep', async () => {
    useHarness();
    configure({ clock: systemClock });
    let runs = 0;
    class Mailer {
      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 60_000, maxDelay: 60_000, jitter: 'none' })
      async send(_to: string, _signal: AbortSignal): Promise<void> {
        runs++;
        throw new Error('smtp down');
      }
    }
    // Follow the one timer the retry sleep creates, rather than counting every timer in the process.
    const setTimeoutSpy = jest.spyOn(global, 'setTimeout');
    const clearTimeoutSpy = jest.spyOn(global, 'clearTimeout');
    const controller = new AbortController();
    const startedAt = performance.now();
    try {
      const failure = reasonOf(new Mailer().send('ada@example.com', controller.signal));
      await nextTurn();
      const sleepCall = setTimeoutSpy.mock.calls.findIndex((call) => call[1] === 60_000);
      expect(sleepCall).toBeGreaterThanOrEqual(0);
      const timer = setTimeoutSpy.mock.results[sleepCall]?.value as NodeJS.Timeout;
      expect(timer.hasRef()).toBe(true);
      const reason = new Error('request closed');
      controller.abort(reason);

      expect(await failure).toBe(reason);
      expect(runs).toBe(1);
      expect(performance.now() - startedAt).toBeLessThan(10_000);
      expect(clearTimeoutSpy.mock.calls.some((call) => call[0] === timer)).toBe(true);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    } finally {
      setTimeoutSpy.mockRestore();
      clearTimeoutSpy.mockRestore();
    }
  });

  it('sleeps for real between attempts when configured with it', async () => {
    useHarness();
    configure({ clock: systemClock });
    const runTimes: number[] = [];
    class Probe {
      @Idempotent()
      @Retryable({ maxAttempts: 2, initialDelay: 15, jitter: 'none' })
      async ping(): Promise<string> {
        runTimes.push(performance.now());
        if (runTimes.length < 2) throw new Error('not yet');
        return 'pong';
      }
    }

    await expect(new Probe().ping()).resolves.toBe('pong');

    expect(runTimes).toHaveLength(2);
    expect((runTimes[1] as number) - (runTimes[0] as number)).toBeGreaterThanOrEqual(14);
  });
});

describe('FakeClock', () => {
  it('wakes sleeps with tick(ms) exactly as with advance(ms)', async () => {
    const clock = new FakeClock(0);
    const woken: number[] = [];
    void clock.sleep(50).then(() => woken.push(clock.now()));
    void clock.sleep(150).then(() => woken.push(clock.now()));
    await clock.tick(100);
    expect(woken).toEqual([50]);
    expect(clock.now()).toBe(100);
    expect(clock.pending).toBe(1);
    await clock.advance(50);
    expect(woken).toEqual([50, 150]);
  });
});
