import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { decoratorMode } from '../support/harness';

const ROOT = join(__dirname, '..', '..');
const WORKER = join(__dirname, 'fixtures', 'fleet-worker.ts');
/** Children compile with the same decorator mode as this run of the suite. */
const TSCONFIG = join(ROOT, decoratorMode === 'legacy' ? 'tsconfig.json' : 'tsconfig.standard.json');
/** How long a child may take to start (ts-node compiles the library on a busy 2-core machine). */
const START_TIMEOUT_MS = 90_000;

export type Line = Record<string, unknown>;

/** The options of a fleet breaker, as every member declares it. */
export interface BreakerSpec {
  readonly name: string;
  readonly consecutiveFailures?: number;
  readonly openDuration?: number;
  readonly halfOpenMaxCalls?: number;
}

const running = new Set<FleetMember>();

/** One member of the fleet: a child process running test/redis/fixtures/fleet-worker.ts. */
export class FleetMember {
  readonly lines: Line[] = [];
  stderr = '';
  exitCode: number | null | undefined = undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (line: Line) => void; reject: (error: Error) => void }>();
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<number | null>;
  readonly ready: Promise<void>;

  private constructor(
    readonly label: string,
    redisUrl: string,
  ) {
    this.child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', WORKER], {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_PROJECT: TSCONFIG, REDIS_URL: redisUrl },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    running.add(this);
    let markReady!: () => void;
    let failReady!: (error: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    const startTimer = setTimeout(() => failReady(new Error(`${label} did not start within ${START_TIMEOUT_MS} ms: ${this.stderr}`)), START_TIMEOUT_MS);
    createInterface({ input: this.child.stdout }).on('line', (text) => {
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        line = { text };
      }
      this.lines.push(line);
      if (line.ready === true) {
        clearTimeout(startTimer);
        markReady();
      }
      if (typeof line.id === 'number') {
        this.waiting.get(line.id)?.resolve(line);
        this.waiting.delete(line.id);
      }
    });
    this.child.stderr.on('data', (chunk: Buffer) => void (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code) => {
        clearTimeout(startTimer);
        this.exitCode = code;
        running.delete(this);
        failReady(new Error(`${label} exited with ${String(code)} before it was ready: ${this.stderr}`));
        for (const waiter of this.waiting.values()) waiter.reject(new Error(`${label} exited with ${String(code)}: ${this.stderr}`));
        this.waiting.clear();
        resolve(code);
      });
    });
    // Keeps an unhandled rejection away when nobody awaits `ready` (a test that already failed).
    this.ready.catch(() => undefined);
  }

  /** Starts `count` members at once and resolves when all are ready. */
  static async start(redisUrl: string, labels: string[]): Promise<FleetMember[]> {
    const members = labels.map((label) => new FleetMember(label, redisUrl));
    await Promise.all(members.map((member) => member.ready));
    return members;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /** Sends a command; resolves with the child's answer. */
  request(command: Record<string, unknown>, timeoutMs = 15_000): Promise<Line> {
    const id = ++this.nextId;
    return new Promise<Line>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.label} did not answer ${JSON.stringify(command)} within ${timeoutMs} ms; stderr: ${this.stderr}`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.stdin.write(`${JSON.stringify({ ...command, id })}\n`);
    });
  }

  /** Resolves with the first line (already printed or to come) that matches, or undefined after `timeoutMs`. */
  async lineMatching(matches: (line: Line) => boolean, timeoutMs: number): Promise<Line | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(matches);
      if (found !== undefined || Date.now() > deadline) return found;
      await pause(5);
    }
  }

  /** The warn lines this member logged. */
  warnings(): string[] {
    return this.lines.filter((line) => line.log === 'warn').map((line) => line.message as string);
  }

  /** Closes stdin: the member closes its store and ends by itself. Kills it after `graceMs`. */
  async end(graceMs = 6_000): Promise<number | null> {
    if (!this.alive) return this.exitCode ?? null;
    this.child.stdin.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  /** Resolves when the process has exited. */
  whenExited(): Promise<number | null> {
    return this.exited;
  }
}

/** Kills every member still alive but those kept (afterEach/afterAll), so no child outlives its test. */
export async function killRunningMembers(keep: readonly FleetMember[] = []): Promise<void> {
  const left = [...running].filter((member) => !keep.includes(member));
  for (const member of left) member.kill();
  await Promise.all(left.map((member) => member.whenExited()));
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
