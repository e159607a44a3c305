import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import type { Elapsed } from './compile';

/** How long and how hard to measure; `--smoke` shrinks everything so that a run proves the harness works. */
export interface BenchSettings {
  readonly smoke: boolean;
  /** target duration of one measured batch, ms */
  readonly batchMs: number;
  /** measured rounds; every variant runs one batch per round, in a shuffled order */
  readonly rounds: number;
  /** warm-up per variant before the first round, ms (at least one batch) */
  readonly warmupMs: number;
  /** calls in flight at once in concurrent scenarios */
  readonly concurrency: number;
  /** calls whose heap growth heap scenarios measure, after `heapWarmupCalls` */
  readonly heapCalls: number;
  readonly heapWarmupCalls: number;
  /** calls made with the timer counter on */
  readonly timerProbeCalls: number;
  /**
   * What ns/call and the ratios are read from: 'wall' (performance.now) or 'cpu' (the process's
   * user + system CPU time, GC threads included), which other processes competing for the cores
   * skew far less. With 'cpu', wall time is reported too: waiting on a timer costs no CPU.
   */
  readonly clock: 'wall' | 'cpu';
  /** why that clock: given on the command line, or chosen by `--clock auto` (the default) from the load */
  readonly clockReason: string;
  /** where the Markdown report goes (default bench/RESULTS.md for a full run); undefined: standard output only */
  readonly out: string | undefined;
  /** run only scenarios whose id contains one of these */
  readonly only: readonly string[];
  /** run only variants whose name contains one of these (plus each scenario's ratio references) */
  readonly variants: readonly string[];
}

const FULL = {
  batchMs: 60,
  rounds: 11,
  warmupMs: 250,
  concurrency: 10_000,
  heapCalls: 1_000_000,
  heapWarmupCalls: 100_000,
  timerProbeCalls: 30,
};
const SMOKE = {
  batchMs: 1,
  rounds: 2,
  warmupMs: 0,
  concurrency: 50,
  heapCalls: 2_000,
  heapWarmupCalls: 200,
  timerProbeCalls: 3,
};

const USAGE = `usage: bench/run.ts [--smoke] [--out FILE] [--rounds N] [--batch-ms MS] [--clock auto|wall|cpu] [--only SCENARIO]... [--variant NAME]...`;

/** Reads the command line: `--smoke`, `--out`, `--rounds`, `--batch-ms`, `--only`, `--variant`. */
export function parseSettings(argv: readonly string[], defaultOut: string): BenchSettings {
  const smoke = argv.includes('--smoke');
  const base = smoke ? SMOKE : FULL;
  let out: string | undefined = smoke ? undefined : defaultOut;
  let rounds = base.rounds;
  let batchMs = base.batchMs;
  let clockOption = 'auto';
  const only: string[] = [];
  const variants: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return next;
    };
    switch (flag) {
      case '--smoke':
        break;
      case '--out':
        out = resolve(value());
        break;
      case '--rounds':
        rounds = positiveInteger(flag, value());
        break;
      case '--batch-ms':
        batchMs = positiveInteger(flag, value());
        break;
      case '--clock':
        clockOption = value();
        if (!['auto', 'wall', 'cpu'].includes(clockOption))
          throw new Error(`--clock must be auto, wall or cpu, got ${clockOption}`);
        break;
      case '--only':
        only.push(value());
        break;
      case '--variant':
        variants.push(value());
        break;
      default:
        throw new Error(`unknown argument ${flag}\n${USAGE}`);
    }
  }
  // A partial run (--only, --variant) never overwrites the full results unless --out says so.
  if (!argv.includes('--out') && (only.length > 0 || variants.length > 0)) out = undefined;
  const { clock, clockReason } = chooseClock(clockOption);
  return { ...base, smoke, out, rounds, batchMs, clock, clockReason, only, variants };
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${flag} must be a positive integer, got ${text}`);
  return value;
}

/**
 * `auto` measures wall time on a quiet machine, and CPU time when other processes keep the cores
 * busy (1-minute load average above half the cores): their time slices then land in wall-clock
 * batches at random and swamp the differences being measured.
 */
function chooseClock(option: string): { clock: 'wall' | 'cpu'; clockReason: string } {
  if (option === 'wall' || option === 'cpu')
    return { clock: option, clockReason: `chosen with \`--clock ${option}\`` };
  const cores = cpus().length;
  const load = loadavg()[0] ?? 0;
  const busy = load > cores / 2;
  return {
    clock: busy ? 'cpu' : 'wall',
    clockReason: `\`--clock auto\` chose it: the 1-minute load average was ${load.toFixed(1)} on ${cores} cores at the start${busy ? ', so other processes were competing for them' : ''}`,
  };
}

/** A batch's duration by the clock the report uses. */
export function measured(settings: BenchSettings, elapsed: Elapsed): number {
  return settings.clock === 'cpu' ? elapsed.cpu : elapsed.wall;
}
