import { configure, Idempotent, Retryable, systemClock } from '../../src';
import { FakeClock } from '../../src/testing';
import { seededRandom } from './seeded-random';
import type { Simulation, SimulationResult } from './simulation';

const CALLERS = 200;
const SIMULATED_MS = 30_000;
/** each caller calls, then thinks this long: 200 callers make about 2,000 calls a second */
const THINK_MS = 100;
const DEPENDENCY_MS = 5;
const BUDGET = { ratio: 0.1, minPerSecond: 10, window: 10_000 } as const;

interface StormFigures {
  readonly callerCalls: number;
  readonly dependencyCalls: number;
  readonly succeeded: number;
}

async function storm(
  failureRate: number,
  budget: boolean,
  simulatedMs: number,
): Promise<StormFigures> {
  const clock = new FakeClock(0);
  const random = seededRandom(42);
  const failing = seededRandom(7);
  configure({ clock, random, logger: false, retryBudget: budget ? BUDGET : false });
  let dependencyCalls = 0;
  const dependency = async (): Promise<string> => {
    dependencyCalls++;
    await clock.sleep(DEPENDENCY_MS);
    if (failing() < failureRate) throw new Error('dependency failed');
    return 'ok';
  };
  class Client {
    @Idempotent()
    @Retryable({ maxAttempts: 4, initialDelay: 50, maxDelay: 1_000 })
    call(): Promise<string> {
      return dependency();
    }
  }
  const client = new Client();
  let callerCalls = 0;
  let succeeded = 0;
  const caller = async (): Promise<void> => {
    await clock.sleep(random() * THINK_MS);
    while (clock.now() < simulatedMs) {
      callerCalls++;
      if (
        await client.call().then(
          () => true,
          () => false,
        )
      )
        succeeded++;
      await clock.sleep(THINK_MS);
    }
  };
  const callers = Promise.all(Array.from({ length: CALLERS }, caller));
  let done = false;
  void callers.then(() => (done = true));
  while (!done && (await clock.next()));
  await callers;
  return { callerCalls, dependencyCalls, succeeded };
}

/**
 * A dependency that is down, and 200 callers that each allow 4 attempts: how much load they send it,
 * with and without a retry budget; and, with 10 % of calls failing, how many calls still succeed
 * with the budget.
 */
export const retryStorm: Simulation = {
  id: 'retry-storm',
  title: 'Retry storm: load on a failing dependency, with and without a retry budget',
  description:
    `${CALLERS} concurrent callers, each calling, then thinking ${THINK_MS} ms (about 2,000 calls a second), for ${SIMULATED_MS / 1000} simulated seconds on a FakeClock, ` +
    `through \`@Retryable({ maxAttempts: 4, initialDelay: 50, maxDelay: 1_000 })\` (full jitter) to a dependency that answers in ${DEPENDENCY_MS} ms. ` +
    `Load amplification is dependency calls / caller calls. The budget is \`configure({ retryBudget: { ratio: ${BUDGET.ratio}, minPerSecond: ${BUDGET.minPerSecond}, window: ${BUDGET.window} } })\`.`,
  async run(scale: number): Promise<SimulationResult> {
    const simulatedMs = SIMULATED_MS * scale;
    try {
      const downNoBudget = await storm(1, false, simulatedMs);
      const downBudget = await storm(1, true, simulatedMs);
      const flakyBudget = await storm(0.1, true, simulatedMs);
      const flakyNoBudget = await storm(0.1, false, simulatedMs);
      const amplification = (figures: StormFigures): number =>
        figures.dependencyCalls / figures.callerCalls;
      const success = (figures: StormFigures): number => figures.succeeded / figures.callerCalls;
      const row = (label: string, figures: StormFigures): string =>
        `| ${label} | ${figures.callerCalls} | ${figures.dependencyCalls} | ${amplification(figures).toFixed(3)} | ${(success(figures) * 100).toFixed(2)} % |`;
      const table = [
        '| dependency, retry budget | caller calls | dependency calls | load amplification | calls that succeeded |',
        '| --- | ---: | ---: | ---: | ---: |',
        row('down (100 % failures), no budget', downNoBudget),
        row('down (100 % failures), budget', downBudget),
        row('10 % failures, no budget', flakyNoBudget),
        row('10 % failures, budget', flakyBudget),
      ].join('\n');
      return {
        table,
        targets: [
          {
            label: 'a dead dependency, with the budget: load amplification at most 1.2',
            value: amplification(downBudget),
            max: 1.2,
          },
          {
            label: 'a dead dependency, without a budget: 4.0 (the attempts each call allows)',
            value: amplification(downNoBudget),
            min: 3.99,
            max: 4.0,
          },
          {
            label: '10 % failures, with the budget: at least 99 % of calls succeed',
            value: success(flakyBudget) * 100,
            min: 99,
            unit: '%',
          },
        ],
      };
    } finally {
      configure({ clock: systemClock, random: () => Math.random(), retryBudget: false });
    }
  },
};
