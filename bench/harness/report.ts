import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Environment } from './environment';
import type { BenchSettings } from './settings';
import { simulationsSection, type SimulationReport } from './simulation-report';
import type { MetricKey, ScenarioResult, Target, VariantResult } from './types';

/*
 * RESULTS.md: the environment, the method, every target with its verdict, one table per scenario,
 * and each variant's configuration. Cells hold plain numbers (units are in the headers), so the
 * tables can be read back by a program as well as by a person.
 */

interface Column {
  readonly header: string;
  readonly cell: (row: VariantResult) => string;
}

const DASH = '—';

function fixed(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? DASH : value.toFixed(digits);
}

function nanoseconds(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return DASH;
  return value >= 100 ? Math.round(value).toString() : value.toFixed(1);
}

function ratio(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return DASH;
  return value >= 100 ? Math.round(value).toString() : value.toFixed(2);
}

function columnsFor(result: ScenarioResult, clock: BenchSettings['clock']): Column[] {
  const { scenario } = result;
  const columns: Column[] = [
    { header: 'Variant', cell: (row) => row.variant.name },
    { header: 'Library', cell: (row) => row.variant.library || 'hand-written' },
  ];
  const wallColumn: Column = {
    header: 'wall ns/call',
    cell: (row) => nanoseconds(row.metrics.wallNs),
  };
  if (scenario.kind === 'heap') {
    columns.push({
      header: 'heap growth (KB)',
      cell: (row) => fixed(divide(row.metrics.heapGrowth, 1000), 1),
    });
    columns.push({ header: 'ns/call', cell: (row) => nanoseconds(row.metrics.ns) });
    if (clock === 'cpu') columns.push(wallColumn);
    return columns;
  }
  columns.push({ header: 'ns/call', cell: (row) => nanoseconds(row.metrics.ns) });
  if (scenario.attemptsPerCall > 1)
    columns.push({ header: 'ns/attempt', cell: (row) => nanoseconds(row.metrics.nsPerAttempt) });
  for (const [index, reference] of scenario.ratiosTo.entries()) {
    columns.push({
      header: `× ${shortName(reference)}`,
      cell: (row) => ratio(row.metrics[`ratio:${reference}`]),
    });
    if (index === 0) {
      columns.push({
        header: `× ${shortName(reference)} p25–p75`,
        cell: (row) => (row.spread ? `${ratio(row.spread[0])}–${ratio(row.spread[1])}` : DASH),
      });
    }
  }
  for (const reference of scenario.extraOver ?? []) {
    columns.push({
      header: `+ns over ${shortName(reference)}`,
      cell: (row) => nanoseconds(row.metrics[`extra:${reference}`]),
    });
  }
  if (scenario.references !== undefined) {
    const references = scenario.references;
    columns.push({
      header: `issue's × ${shortName(scenario.ratiosTo[0] ?? '')}`,
      cell: (row) => ratio(references[row.variant.name]),
    });
  }
  if (scenario.kind === 'concurrent') {
    columns.push({
      header: 'bytes/in-flight call',
      cell: (row) => fixed(row.metrics.bytesInFlight, 0),
    });
    columns.push({
      header: 'extra bytes/in-flight call',
      cell: (row) => fixed(row.metrics.extraBytesInFlight, 0),
    });
  }
  if (clock === 'cpu') columns.push(wallColumn);
  if (scenario.countTimers)
    columns.push({ header: 'timers/call', cell: (row) => fixed(row.metrics.timers, 2) });
  columns.push({
    header: 'calls/batch',
    cell: (row) => (row.batchCalls === undefined ? DASH : row.batchCalls.toString()),
  });
  return columns;
}

function divide(value: number | undefined, by: number): number | undefined {
  return value === undefined ? undefined : value / by;
}

/** `bare await op()` → `bare`; `hand-written retry decorator` → `hand-written`. */
function shortName(name: string): string {
  return name.split(' ')[0] ?? name;
}

function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  numericFrom = 1,
): string {
  const escape = (text: string): string => text.replace(/\|/g, '\\|');
  const align = headers.map((_, index) => (index >= numericFrom ? '---:' : '---'));
  return [headers, align, ...rows]
    .map((cells) => `| ${cells.map(escape).join(' | ')} |`)
    .join('\n');
}

function scenarioSection(result: ScenarioResult, settings: BenchSettings): string {
  const { scenario } = result;
  const columns = columnsFor(result, settings.clock);
  const rows = result.rows.map((row) => columns.map((column) => column.cell(row)));
  const how =
    scenario.kind === 'heap'
      ? `${settings.heapCalls.toLocaleString('en-US')} calls per variant after ${settings.heapWarmupCalls.toLocaleString('en-US')} warm-up calls.`
      : `${result.rounds} rounds${scenario.kind === 'concurrent' ? `, ${settings.concurrency.toLocaleString('en-US')} calls in flight per wave` : ''}; ` +
        `ns/call is the median over rounds${settings.clock === 'cpu' ? ' (CPU time; wall ns/call is the latency a caller sees, timer waits included)' : ''}, each ratio the median of the per-round ratios.`;
  return [
    `## ${scenario.title}`,
    '',
    scenario.description,
    '',
    `${how} (${result.seconds.toFixed(1)} s)`,
    '',
    table(
      columns.map((c) => c.header),
      rows,
      2,
    ),
  ].join('\n');
}

export interface TargetVerdict {
  readonly target: Target;
  readonly scenario: string;
  readonly measured: number | undefined;
  readonly met: boolean | undefined;
}

