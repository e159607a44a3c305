import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { decoratorMode } from '../support/harness';

const ROOT = join(__dirname, '..', '..');
const FIXTURE = join(__dirname, 'fixtures', 'open-breaker-then-exit.ts');
/** The child compiles with the same decorator mode as this run of the suite. */
const TSCONFIG = join(
  ROOT,
  decoratorMode === 'legacy' ? 'tsconfig.json' : 'tsconfig.standard.json',
);
/** Kills a child that hangs, so a leaked timer fails this test instead of the whole run. */
const WATCHDOG_MS = 45_000;

interface ChildReport {
  state: string;
  runs: number;
  refused: boolean;
  retryAfter: number;
  doneAt: number;
}

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  exitedAt: number;
  startedAt: number;
}

function runFixture(): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', FIXTURE], {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_PROJECT: TSCONFIG },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    const watchdog = setTimeout(() => child.kill('SIGKILL'), WATCHDOG_MS);
    child.on('error', (error) => {
      clearTimeout(watchdog);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      const exitedAt = Date.now();
      clearTimeout(watchdog);
      // 'close' follows once stdio is drained; the exit time is taken here.
      child.on('close', () => resolve({ code, signal, stdout, stderr, exitedAt, startedAt }));
    });
  });
}

describe(`process exit with an open breaker (${decoratorMode} decorators)`, () => {
  it('exits with code 0 as soon as its work is done, though the breaker is open for an hour on the real clock', async () => {
    const run = await runFixture();

    expect({ code: run.code, signal: run.signal, stderr: run.stderr }).toEqual({
      code: 0,
      signal: null,
      stderr: '',
    });
    const report = JSON.parse(run.stdout) as ChildReport;
    expect(report).toMatchObject({ state: 'open', runs: 2, refused: true });
    expect(report.retryAfter).toBeGreaterThan(0);
    // Measured from the end of the child's work, so ts-node's start-up on a busy machine does not count.
    const lingered = run.exitedAt - report.doneAt;
    expect(lingered).toBeGreaterThanOrEqual(0);
    expect(lingered).toBeLessThan(3_000);
  }, 60_000);
});
