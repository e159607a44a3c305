import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scenario } from '../../bench/harness/types';
import { scenarios } from '../../bench/scenarios';
import { simulations } from '../../bench/simulations';

declare const STEADFAST_DECORATOR_MODE: 'legacy' | 'standard';

// The bench compiles with tsconfig.json (legacy decorators) whichever project runs this file,
// so one run proves it; the standard project would only repeat it.
const runsHere = STEADFAST_DECORATOR_MODE === 'legacy';
if (!runsHere)
  console.log(
    'bench smoke test skipped in the standard project: the bench always compiles in legacy mode, the legacy project runs it',
  );

const ROOT = join(__dirname, '..', '..');

interface Table {
  readonly headers: string[];
  readonly rows: string[][];
}

function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

/** The first Markdown table after the `## heading` line (or `### heading`, with `level`). */
function tableUnder(report: string, heading: string, level = '##'): Table {
  const lines = report.split('\n');
  const start = lines.indexOf(`${level} ${heading}`);
  if (start < 0) throw new Error(`no section '${level} ${heading}'`);
  const first = lines.findIndex((line, index) => index > start && line.startsWith('|'));
  const block: string[] = [];
  for (let index = first; index < lines.length && (lines[index] as string).startsWith('|'); index++)
    block.push(lines[index] as string);
  const [header, separator, ...rows] = block.map(cells);
  expect(separator?.every((cell) => /^:?-{3,}:?$/.test(cell))).toBe(true);
  return { headers: header ?? [], rows };
}

function isNumber(cell: string | undefined): boolean {
  return cell !== undefined && /^-?\d+(\.\d+)?$/.test(cell);
}

function numericColumns(scenario: Scenario): string[] {
  if (scenario.kind === 'heap') return ['heap growth (KB)', 'ns/call'];
  const columns = ['ns/call', ...scenario.ratiosTo.map((name) => `× ${name.split(' ')[0]}`)];
  if (scenario.kind === 'concurrent') columns.push('bytes/in-flight call');
  if (scenario.countTimers) columns.push('timers/call');
  return columns;
}

(runsHere ? describe : describe.skip)('the bench harness (npm run bench:smoke)', () => {
  let report = '';

  beforeAll(() => {
    const directory = mkdtempSync(join(tmpdir(), 'steadfast-bench-'));
    try {
      const out = join(directory, 'RESULTS.md');
      const run = spawnSync('npm', ['run', '--silent', 'bench:smoke', '--', '--out', out], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 90_000,
      });
      if (run.status !== 0)
        throw new Error(`npm run bench:smoke failed (${run.status ?? run.signal}):\n${run.stderr}`);
      report = readFileSync(out, 'utf8');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }, 100_000);

  it('reports the machine, Node and every library version', () => {
    expect(report).toMatch(/^- \*\*Machine:\*\* .+/m);
    expect(report).toContain(`- **Node:** ${process.version}`);
    for (const library of [
      'steadfast',
      'cockatiel',
      'opossum',
      'p-retry',
      'async-retry',
      'typescript-retry-decorator',
    ]) {
      expect(report).toMatch(
        new RegExp(`\\*\\*Libraries:\\*\\*.*\\b${library} \\d+\\.\\d+\\.\\d+`),
      );
    }
  });

  it.each(scenarios.map((scenario) => [scenario.id, scenario] as const))(
    'has a well-formed table with every variant of %s',
    (_id, scenario) => {
      const { headers, rows } = tableUnder(report, scenario.title);
      expect(headers[0]).toBe('Variant');
      for (const row of rows) expect(row).toHaveLength(headers.length);
      expect(rows.map((row) => row[0])).toEqual(scenario.variants.map((variant) => variant.name));
      for (const column of numericColumns(scenario)) {
        const index = headers.indexOf(column);
        expect({ column, index }).toEqual({ column, index: expect.any(Number) as number });
        expect(index).toBeGreaterThan(0);
        for (const row of rows)
          expect({
            variant: row[0],
            column,
            cell: row[index],
            numeric: isNumber(row[index]),
          }).toMatchObject({ numeric: true });
      }
    },
  );

  it('judges every target', () => {
    const { rows } = tableUnder(report, report.match(/^## (Targets: .*)$/m)?.[1] ?? 'Targets');
    const targets = scenarios.flatMap((scenario) => scenario.targets ?? []);
    expect(rows.map((row) => row[0])).toEqual(targets.map((target) => target.label));
    for (const row of rows) expect(row[4]).toMatch(/^(met|\*\*missed\*\*)/);
  });

  it('runs every simulation, with its table and a verdict on each of its targets', () => {
    const heading = report.match(/^## (Simulations: .*)$/m)?.[1] ?? 'Simulations';
    const { rows } = tableUnder(report, heading);
    expect(rows.length).toBeGreaterThanOrEqual(simulations.length);
    for (const row of rows) expect(row[3]).toMatch(/^(met|\*\*missed\*\*)$/);
    for (const simulation of simulations) {
      const { rows: figures } = tableUnder(report, simulation.title, '###');
      expect(figures.length).toBeGreaterThan(1);
    }
  });
});
