import { runRounds, type Batchable } from './batches';
import { compileSequentialLoop } from './compile';
import { disposeAll, prepareVariant, type PreparedVariant } from './prepared';
import { reduceRounds } from './reduce';
import type { BenchSettings } from './settings';
import { timersPerCall } from './timers';
import type { Scenario, VariantResult } from './types';

/** Calls awaited one after the other: ns per call, ratios, and optionally timers per call. */
export async function runSequential(
  scenario: Scenario,
  variants: Scenario['variants'],
  settings: BenchSettings,
): Promise<VariantResult[]> {
  const prepared: PreparedVariant[] = [];
  try {
    for (const variant of variants) prepared.push(await prepareVariant(scenario, variant));
    const items = prepared.map((entry): Batchable => {
      const loop = compileSequentialLoop(entry.variant.name, entry.invoke, scenario.outcome);
      const { target } = entry.subject;
      return {
        name: entry.variant.name,
        callsPerUnit: 1,
        async run(units) {
          const before = entry.operation.calls;
          try {
            const elapsed = await loop(target, units);
            entry.checkAttempts(before, units);
            return elapsed;
          } finally {
            entry.subject.afterBatch?.();
          }
        },
      };
    });
    const rounds = await runRounds(items, settings);
    const rows = reduceRounds(scenario, prepared, rounds, 1);
    if (scenario.countTimers) {
      for (const [index, entry] of prepared.entries()) {
        const timers = await timersPerCall(
          () => entry.call(entry.subject.target),
          settings.timerProbeCalls,
        );
        (rows[index] as VariantResult).metrics.timers = timers;
      }
    }
    return rows;
  } finally {
    await disposeAll(prepared);
  }
}
