/*
 * The retry storm of bench/simulations/retry-storm.ts, on a real fleet: PROCESSES child processes
 * (bench/fleet/budget-storm-worker.ts) × CALLERS concurrent callers, each call allowing 4 attempts,
 * sharing one named retry budget on one redis-server, in real time. Reported: load amplification
 * (dependency calls / caller calls) with the dependency down, and the success rate at 10 % failures.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

export const STORM_PROCESSES = 4;
export const STORM_CALLERS = 50;
const BUDGET = { ratio: 0.1, minPerSecond: 10, window: 10_000 } as const;

interface StormFigures {
  readonly callerCalls: number;
  readonly dependencyCalls: number;
  readonly succeeded: number;
}

export interface StormRow extends StormFigures {
  readonly label: string;
  readonly failureRate: number;
  readonly budget: boolean;
}

export interface StormTarget {
  readonly label: string;
  readonly value: number;
  readonly met: boolean;
}

/** Runs one storm: every process started, then told to go at once; the figures summed. */
async function storm(
  redisUrl: string,
  failureRate: number,
  budget: object | false,
  seconds: number,
): Promise<StormFigures> {
  const children: ChildProcessByStdio<Writable, Readable, null>[] = [];
  const results: Promise<StormFigures>[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < STORM_PROCESSES; i++) {
    const child = spawn(process.execPath, [join(__dirname, 'budget-storm-worker.js')], {
      env: {
        ...process.env,
        REDIS_URL: redisUrl,
        STORM_FAILURE: String(failureRate),
        STORM_SECONDS: String(seconds),
        STORM_CALLERS: String(STORM_CALLERS),
        STORM_BUDGET: JSON.stringify(budget),
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(child);
    const lines = createInterface({ input: child.stdout });
    ready.push(new Promise((resolve) => lines.once('line', () => resolve())));
    results.push(
      new Promise((resolve, reject) => {
        let last: StormFigures | undefined;
        lines.on('line', (text) => {
          const line = JSON.parse(text) as StormFigures & { ready?: boolean };
          if (line.ready !== true) last = line;
        });
        child.once('exit', (code) =>
          last === undefined
            ? reject(new Error(`storm worker exited with ${code}`))
            : resolve(last),
        );
      }),
    );
  }
  await Promise.all(ready);
  for (const child of children) child.stdin.write('go\n');
  const figures = await Promise.all(results);
  return figures.reduce((sum, one) => ({
    callerCalls: sum.callerCalls + one.callerCalls,
    dependencyCalls: sum.dependencyCalls + one.dependencyCalls,
    succeeded: sum.succeeded + one.succeeded,
  }));
}

const amplification = (row: StormFigures): number => row.dependencyCalls / row.callerCalls;
const success = (row: StormFigures): number => row.succeeded / row.callerCalls;

/** The three storms (down without a budget, down with the fleet's, 10 % failures with it) and their table. */
export async function budgetStorm(
  redisUrl: string,
  seconds: number,
): Promise<{ rows: StormRow[]; targets: StormTarget[]; report: string }> {
  const plan: { label: string; failureRate: number; budget: boolean }[] = [
    { label: 'down (100 % failures), no budget', failureRate: 1, budget: false },
    { label: 'down (100 % failures), one fleet budget', failureRate: 1, budget: true },
    { label: '10 % failures, one fleet budget', failureRate: 0.1, budget: true },
  ];
  const rows: StormRow[] = [];
  for (const [index, step] of plan.entries()) {
    process.stderr.write(`retry storm, ${step.label}… `);
    // A budget of its own name per row: the counts of one storm are not the next one's.
    const budget = step.budget ? { name: `bench-storm-${index}`, ...BUDGET } : false;
    const figures = await storm(redisUrl, step.failureRate, budget, seconds);
    rows.push({ ...step, ...figures });
    process.stderr.write(
      `amplification ${amplification(figures).toFixed(3)}, ${(success(figures) * 100).toFixed(2)} % succeeded\n`,
    );
  }
  const [downNoBudget, downBudget, flaky] = rows as [StormRow, StormRow, StormRow];
  const targets: StormTarget[] = [
    {
      label: 'a dead dependency, one fleet budget: load amplification at most 1.2',
      value: amplification(downBudget),
      met: amplification(downBudget) <= 1.2,
    },
    {
      label: 'a dead dependency, no budget: 4.0',
      value: amplification(downNoBudget),
      met: amplification(downNoBudget) >= 3.99,
    },
    {
      label: '10 % failures, one fleet budget: at least 99 % of calls succeed',
      value: success(flaky) * 100,
      met: success(flaky) >= 0.99,
    },
  ];
  const report = [
    `Retry storm on a fleet: ${STORM_PROCESSES} processes × ${STORM_CALLERS} concurrent callers, each calling, then thinking 100 ms, for ${seconds} s of real time, through \`@Retryable({ maxAttempts: 4, initialDelay: 50, maxDelay: 1_000, budget })\` to a dependency in each process that answers in 5 ms. The budget is one named budget \`{ name, ratio: ${BUDGET.ratio}, minPerSecond: ${BUDGET.minPerSecond}, window: ${BUDGET.window} }\` on one RedisStore (flushInterval 25 ms) shared by the 4 processes. Load amplification is dependency calls / caller calls.`,
    '',
    '| dependency, retry budget | caller calls | dependency calls | load amplification | calls that succeeded |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (row) =>
        `| ${row.label} | ${row.callerCalls.toLocaleString('en')} | ${row.dependencyCalls.toLocaleString('en')} | ${amplification(row).toFixed(3)} | ${(success(row) * 100).toFixed(2)} % |`,
    ),
    '',
    ...targets.map(
      (target) =>
        `- ${target.met ? 'met' : 'MISSED'}: ${target.label} (${target.value.toFixed(3)})`,
    ),
    '',
  ].join('\n');
  return { rows, targets, report };
}
