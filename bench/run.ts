/*
 * `npm run bench`: every scenario in one process, written to bench/RESULTS.md.
 * `npm run bench:smoke`: the same with tiny batches, to standard output (or --out FILE).
 * Both transpile first (bench/build.js) and run the JavaScript with --expose-gc; see bench/README.md.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { configure } from '../src';
import { runConcurrent } from './harness/concurrent';
import { describeEnvironment } from './harness/environment';
import { runHeapGrowth } from './harness/heap-growth';
import { judgeTargets, renderReport } from './harness/report';
import { missedSimulationTargets, type SimulationReport } from './harness/simulation-report';
import { runSequential } from './harness/sequential';
import { projectRoot } from './harness/paths';
import { parseSettings, type BenchSettings } from './harness/settings';
import type {
  Scenario,
  ScenarioKind,
  ScenarioResult,
  Variant,
  VariantResult,
} from './harness/types';
import { scenarios } from './scenarios';
import { simulations } from './simulations';

// Competitors do not log; steadfast's default console logger would write every failed attempt.
configure({ logger: false });

type Runner = (
  scenario: Scenario,
  variants: readonly Variant[],
  settings: BenchSettings,
) => Promise<VariantResult[]>;
const runners: Record<ScenarioKind, Runner> = {
  sequential: runSequential,
  concurrent: runConcurrent,
  heap: runHeapGrowth,
};

function selectedVariants(scenario: Scenario, settings: BenchSettings): Variant[] {
  if (settings.variants.length === 0) return [...scenario.variants];
  return scenario.variants.filter(
    (variant) =>
      scenario.ratiosTo.includes(variant.name) ||
      settings.variants.some((wanted) => variant.name.includes(wanted)),
  );
}

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2), join(projectRoot(), 'bench', 'RESULTS.md'));
  const started = performance.now();
  const loadAtStart = loadavg()[0] ?? 0;
  const chosen = scenarios.filter(
    (scenario) =>
      settings.only.length === 0 || settings.only.some((id) => scenario.id.includes(id)),
  );
  const results: ScenarioResult[] = [];
  for (const scenario of chosen) {
    const variants = selectedVariants(scenario, settings);
    process.stderr.write(`${scenario.id}: ${variants.length} variants… `);
    const scenarioStart = performance.now();
    const rows = await runners[scenario.kind](scenario, variants, settings);
    const seconds = (performance.now() - scenarioStart) / 1000;
    process.stderr.write(`${seconds.toFixed(1)} s\n`);
    results.push({
      scenario,
      rows,
      rounds: scenario.kind === 'heap' ? 1 : settings.rounds,
      seconds,
    });
  }
  const simulated: SimulationReport[] = [];
  for (const simulation of simulations) {
    if (settings.only.length > 0 && !settings.only.some((id) => simulation.id.includes(id)))
      continue;
    process.stderr.write(`${simulation.id}: simulating… `);
    const simulationStart = performance.now();
    const result = await simulation.run(settings.smoke ? 0.05 : 1);
    const seconds = (performance.now() - simulationStart) / 1000;
    process.stderr.write(`${seconds.toFixed(1)} s\n`);
    simulated.push({ simulation, result, seconds });
  }
  const libraries = [
    ...new Set(
      chosen
        .flatMap((scenario) => scenario.variants.map((variant) => variant.library))
        .filter((name) => name !== ''),
    ),
  ];
  const seconds = (performance.now() - started) / 1000;
  const report = renderReport(
    results,
    describeEnvironment(libraries, loadAtStart),
    settings,
    seconds,
    simulated,
  );
  if (settings.out !== undefined) {
    writeFileSync(settings.out, report);
    process.stderr.write(`wrote ${settings.out}\n`);
  }
  process.stdout.write(report);
  const missed = [
    ...judgeTargets(results).filter((verdict) => verdict.met === false),
    ...missedSimulationTargets(simulated),
  ];
  if (missed.length > 0 && !settings.smoke)
    process.stderr.write(`${missed.length} target(s) missed: see the Targets table\n`);
  if (settings.only.length === 0 && settings.variants.length === 0 && !settings.smoke)
    runFleetBench();
}

/**
 * A full run ends with the fleet bench (bench/fleet/run.ts, about 45 s): what one redis-server
 * spends on a fleet's shared breakers. Its own process, since it starts a redis-server and children.
 */
function runFleetBench(): void {
  const out = join(projectRoot(), 'bench', 'FLEET-RESULTS.md');
  process.stderr.write('fleet: redis-server and child processes…\n');
  const run = spawnSync(process.execPath, [join(__dirname, 'fleet', 'run.js'), '--out', out], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (run.status === 0) process.stderr.write(`wrote ${out}\n`);
  else
    process.stderr.write(
      `the fleet bench failed (exit ${String(run.status)}): ${out} not written\n`,
    );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
