import type { Elapsed } from './compile';
import { measured, type BenchSettings } from './settings';
import { shuffle } from './stats';
import type { MetricKey } from './types';

/** Something measured in batches: one variant's compiled loop, with its checks. */
export interface Batchable {
  readonly name: string;
  /** runs `units` units (calls, or waves of calls), checks them, and returns how long they took */
  run(units: number): Promise<Elapsed>;
  /** calls per unit */
  readonly callsPerUnit: number;
  /** measured after its batch in the first PROBE_ROUNDS rounds, outside the timed loop; each metric's median is reported */
  probe?(): Promise<Partial<Record<MetricKey, number>>>;
}

export interface RoundsResult {
  /** units per batch, per batchable */
  readonly units: number[];
  /** ns per call by the report's clock, per batchable, per round */
  readonly nsPerCall: number[][];
  /** ns per call of wall time, per batchable, per round */
  readonly wallNsPerCall: number[][];
  /** probe results, per batchable, per probed round */
  readonly probes: Partial<Record<MetricKey, number>>[][];
}

/** Probes (heap readings) are deterministic to the byte; three rounds show that without slowing every round. */
const PROBE_ROUNDS = 3;

export function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('the bench needs --expose-gc: run it with `npm run bench`');
  gc();
}

export function eventLoopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Before every batch: let pending callbacks run, then collect everything, so no batch pays for another's garbage. */
export async function settle(): Promise<void> {
  await eventLoopTurn();
  fullGc();
}

/** Before a heap reading: a second full GC frees what the first only made collectable (weak and finalized objects). */
export async function settleHeap(): Promise<void> {
  await settle();
  fullGc();
}

export function heapUsed(): number {
  return process.memoryUsage().heapUsed;
}

/** Sizes batches by the longer of the two clocks: a variant that waits on timers spends wall time, not CPU. */
function longer(elapsed: Elapsed): number {
  return Math.max(elapsed.wall, elapsed.cpu);
}

/** Finds how many units take about `batchMs`, then warms up for `warmupMs` (at least one batch). */
export async function calibrate(item: Batchable, settings: BenchSettings): Promise<number> {
  const probeMs = Math.max(settings.batchMs / 8, 0.25);
  let units = 1;
  let elapsed: number;
  // Sizing runs need no GC before them: only the warm-up batches below set the final size.
  for (;;) {
    elapsed = longer(await item.run(units));
    if (elapsed >= probeMs || units >= 1 << 30) break;
    units *= elapsed <= 0 ? 16 : Math.min(16, Math.max(2, Math.ceil((probeMs / elapsed) * 1.5)));
  }
  units = scaled(units, elapsed, settings.batchMs);
  let spent = 0;
  do {
    await settle();
    elapsed = longer(await item.run(units));
    spent += elapsed;
    units = scaled(units, elapsed, settings.batchMs);
  } while (spent < settings.warmupMs);
  return units;
}

function scaled(units: number, elapsed: number, batchMs: number): number {
  return Math.max(1, Math.round(elapsed <= 0 ? units * 16 : (units * batchMs) / elapsed));
}

/** Every item once per round, in a new random order each round, each batch after a full GC and an event-loop turn. */
export async function runRounds(
  items: readonly Batchable[],
  settings: BenchSettings,
): Promise<RoundsResult> {
  const units: number[] = [];
  for (const item of items) units.push(await calibrate(item, settings));
  const nsPerCall: number[][] = items.map(() => []);
  const wallNsPerCall: number[][] = items.map(() => []);
  const probes: Partial<Record<MetricKey, number>>[][] = items.map(() => []);
  const order = items.map((_, index) => index);
  for (let round = 0; round < settings.rounds; round++) {
    for (const index of shuffle(order)) {
      const item = items[index] as Batchable;
      const calls = (units[index] as number) * item.callsPerUnit;
      await settle();
      const elapsed = await item.run(units[index] as number);
      (nsPerCall[index] as number[]).push((measured(settings, elapsed) * 1e6) / calls);
      (wallNsPerCall[index] as number[]).push((elapsed.wall * 1e6) / calls);
      if (item.probe !== undefined && round < PROBE_ROUNDS)
        (probes[index] as Partial<Record<MetricKey, number>>[]).push(await item.probe());
    }
  }
  return { units, nsPerCall, wallNsPerCall, probes };
}
