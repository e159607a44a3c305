// NestJS 12 ships as ES modules only, which this CommonJS jest setup cannot load. So the NestJS 12
// application lives in an isolated project (test/e2e/nest12, its own package.json and lock, installed
// by the root's `pretest`), is compiled there with tsc as an ES-module project (nodenext), runs on
// Node against the packed steadfast, and reports what it saw as JSON.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { installPackedSteadfast, requireBuild, ROOT } from '../support/built-package';

requireBuild();

const PROJECT = path.join(ROOT, 'test', 'e2e', 'nest12');

interface Report {
  readonly node: string;
  readonly nest: string;
  readonly results: { name: string; ok: boolean; detail: unknown }[];
}

function node(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd: PROJECT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        });
      },
    );
  });
}

describe('NestJS 12, as an ES-module application on the packed steadfast', () => {
  let report: Report;
  let compile: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    if (!fs.existsSync(path.join(PROJECT, 'node_modules', '@nestjs', 'core'))) {
      throw new Error(
        'test/e2e/nest12 has no node_modules: run `npm run pretest` (or `node test/e2e/nest12/ensure-installed.cjs`) first',
      );
    }
    installPackedSteadfast(PROJECT);
    fs.rmSync(path.join(PROJECT, 'dist'), { recursive: true, force: true });
    compile = await node([
      path.join(PROJECT, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      'tsconfig.json',
    ]);
    if (compile.code !== 0) return;
    const run = await node(['dist/check.js']);
    if (run.code !== 0) throw new Error(`dist/check.js failed (${run.code}):\n${run.stderr}`);
    report = JSON.parse(run.stdout) as Report;
  }, 180_000);

  it('compiles, with types, as a nodenext project importing steadfast and steadfast/nestjs', () => {
    expect(compile.stdout + compile.stderr).toBe('');
    expect(compile.code).toBe(0);
  });

  it('runs NestJS 12', () => {
    expect(report.nest).toMatch(/^12\./);
  });

  it.each([
    'boot check',
    'routes through the decorators',
    '503 with Retry-After from an open breaker, then recovery',
    'keyed idempotent POST, 409 on conflict',
    'one @nestjs/common instance',
  ])('%s', (name) => {
    const result = report.results.find((candidate) => candidate.name === name);
    expect(result).toMatchObject({ name, ok: true });
  });
});
