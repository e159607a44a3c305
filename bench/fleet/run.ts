/*
 * The fleet bench: what one redis-server spends on a fleet's shared breakers. N child processes,
 * each with 10 named breakers on one RedisStore, call at a steady rate; the redis-server's CPU time
 * (INFO cpu: used_cpu_sys + used_cpu_user) is read before and after each measured stretch, with
 * the calls made and the round trips sent (counted in each process and, as script runs, by Redis).
 * Reported: Redis CPU per 1,000 calls and round trips per process per second, as a function of the
 * call rate and of N.
 *
 * Then the retry storm on a fleet (budget-storm.ts): 4 processes sharing one named retry budget.
 *
 *   node bench/build.js && node .tmp/bench/bench/fleet/run.js [--seconds S] [--library DIR] [--out FILE]
 *     [--storm-seconds S] [--storm-only]
 *
 * --library DIR runs the children on another build of the library (a folder with index.js and
 * redis/index.js), to compare; the default is this checkout's src/. About 90 s with the defaults.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import Redis from 'ioredis';
import { RedisServer } from '../../test/support/redis-server';
import { budgetStorm } from './budget-storm';

interface Settings {
  readonly seconds: number;
  readonly warmUpSeconds: number;
  readonly library: string | undefined;
  readonly out: string | undefined;
  /** real seconds each retry storm runs */
  readonly stormSeconds: number;
  /** only the retry storm, not the CPU rows */
  readonly stormOnly: boolean;
}

interface Scenario {
  readonly processes: number;
  readonly callsPerSecond: number;
  readonly failureRatio: number;
}

interface Row extends Scenario {
  readonly calls: number;
  readonly seconds: number;
  readonly redisCpuMs: number;
  readonly cpuPer1000CallsUs: number;
  readonly roundTripsPerProcessPerSecond: number;
  readonly scriptRunsPerProcessPerSecond: number;
  readonly loadAverage: number;
}

/** Targets from issue 14, at about 9,000 calls/s per process. */
const CPU_TARGET_US = 300;
const FLUSH_INTERVAL_MS = 25;

function parseSettings(argv: readonly string[]): Settings {
  const value = (flag: string): string | undefined => {
    const at = argv.indexOf(flag);
    return at === -1 ? undefined : argv[at + 1];
  };
  const seconds = Number(value('--seconds') ?? '4');
  if (!(seconds > 0))
    throw new Error(`--seconds must be a positive number, got ${value('--seconds')}`);
  return {
    seconds,
    warmUpSeconds: Math.min(1.5, seconds / 2),
    library: value('--library'),
    out: value('--out'),
    stormSeconds: Number(value('--storm-seconds') ?? '10'),
    stormOnly: argv.includes('--storm-only'),
  };
}

/** One bench process (bench/fleet/worker.ts), spoken to one JSON line at a time. */
class Member {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private readonly waiting = new Map<number, (line: Record<string, unknown>) => void>();
  private nextId = 0;
  readonly ready: Promise<void>;

  constructor(redisUrl: string, library: string | undefined) {
    this.child = spawn(process.execPath, [join(__dirname, 'worker.js')], {
      env: {
        ...process.env,
        REDIS_URL: redisUrl,
        ...(library === undefined ? {} : { FLEET_BENCH_LIBRARY: library }),
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let markReady!: () => void;
    this.ready = new Promise((resolve) => (markReady = resolve));
    createInterface({ input: this.child.stdout }).on('line', (text) => {
      const line = JSON.parse(text) as Record<string, unknown>;
      if (line.ready === true) markReady();
      if (typeof line.id === 'number') {
        this.waiting.get(line.id)?.(line);
        this.waiting.delete(line.id);
      }
    });
  }

  request(command: Record<string, unknown>): Promise<{ calls: number; roundTrips: number }> {
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.waiting.set(id, (line) => resolve(line as { calls: number; roundTrips: number }));
      this.child.stdin.write(`${JSON.stringify({ ...command, id })}\n`);
    });
  }

  end(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin.end();
    });
  }
}

async function redisCpuSeconds(inspect: Redis): Promise<number> {
  const info = await inspect.info('cpu');
  const read = (name: string): number =>
    Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
  return read('used_cpu_sys') + read('used_cpu_user');
}

async function scriptRuns(inspect: Redis): Promise<number> {
  const stats = await inspect.info('commandstats');
  let calls = 0;
  for (const match of stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm))
    calls += Number(match[1]);
  return calls;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(
  scenario: Scenario,
  members: readonly Member[],
  inspect: Redis,
  settings: Settings,
): Promise<Row> {
  const active = members.slice(0, scenario.processes);
  const perProcess = {
    callsPerSecond: scenario.callsPerSecond,
    failureRatio: scenario.failureRatio,
  };
  await Promise.all(active.map((member) => member.request({ op: 'rate', ...perProcess })));
  await pause(settings.warmUpSeconds * 1000);
  const before = await Promise.all(active.map((member) => member.request({ op: 'counts' })));
  const [cpuBefore, runsBefore] = [await redisCpuSeconds(inspect), await scriptRuns(inspect)];
  const startedAt = performance.now();
  await pause(settings.seconds * 1000);
  const after = await Promise.all(active.map((member) => member.request({ op: 'counts' })));
  const seconds = (performance.now() - startedAt) / 1000;
  const [cpuAfter, runsAfter] = [await redisCpuSeconds(inspect), await scriptRuns(inspect)];
  await Promise.all(active.map((member) => member.request({ op: 'rate', callsPerSecond: 0 })));
  // Let the last batches go, so that the next scenario starts from a quiet server.
  await pause(300);
  const calls = after.reduce((sum, counts, index) => sum + counts.calls - before[index].calls, 0);
  const roundTrips = after.reduce(
    (sum, counts, index) => sum + counts.roundTrips - before[index].roundTrips,
    0,
  );
  const redisCpuMs = (cpuAfter - cpuBefore) * 1000;
  return {
    ...scenario,
    calls,
    seconds,
    redisCpuMs,
    cpuPer1000CallsUs: calls === 0 ? 0 : (redisCpuMs * 1000 * 1000) / calls,
    roundTripsPerProcessPerSecond: roundTrips / scenario.processes / seconds,
    scriptRunsPerProcessPerSecond: (runsAfter - runsBefore) / scenario.processes / seconds,
    loadAverage: loadavg()[0] ?? 0,
  };
}