export function judgeTargets(results: readonly ScenarioResult[]): TargetVerdict[] {
  return results.flatMap((result) =>
    (result.scenario.targets ?? []).map((target) => {
      const row = result.rows.find((candidate) => candidate.variant.name === target.variant);
      const measured = row?.metrics[target.metric];
      return {
        target,
        scenario: result.scenario.title,
        measured,
        met: measured === undefined ? undefined : measured <= target.max,
      };
    }),
  );
}

function formatMetric(metric: MetricKey, value: number | undefined): string {
  if (value === undefined) return DASH;
  if (metric.startsWith('ratio:')) return `${value.toFixed(2)}×`;
  if (metric.startsWith('extra:')) return `${value >= 0 ? '+' : ''}${Math.round(value)} ns`;
  if (metric === 'ns' || metric === 'wallNs' || metric === 'nsPerAttempt')
    return value >= 1000 ? `${(value / 1000).toFixed(2)} µs` : `${Math.round(value)} ns`;
  if (metric === 'timers') return `${value.toFixed(2)} timers/call`;
  if (metric === 'heapGrowth') return `${(value / 1000).toFixed(1)} KB`;
  return `${Math.round(value)} B`;
}

function verdict(entry: TargetVerdict): string {
  const { target, measured, met } = entry;
  if (met === undefined || measured === undefined) return 'not measured';
  if (target.max === 0)
    return met ? 'met' : `**missed** (${formatMetric(target.metric, measured)})`;
  const margin = Math.abs(measured / target.max - 1) * 100;
  return met ? `met (${margin.toFixed(0)}% under)` : `**missed** by ${margin.toFixed(0)}%`;
}

function targetsSection(verdicts: readonly TargetVerdict[]): string {
  if (verdicts.length === 0) return '';
  const rows = verdicts.map((entry) => [
    entry.target.label,
    entry.scenario,
    formatMetric(entry.target.metric, entry.measured),
    formatMetric(entry.target.metric, entry.target.max),
    verdict(entry),
  ]);
  const met = verdicts.filter((entry) => entry.met === true).length;
  return [
    `## Targets: ${met} of ${verdicts.length} met`,
    '',
    table(['Target', 'Scenario', 'Measured', 'Limit', 'Verdict'], rows, 2),
  ].join('\n');
}

function configurationsSection(results: readonly ScenarioResult[]): string {
  const seen = new Map<string, VariantResult['variant']>();
  for (const result of results)
    for (const row of result.rows)
      if (!seen.has(row.variant.name)) seen.set(row.variant.name, row.variant);
  const rows = [...seen.values()].map((variant) => [
    variant.name,
    variant.library || 'hand-written',
    variant.config,
  ]);
  return [
    '## Configurations',
    '',
    'Every variant is configured as close to the others as its library allows: ' +
      '3 attempts in all (libraries that count retries get 2), zero delay between attempts, a breaker that opens after 5 consecutive failures and stays open 30 s. ' +
      'steadfast runs with `configure({ logger: false })`, since no competitor logs; with its default console logger, every failed attempt and final failure would also be written out. ' +
      'The operation is a fresh `async () => 1` per variant (a prebuilt error when it fails), and every batch checks that each call made exactly the attempts the scenario requires.',
    '',
    table(['Variant', 'Library', 'Configuration'], rows, 3),
  ].join('\n');
}

export function renderReport(
  results: readonly ScenarioResult[],
  environment: Environment,
  settings: BenchSettings,
  seconds: number,
  simulations: readonly SimulationReport[] = [],
): string {
  const libraries = [...environment.libraries.entries()]
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  const header = [
    '# Benchmarks',
    '',
    settings.smoke
      ? '> **Smoke run** (`npm run bench:smoke`): tiny batches that prove the harness works. These numbers mean nothing.'
      : `> Generated by \`npm run bench\` in ${seconds.toFixed(0)} s on ${new Date().toISOString().slice(0, 10)}. One run on one machine: compare rows within a table, not with other machines.`,
    '',
    `- **Machine:** ${environment.machine}`,
    `- **Node:** ${environment.node}`,
    `- **Load:** ${environment.load}`,
    `- **Libraries:** ${libraries}`,
    `- **Method:** one process, running bench/ and src/ transpiled by bench/build.js with tsconfig.json's options (legacy decorators); every variant has its own measuring loop compiled with \`new Function\` (no shared call-site feedback); ` +
      `each batch is calibrated to about ${settings.batchMs} ms after a warm-up of ${settings.warmupMs} ms, and preceded by a full GC and an event-loop turn; ` +
      `${settings.rounds} rounds, the variants in a new random order each round. Ratios are medians of per-round ratios. ` +
      (settings.clock === 'cpu'
        ? `Durations are the process's CPU time (user + system, GC threads included), with wall time next to it; ${settings.clockReason}.`
        : `Durations are wall time (\`performance.now()\`); ${settings.clockReason}.`),
  ];
  const verdicts = judgeTargets(results);
  return [
    header.join('\n'),
    targetsSection(verdicts),
    ...results.map((result) => scenarioSection(result, settings)),
    simulationsSection(simulations),
    configurationsSection(results),
    profileNotes(),
  ]
    .filter((section) => section !== '')
    .join('\n\n')
    .concat('\n');
}

/** bench/PROFILE.md: the hand-written before/after of the profiling work, kept in every report. */
function profileNotes(): string {
  // Transpiled into .tmp/<dir>/bench/harness; the notes stay in the source tree's bench/.
  for (const candidate of [
    join(__dirname, '..', 'PROFILE.md'),
    join(__dirname, '..', '..', '..', '..', 'bench', 'PROFILE.md'),
  ]) {
    if (existsSync(candidate)) return readFileSync(candidate, 'utf8').trim();
  }
  return '';
}
