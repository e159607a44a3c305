import fc from 'fast-check';
import { TimeWindow } from '../../../src/runtime/breaker/time-window';
import { ReferenceWindow } from './support/reference-window';

function totals(window: TimeWindow): { calls: number; failures: number; slowCalls: number } {
  return { calls: window.calls, failures: window.failures, slowCalls: window.slowCalls };
}

// A 1 000 ms window has 10 buckets of 100 ms; T0 starts a bucket.
const T0 = 1_000_000;

describe('TimeWindow', () => {
  it('adds every outcome to the running totals', () => {
    const window = new TimeWindow(1_000);

    window.record(T0, false, false);
    expect(totals(window)).toEqual({ calls: 1, failures: 0, slowCalls: 0 });
    window.record(T0 + 10, true, false);
    expect(totals(window)).toEqual({ calls: 2, failures: 1, slowCalls: 0 });
    window.record(T0 + 450, false, true);
    expect(totals(window)).toEqual({ calls: 3, failures: 1, slowCalls: 1 });
    window.record(T0 + 999, true, true);
    expect(totals(window)).toEqual({ calls: 4, failures: 2, slowCalls: 2 });
  });

  it('drops a whole bucket at once, when time reaches the bucket 10 widths after it', () => {
    const window = new TimeWindow(1_000);
    window.record(T0, true, false); // bucket 0
    window.record(T0 + 99, false, true); // bucket 0, a partial bucket's worth later
    window.record(T0 + 100, true, true); // bucket 1

    window.advance(T0 + 999);
    expect(totals(window)).toEqual({ calls: 3, failures: 2, slowCalls: 2 });
    window.advance(T0 + 1_000);
    expect(totals(window)).toEqual({ calls: 1, failures: 1, slowCalls: 1 });
    window.advance(T0 + 1_099);
    expect(totals(window)).toEqual({ calls: 1, failures: 1, slowCalls: 1 });
    window.advance(T0 + 1_100);
    expect(totals(window)).toEqual({ calls: 0, failures: 0, slowCalls: 0 });
  });

  it('keeps a call for between 0.9·size and size ms, depending on where in its bucket it fell', () => {
    const early = new TimeWindow(1_000);
    early.record(T0, false, false);
    early.advance(T0 + 999);
    expect(early.calls).toBe(1);
    early.advance(T0 + 1_000);
    expect(early.calls).toBe(0); // after size ms

    const late = new TimeWindow(1_000);
    late.record(T0 + 99.5, false, false);
    late.advance(T0 + 999.99);
    expect(late.calls).toBe(1);
    late.advance(T0 + 1_000);
    expect(late.calls).toBe(0); // after 900.5 ms
  });

  it('drops one bucket for each bucket width the clock moves', () => {
    const window = new TimeWindow(1_000);
    const failed = (bucket: number): boolean => bucket % 2 === 0;
    const slow = (bucket: number): boolean => bucket % 3 === 0;
    for (let bucket = 0; bucket < 10; bucket++)
      window.record(T0 + bucket * 100 + 50, failed(bucket), slow(bucket));
    expect(totals(window)).toEqual({ calls: 10, failures: 5, slowCalls: 4 });

    for (let dropped = 1; dropped <= 10; dropped++) {
      window.advance(T0 + 900 + dropped * 100);
      const kept = Array.from({ length: 10 - dropped }, (_, i) => i + dropped);
      expect(totals(window)).toEqual({
        calls: kept.length,
        failures: kept.filter(failed).length,
        slowCalls: kept.filter(slow).length,
      });
    }
  });

  it('keeps what is still in the window when the clock jumps several buckets at once', () => {
    const window = new TimeWindow(1_000);
    window.record(T0 + 50, true, false); // bucket 0
    window.record(T0 + 350, false, true); // bucket 3
    window.record(T0 + 750, true, true); // bucket 7

    window.advance(T0 + 1_350); // buckets 0 to 3 fall out in one step

    expect(totals(window)).toEqual({ calls: 1, failures: 1, slowCalls: 1 });
  });

  it('is empty after a jump longer than the whole window, and counts from zero again', () => {
    const window = new TimeWindow(1_000);
    for (let t = 0; t < 1_000; t += 37) window.record(T0 + t, t % 2 === 0, t % 3 === 0);

    window.advance(T0 + 50_000);
    expect(totals(window)).toEqual({ calls: 0, failures: 0, slowCalls: 0 });

    window.record(T0 + 50_001, true, false);
    expect(totals(window)).toEqual({ calls: 1, failures: 1, slowCalls: 0 });
    window.advance(T0 + 50_999);
    expect(totals(window)).toEqual({ calls: 1, failures: 1, slowCalls: 0 });
  });

  it('drops nothing while the clock stands still or stays in the current bucket', () => {
    const window = new TimeWindow(1_000);
    window.record(T0 + 950, true, true);

    window.advance(T0 + 950);
    window.advance(T0 + 999);
    window.advance(T0 + 500); // an earlier reading moves nothing back

    expect(totals(window)).toEqual({ calls: 1, failures: 1, slowCalls: 1 });
  });

  it('uses one-ms buckets, one per ms of size, for windows smaller than 10 ms', () => {
    const window = new TimeWindow(3);
    window.record(0, true, false);
    window.record(0.5, false, false); // same 1 ms bucket
    window.record(1, false, true);
    window.record(2.9, true, true);
    expect(totals(window)).toEqual({ calls: 4, failures: 2, slowCalls: 2 });

    window.advance(3);
    expect(totals(window)).toEqual({ calls: 2, failures: 1, slowCalls: 2 });
    window.advance(4);
    expect(totals(window)).toEqual({ calls: 1, failures: 1, slowCalls: 1 });
    window.advance(5);
    expect(totals(window)).toEqual({ calls: 0, failures: 0, slowCalls: 0 });
  });

  it('holds only the current millisecond when its size is 1', () => {
    const window = new TimeWindow(1);
    window.record(7, true, false);
    window.record(7.9, false, true);
    expect(totals(window)).toEqual({ calls: 2, failures: 1, slowCalls: 1 });

    window.record(8, false, false);
    expect(totals(window)).toEqual({ calls: 1, failures: 0, slowCalls: 0 });
  });

  it('uses buckets of a fractional width when the size is not a multiple of 10', () => {
    const window = new TimeWindow(25); // 10 buckets of 2.5 ms
    window.record(T0 + 2.4, true, false); // bucket 0
    window.record(T0 + 2.5, false, true); // bucket 1

    window.advance(T0 + 24.9);
    expect(totals(window)).toEqual({ calls: 2, failures: 1, slowCalls: 1 });
    window.advance(T0 + 25);
    expect(totals(window)).toEqual({ calls: 1, failures: 0, slowCalls: 1 });
    window.advance(T0 + 27.5);
    expect(totals(window)).toEqual({ calls: 0, failures: 0, slowCalls: 0 });
  });

  it('works at wall-clock timestamps', () => {
    const window = new TimeWindow(60_000);
    const now = 1_767_225_600_123; // 2026-01-01, in ms since the epoch
    window.record(now, true, false);
    window.advance(now + 59_876);
    expect(window.calls).toBe(1);
    window.advance(now + 59_877); // its 6 s bucket started at now - 123
    expect(window.calls).toBe(0);
  });

  it('is empty after clear(), and buckets emptied by it are not subtracted again', () => {
    const window = new TimeWindow(1_000);
    for (let bucket = 0; bucket < 10; bucket++) window.record(T0 + bucket * 100, true, true);

    window.clear();
    expect(totals(window)).toEqual({ calls: 0, failures: 0, slowCalls: 0 });

    window.record(T0 + 950, false, false);
    // Each advance now passes over buckets that held calls before the clear.
    for (let t = T0 + 1_000; t < T0 + 1_900; t += 100) {
      window.advance(t);
      expect(totals(window)).toEqual({ calls: 1, failures: 0, slowCalls: 0 });
    }
    window.advance(T0 + 1_900);
    expect(totals(window)).toEqual({ calls: 0, failures: 0, slowCalls: 0 });
  });

  it('accepts a record at any time after clear(), even one earlier than before it', () => {
    const window = new TimeWindow(1_000);
    window.record(T0 + 5_000, true, false);
    window.clear();

    window.record(T0, false, true);
    window.advance(T0 + 999);

    expect(totals(window)).toEqual({ calls: 1, failures: 0, slowCalls: 1 });
  });

  it('holds exactly the calls of the last buckets after 100 000 records', () => {
    const window = new TimeWindow(1_000);
    for (let i = 0; i < 100_000; i++) window.record(T0 + i, i % 7 === 0, i % 3 === 0);

    // At T0 + 99 999 the window holds buckets from T0 + 99 000 on: 1 000 calls.
    let failures = 0;
    let slowCalls = 0;
    for (let i = 99_000; i < 100_000; i++) {
      if (i % 7 === 0) failures++;
      if (i % 3 === 0) slowCalls++;
    }
    expect(totals(window)).toEqual({ calls: 1_000, failures, slowCalls });
  });

  it('agrees with a naive list of timestamped outcomes after every record, advance and clear', () => {
    const sizes = fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 2_000 }));
    const step = (size: number) => {
      const width = size / Math.min(10, size);
      const pause = fc.oneof(
        fc.constant(0),
        fc.integer({ min: 0, max: Math.ceil(width * 2) }),
        fc.double({ min: 0, max: size * 1.2, noNaN: true }),
        // fractions of a ms, which tell tiny windows' 1 ms buckets from tenths of the size
        fc.integer({ min: 0, max: size * 120 }).map((hundredths) => hundredths / 100),
        fc.integer({ min: size, max: size * 3 }),
      );
      return fc.oneof(
        {
          weight: 8,
          arbitrary: fc.record({
            kind: fc.constant('record' as const),
            pause,
            failed: fc.boolean(),
            slow: fc.boolean(),
          }),
        },
        { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), pause }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const) }) },
      );
    };
    const scenario = sizes.chain((size) =>
      fc.record({
        size: fc.constant(size),
        start: fc.oneof(fc.nat(10_000_000), fc.constant(1_767_225_600_123)),
        steps: fc.array(step(size), { maxLength: 120 }),
      }),
    );
    fc.assert(
      fc.property(scenario, ({ size, start, steps }) => {
        const window = new TimeWindow(size);
        const reference = new ReferenceWindow('time', size);
        let now = start;
        for (const s of steps) {
          if (s.kind === 'clear') {
            window.clear();
            reference.clear();
          } else {
            now += s.pause;
            if (s.kind === 'record') {
              window.record(now, s.failed, s.slow);
              reference.record(now, s.failed, s.slow);
            } else {
              window.advance(now);
              reference.advance(now);
            }
          }
          expect(totals(window)).toEqual(reference.totals());
        }
      }),
      { numRuns: 500 },
    );
  });
});
