import { fullGc, heapUsed, runRounds, settleHeap, type Batchable } from './batches';
import { compileWaveLoop } from './compile';
import type { Gate } from './operations';
import { disposeAll, prepareVariant, type PreparedVariant } from './prepared';
import { reduceRounds } from './reduce';
import type { BenchSettings } from './settings';
import type { Scenario, VariantResult } from './types';

/**
 * Waves of `concurrency` calls in flight at once on a gated operation: ns per call (start all,
 * open the gate, await all), and after each batch the heap each call holds while in flight.
 */
export async function runConcurrent(
  scenario: Scenario,
  variants: Scenario['variants'],
  settings: BenchSettings,
): Promise<VariantResult[]> {
  if (scenario.operation !== 'gated')
    throw new Error(`${scenario.id}: a concurrent scenario needs a 'gated' operation`);
  const width = settings.concurrency;
  const slots: unknown[] = new Array<unknown>(width).fill(null);
  const prepared: PreparedVariant[] = [];
  try {
    for (const variant of variants) prepared.push(await prepareVariant(scenario, variant));
    const items = prepared.map((entry): Batchable => {
      const loop = compileWaveLoop(entry.variant.name, entry.invoke);
      const { target } = entry.subject;
      const gate = entry.operation.gate as Gate;
      return {
        name: entry.variant.name,
        callsPerUnit: width,
        async run(waves) {
          const before = entry.operation.calls;
          const elapsed = await loop(target, waves, gate, slots);
          entry.checkAttempts(before, waves * width);
          return elapsed;
        },
        probe: async () => ({ bytesInFlight: await bytesInFlight(entry, gate, slots) }),
      };
    });
    return reduceRounds(scenario, prepared, await runRounds(items, settings), width);
  } finally {
    await disposeAll(prepared);
  }
}

/** Heap held per call while `slots.length` calls wait on the gate, after a full GC. */
async function bytesInFlight(
  entry: PreparedVariant,
  gate: Gate,
  slots: unknown[],
): Promise<number> {
  const { target } = entry.subject;
  gate.arm();
  await settleHeap();
  const before = heapUsed();
  for (let i = 0; i < slots.length; i++) slots[i] = entry.call(target);
  fullGc();
  fullGc();
  const held = heapUsed() - before;
  gate.open();
  for (let i = 0; i < slots.length; i++) await slots[i];
  slots.fill(null);
  return held / slots.length;
}
