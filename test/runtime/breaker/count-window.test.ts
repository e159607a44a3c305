import fc from 'fast-check';
import { CountWindow } from '../../../src/runtime/breaker/count-window';
import type { OutcomeWindow } from '../../../src/runtime/breaker/outcome-window';
import { ReferenceWindow } from './support/reference-window';

function totals(window: OutcomeWindow): { calls: number; failures: number; slowCalls: number } {
  return { calls: window.calls, failures: window.failures, slowCalls: window.slowCalls };
}

describe('CountWindow', () => {
  it('starts empty', () => {
    expect(totals(new CountWindow(5))).toEqual({ calls: 0, failures: 0, slowCalls: 0 });
  });

  it('adds every outcome to the running totals until it is full', () => {
    const window = new CountWindow(4);

    window.record(0, false, false);
    expect(totals(window)).toEqual({ calls: 1, failures: 0, slowCalls: 0 });
    window.record(0, true, false);
    expect(totals(window)).toEqual({ calls: 2, failures: 1, slowCalls: 0 });
    window.record(0, false, true);
    expect(totals(window)).toEqual({ calls: 3, failures: 1, slowCalls: 1 });
    window.record(0, true, true);
    expect(totals(window)).toEqual({ calls: 4, failures: 2, slowCalls: 2 });
  });

  it('subtracts the oldest outcome as each new one enters a full window', () => {
    const window = new CountWindow(3);
    window.record(0, true, true); // evicted first
    window.record(0, true, false);
    window.record(0, false, true);

    window.record(0, false, false);
    expect(totals(window)).toEqual({ calls: 3, failures: 1, slowCalls: 1 });
    window.record(0, false, false); // evicts the failure
    expect(totals(window)).toEqual({ calls: 3, failures: 0, slowCalls: 1 });
    window.record(0, true, false); // evicts the slow call
    expect(totals(window)).toEqual({ calls: 3, failures: 1, slowCalls: 0 });
    window.record(0, false, false);
    window.record(0, false, false); // by now the failure just recorded is the oldest
    expect(totals(window)).toEqual({ calls: 3, failures: 1, slowCalls: 0 });
    window.record(0, false, false);
    expect(totals(window)).toEqual({ calls: 3, failures: 0, slowCalls: 0 });
  });

  it('holds only the latest outcome when its size is 1', () => {
    const window = new CountWindow(1);

    window.record(0, true, true);
    expect(totals(window)).toEqual({ calls: 1, failures: 1, slowCalls: 1 });
    window.record(0, false, true);
    expect(totals(window)).toEqual({ calls: 1, failures: 0, slowCalls: 1 });
    window.record(0, false, false);
    expect(totals(window)).toEqual({ calls: 1, failures: 0, slowCalls: 0 });
  });

  it('ignores time: advancing the clock by any amount drops nothing', () => {
    // Through the interface, as the breaker calls it, with the time a time window would need.
    const window: OutcomeWindow = new CountWindow(3);
    window.record(0, true, false);
    window.record(1_000_000, false, true);

    window.advance(Number.MAX_SAFE_INTEGER);

    expect(totals(window)).toEqual({ calls: 2, failures: 1, slowCalls: 1 });
  });

  it('is empty after clear(), and outcomes recorded before it are never subtracted later', () => {
    const window = new CountWindow(3);
    window.record(0, true, true);
    window.record(0, true, true);

    window.clear();
    expect(totals(window)).toEqual({ calls: 0, failures: 0, slowCalls: 0 });

    // Filling and overflowing the window again only ever evicts what came after the clear.
    for (let i = 0; i < 5; i++) {
      window.record(0, false, false);
      expect(totals(window)).toEqual({ calls: Math.min(i + 1, 3), failures: 0, slowCalls: 0 });
    }
  });

  it('holds exactly the last 100 outcomes after 100 000 of them', () => {
    const window = new CountWindow(100);
    const failedAt = (i: number): boolean => i % 7 === 0;
    const slowAt = (i: number): boolean => i % 3 === 0;
    for (let i = 0; i < 100_000; i++) window.record(i, failedAt(i), slowAt(i));

    let failures = 0;
    let slowCalls = 0;
    for (let i = 99_900; i < 100_000; i++) {
      if (failedAt(i)) failures++;
      if (slowAt(i)) slowCalls++;
    }
    expect(totals(window)).toEqual({ calls: 100, failures, slowCalls });
  });

  it('agrees with a naive list of the last size outcomes after every record and clear', () => {
    const step = fc.oneof(
      { weight: 12, arbitrary: fc.record({ failed: fc.boolean(), slow: fc.boolean() }) },
      { weight: 1, arbitrary: fc.constant('clear' as const) },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(step, { maxLength: 150 }),
        (size, steps) => {
          const window = new CountWindow(size);
          const reference = new ReferenceWindow('count', size);
          for (const s of steps) {
            if (s === 'clear') {
              window.clear();
              reference.clear();
            } else {
              window.record(0, s.failed, s.slow);
              reference.record(0, s.failed, s.slow);
            }
            expect(totals(window)).toEqual(reference.totals());
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
