import {
  targetMet,
  type Simulation,
  type SimulationResult,
  type SimulationTarget,
} from '../simulations/simulation';

/** One simulation with what it measured, for RESULTS.md. */
export interface SimulationReport {
  readonly simulation: Simulation;
  readonly result: SimulationResult;
  readonly seconds: number;
}

function limitOf(target: SimulationTarget): string {
  const unit = target.unit === undefined ? '' : ` ${target.unit}`;
  if (target.min !== undefined && target.max !== undefined)
    return `${target.min}–${target.max}${unit}`;
  if (target.max !== undefined) return `≤ ${target.max}${unit}`;
  return `≥ ${target.min ?? 0}${unit}`;
}

function measuredOf(target: SimulationTarget): string {
  const digits = Math.abs(target.value) >= 10 ? 1 : 3;
  return `${target.value.toFixed(digits)}${target.unit === undefined ? '' : ` ${target.unit}`}`;
}

export function missedSimulationTargets(reports: readonly SimulationReport[]): SimulationTarget[] {
  return reports.flatMap((report) => report.result.targets.filter((target) => !targetMet(target)));
}

/** "## Simulations": behaviour under load on a FakeClock, so the same figures on every machine. */
export function simulationsSection(reports: readonly SimulationReport[]): string {
  if (reports.length === 0) return '';
  const targets = reports.flatMap((report) => report.result.targets);
  const met = targets.filter(targetMet).length;
  const rows = targets.map(
    (target) =>
      `| ${target.label} | ${measuredOf(target)} | ${limitOf(target)} | ${targetMet(target) ? 'met' : '**missed**'} |`,
  );
  return [
    `## Simulations: ${met} of ${targets.length} targets met`,
    '',
    'These measure behaviour, not speed: each runs the real decorators on a `FakeClock` with seeded randomness, so the figures are the same on every machine and every run.',
    '',
    '| Target | Measured | Limit | Verdict |',
    '| --- | ---: | ---: | --- |',
    ...rows,
    ...reports.flatMap((report) => [
      '',
      `### ${report.simulation.title}`,
      '',
      report.simulation.description,
      '',
      report.result.table,
    ]),
  ].join('\n');
}
