import { configure, Hedge, Idempotent, systemClock, type HedgeOptions } from '../../src';
import { FakeClock } from '../../src/testing';
import { percentileOf, seededRandom } from './seeded-random';
import type { Simulation, SimulationResult } from './simulation';

const CALLS = 2_000;
const CONCURRENCY = 20;
const FAST_MS = 5;
const SLOW_MS = 200;
const SLOW_SHARE = 0.05;
const HEDGE: HedgeOptions = { delay: { percentile: 0.9, min: 1, max: 100 } };

interface TailFigures {
  readonly p50: number;
  readonly p99: number;
  /** extra attempts / calls */
  readonly extraLoad: number;
}

async function run(hedged: boolean, calls: number): Promise<TailFigures> {
  const clock = new FakeClock(0);
  const slow = seededRandom(11);
  configure({ clock, random: seededRandom(3), logger: false, retryBudget: false });
  let attempts = 0;
  const dependency = async (): Promise<string> => {
    attempts++;
    await clock.sleep(slow() < SLOW_SHARE ? SLOW_MS : FAST_MS);
    return 'ok';
  };
  class Plain {
    @Idempotent()
    read(): Promise<string> {
      return dependency();
    }
  }
  class Hedged {
    @Idempotent()
    @Hedge(HEDGE)
    read(): Promise<string> {
      return dependency();
    }
  }
  const service = hedged ? new Hedged() : new Plain();
  const latencies: number[] = [];
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < calls) {
      started++;
      const at = clock.now();
      await service.read();
      latencies.push(clock.now() - at);
    }
  };
  const workers = Promise.all(Array.from({ length: CONCURRENCY }, worker));
  let done = false;
  void workers.then(() => (done = true));
  while (!done && (await clock.next()));
  await workers;
  return {
    p50: percentileOf(latencies, 0.5),
    p99: percentileOf(latencies, 0.99),
    extraLoad: attempts / calls - 1,
  };
}

/** A dependency with a slow tail: p99 with adaptive hedging against none, and the extra load it costs. */
export const tailLatency: Simulation = {
  id: 'tail-latency',
  title: 'Tail latency: adaptive hedging against a slow 5 %',
  description:
    `A dependency that answers in ${FAST_MS} ms for ${100 - SLOW_SHARE * 100} % of calls and ${SLOW_MS} ms for ${SLOW_SHARE * 100} % (independently per attempt), ` +
    `${CALLS} calls at concurrency ${CONCURRENCY}, on a FakeClock; hedged with \`@Hedge({ delay: { percentile: 0.9, min: 1, max: 100 } })\` ` +
    '(maxHedged 1, maxExtraLoad 0.1, the defaults). Extra load is extra attempts per call.',
  async run(scale: number): Promise<SimulationResult> {
    const calls = Math.max(100, Math.round(CALLS * scale));
    try {
      const plain = await run(false, calls);
      const hedged = await run(true, calls);
      const row = (label: string, figures: TailFigures): string =>
        `| ${label} | ${figures.p50.toFixed(1)} ms | ${figures.p99.toFixed(1)} ms | ${(figures.extraLoad * 100).toFixed(1)} % |`;
      const table = [
        '| | p50 | p99 | extra attempts |',
        '| --- | ---: | ---: | ---: |',
        row('no hedging', plain),
        row('adaptive hedging', hedged),
      ].join('\n');
      return {
        table,
        targets: [
          {
            label: 'hedged p99 at most 0.25 × the unhedged p99',
            value: hedged.p99 / plain.p99,
            max: 0.25,
            unit: '×',
          },
          {
            label: 'hedging costs at most 12 % extra attempts',
            value: hedged.extraLoad * 100,
            max: 12,
            unit: '%',
          },
        ],
      };
    } finally {
      configure({ clock: systemClock, random: () => Math.random() });
    }
  },
};
