import type { RoundsResult } from './batches';
import type { PreparedVariant } from './prepared';
import { median, quantile } from './stats';
import type { MetricKey, Scenario, VariantResult } from './types';

/**
 * Turns rounds into rows: the median ns per call; for each reference variant, the median of the
 * per-round ratios (each round's variant over the same round's reference, so drift between rounds
 * cancels) and of the per-round differences in ns; the median of each probe; heap per in-flight
 * call beyond the baseline's.
 */
export function reduceRounds(
  scenario: Scenario,
  prepared: readonly PreparedVariant[],
  rounds: RoundsResult,
  callsPerUnit: number,
): VariantResult[] {
  const names = prepared.map((entry) => entry.variant.name);
  const baselineIndex = names.indexOf(scenario.ratiosTo[0] ?? '');
  return prepared.map((entry, index): VariantResult => {
    const ns = rounds.nsPerCall[index] as number[];
    const metrics: Partial<Record<MetricKey, number>> = {
      ns: median(ns),
      wallNs: median(rounds.wallNsPerCall[index] as number[]),
    };
    if (scenario.attemptsPerCall > 1 && entry.attemptsPerCall > 0)
      metrics.nsPerAttempt = median(ns) / entry.attemptsPerCall;
    let spread: [number, number] | undefined;
    for (const reference of scenario.ratiosTo) {
      const referenceIndex = names.indexOf(reference);
      if (referenceIndex < 0) continue;
      const referenceNs = rounds.nsPerCall[referenceIndex] as number[];
      const ratios = ns.map((value, round) => value / (referenceNs[round] as number));
      metrics[`ratio:${reference}`] = median(ratios);
      metrics[`extra:${reference}`] = median(
        ns.map((value, round) => value - (referenceNs[round] as number)),
      );
      if (referenceIndex === baselineIndex)
        spread = [quantile(ratios, 0.25), quantile(ratios, 0.75)];
    }
    const probes = rounds.probes[index] as Partial<Record<MetricKey, number>>[];
    const keys = new Set(probes.flatMap((probe) => Object.keys(probe) as MetricKey[]));
    for (const key of keys) metrics[key] = median(probes.map((probe) => probe[key] as number));
    if (keys.has('bytesInFlight') && baselineIndex >= 0) {
      const baseline = rounds.probes[baselineIndex] as Partial<Record<MetricKey, number>>[];
      metrics.extraBytesInFlight = median(
        probes.map(
          (probe, round) =>
            (probe.bytesInFlight as number) - (baseline[round]?.bytesInFlight as number),
        ),
      );
    }
    return {
      variant: entry.variant,
      metrics,
      spread,
      batchCalls: (rounds.units[index] as number) * callsPerUnit,
    };
  });
}