function render(rows: readonly Row[], idleCpuMsPerSecond: number, settings: Settings): string {
  const header =
    '| processes | calls/s per process | failures | calls measured | Redis CPU, ms per s | Redis CPU, µs per 1,000 calls | the same, idle server subtracted | round trips per process per s (counted / script runs) | load |';
  const lines = rows.map((row) => {
    const perSecond = row.redisCpuMs / row.seconds;
    const net = Math.max(0, perSecond - idleCpuMsPerSecond) * row.seconds;
    const netPer1000 = row.calls === 0 ? 0 : (net * 1000 * 1000) / row.calls;
    const failures =
      row.failureRatio === 0
        ? 'none'
        : `1 in ${Math.round(1 / row.failureRatio).toLocaleString('en')}`;
    return `| ${row.processes} | ${row.callsPerSecond.toLocaleString('en')} | ${failures} | ${row.calls.toLocaleString('en')} | ${perSecond.toFixed(1)} | ${row.cpuPer1000CallsUs.toFixed(0)} | ${netPer1000.toFixed(0)} | ${row.roundTripsPerProcessPerSecond.toFixed(1)} / ${row.scriptRunsPerProcessPerSecond.toFixed(1)} | ${row.loadAverage.toFixed(2)} |`;
  });
  return [
    `Fleet bench: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ${settings.library === undefined ? 'this checkout' : settings.library}; ${settings.seconds} s measured per row after ${settings.warmUpSeconds} s of warm-up; load = the 1-minute load average after the row.`,
    `Each process: 10 breakers (5 consecutiveFailures, 3 count-window and 2 time-window failure rates), flushInterval ${FLUSH_INTERVAL_MS} ms (at most one round trip per flush interval: ${1000 / FLUSH_INTERVAL_MS} a second). The idle redis-server (connections open, no calls) used ${idleCpuMsPerSecond.toFixed(2)} ms of CPU a second: included in the CPU columns but the last.`,
    `Target: at most ${CPU_TARGET_US} µs of Redis CPU per 1,000 calls at about 9,000 calls/s per process.`,
    '',
    header,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...lines,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2));
  const server = await RedisServer.start({ holdsProcess: false });
  const inspect = new Redis(server.url);
  // The storm first, on a quiet machine: its children end before the CPU rows' start.
  let storm: Awaited<ReturnType<typeof budgetStorm>>;
  try {
    storm = await budgetStorm(server.url, settings.stormSeconds);
  } catch (error) {
    inspect.disconnect();
    await server.stop();
    throw error;
  }
  const scenarios: Scenario[] = settings.stormOnly
    ? []
    : [
        ...[1_000, 3_000, 9_000].map((callsPerSecond) => ({
          processes: 4,
          callsPerSecond,
          failureRatio: 0,
        })),
        ...[1, 2, 8].map((processes) => ({ processes, callsPerSecond: 9_000, failureRatio: 0 })),
        { processes: 4, callsPerSecond: 9_000, failureRatio: 0.001 },
      ];
  scenarios.sort((a, b) => a.processes - b.processes || a.callsPerSecond - b.callsPerSecond);
  const most = Math.max(0, ...scenarios.map((scenario) => scenario.processes));
  const members = Array.from({ length: most }, () => new Member(server.url, settings.library));
  try {
    await Promise.all(members.map((member) => member.ready));
    await pause(500);
    const idleBefore = await redisCpuSeconds(inspect);
    await pause(1_000);
    const idleCpuMsPerSecond = ((await redisCpuSeconds(inspect)) - idleBefore) * 1000;
    const rows: Row[] = [];
    for (const scenario of scenarios) {
      process.stderr.write(
        `${scenario.processes} × ${scenario.callsPerSecond} calls/s${scenario.failureRatio > 0 ? ` (1 in ${1 / scenario.failureRatio} failing)` : ''}… `,
      );
      const row = await measure(scenario, members, inspect, settings);
      process.stderr.write(`${row.cpuPer1000CallsUs.toFixed(0)} µs per 1,000 calls\n`);
      rows.push(row);
    }
    const report = [
      ...(settings.stormOnly ? [] : [render(rows, idleCpuMsPerSecond, settings)]),
      storm.report,
    ].join('\n');
    process.stdout.write(report);
    if (settings.out !== undefined) writeFileSync(settings.out, report);
    const missed = rows.filter(
      (row) =>
        row.callsPerSecond >= 9_000 &&
        row.failureRatio === 0 &&
        (row.cpuPer1000CallsUs > CPU_TARGET_US ||
          row.roundTripsPerProcessPerSecond > 1000 / FLUSH_INTERVAL_MS),
    );
    if (missed.length > 0) process.stderr.write(`${missed.length} row(s) missed a target\n`);
    const stormMissed = storm.targets.filter((target) => !target.met);
    if (stormMissed.length > 0)
      process.stderr.write(`${stormMissed.length} retry storm target(s) missed\n`);
  } finally {
    await Promise.all(members.map((member) => member.end()));
    inspect.disconnect();
    await server.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `fleet bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
