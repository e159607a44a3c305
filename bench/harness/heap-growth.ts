import { heapUsed, settleHeap } from './batches';
import { compileSequentialLoop } from './compile';
import { disposeAll, prepareVariant, type PreparedVariant } from './prepared';
import { measured, type BenchSettings } from './settings';
import type { Scenario, VariantResult } from './types';

/**
 * Heap growth over `heapCalls` sequential calls, after `heapWarmupCalls` calls so that compiled
 * code and lazily built state are in place: what stays behind is what the calls leak.
 */
export async function runHeapGrowth(
  scenario: Scenario,
  variants: Scenario['variants'],
  settings: BenchSettings,
): Promise<VariantResult[]> {
  const prepared: PreparedVariant[] = [];
  const rows: VariantResult[] = [];
  try {
    for (const variant of variants) prepared.push(await prepareVariant(scenario, variant));
    for (const entry of prepared) {
      const loop = compileSequentialLoop(entry.variant.name, entry.invoke, scenario.outcome);
      const { target } = entry.subject;
      await loop(target, settings.heapWarmupCalls);
      await settleHeap();
      const before = heapUsed();
      const calls = entry.operation.calls;
      const elapsed = await loop(target, settings.heapCalls);
      entry.checkAttempts(calls, settings.heapCalls);
      await settleHeap();
      const growth = heapUsed() - before;
      rows.push({
        variant: entry.variant,
        metrics: {
          heapGrowth: growth,
          ns: (measured(settings, elapsed) * 1e6) / settings.heapCalls,
          wallNs: (elapsed.wall * 1e6) / settings.heapCalls,
        },
        batchCalls: settings.heapCalls,
      });
    }
    return rows;
  } finally {
    await disposeAll(prepared);
  }
}
