import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { decoratorMode } from '../pipeline/support';

const ROOT = join(__dirname, '..', '..');
const FIXTURE = join(__dirname, 'fixtures', 'deadlines-then-exit.ts');
/** The child compiles with the same decorator mode as this run of the suite. */
const TSCONFIG = join(
  ROOT,
  decoratorMode === 'legacy' ? 'tsconfig.json' : 'tsconfig.standard.json',
);
/** Kills a child that hangs, so a deadline that holds the process fails this test instead of the whole run. */
const WATCHDOG_MS = 45_000;

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: Record<string, unknown>[];
  stderr: string;
  exitedAt: number;
}

function runFixture(): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
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
      child.on('close', () => {
        const lines = stdout
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        resolve({ code, signal, lines, stderr, exitedAt });
      });
    });
  });
}

describe(`@Timeout deadlines and the process (${decoratorMode} decorators, system clock, child process)`, () => {
  it('share one timer per distinct duration, keep the process only while a call is in flight, and leave no unhandled rejection', async () => {
    const run = await runFixture();

    expect({ code: run.code, signal: run.signal, stderr: run.stderr }).toEqual({
      code: 0,
      signal: null,
      stderr: '',
    });
    const [first, second] = run.lines;
    expect(first).toMatchObject({
      phase: 1,
      // live timers with 300 calls of each of three methods in flight, then once they are done:
      // one per distinct duration (A; B; A and C), and none at all afterwards
      timers: [1, 2, 3, 0],
      sum: (199 * 200) / 2,
      lateFailure: 'attempt',
      lateSuccess: 'attempt',
      guarded: [5, 5],
      unhandled: [],
    });
    // the hung call's 300 ms deadline was pending work: the process waited for it, then reported
    expect(second).toMatchObject({ phase: 2, timeout: 'attempt', unhandled: [] });
    expect(second?.after).toBeGreaterThanOrEqual(290);
    // ...and then exited at once, though hour-long deadlines and a queueTimeout were once armed
    const lingered = run.exitedAt - (second?.doneAt as number);
    expect(lingered).toBeGreaterThanOrEqual(0);
    expect(lingered).toBeLessThan(3_000);
  }, 60_000);
});
