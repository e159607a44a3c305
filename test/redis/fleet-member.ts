import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { decoratorMode } from '../support/harness';

const ROOT = join(__dirname, '..', '..');
const WORKER = join(__dirname, 'fixtures', 'fleet-worker.ts');
/** Children compile with the same decorator mode as this run of the suite. */
const TSCONFIG = join(
  ROOT,
  decoratorMode === 'legacy' ? 'tsconfig.json' : 'tsconfig.standard.json',
);
/** How long a child may take to start (ts-node compiles the library on a busy 2-core machine). */
const START_TIMEOUT_MS = 90_000;

export type Line = Record<string, unknown>;

/**
 * Where the members' stores keep the fleet: one redis-server's URL, or every node of a Redis
 * Cluster (redis:// URLs), which the members then reach through a cluster client of `fleetClient`'s
 * library (ioredis `new Cluster()`, node-redis `createCluster()`).
 */
export type FleetRedis = string | { readonly clusterUrls: readonly string[] };

export interface StartOptions {
  /**
   * Run the worker from JavaScript this process transpiled once (file by file with the same
   * tsconfig, as ts-node's transpile-only does) instead of ts-node in each child: a child then
   * starts in a fraction of the time, which matters with several children on a busy 2-core machine.
   */
  readonly precompiled?: boolean;
  /** environment variables for the children (CLOCK_OFFSET_MS, say) */
  readonly env?: Readonly<Record<string, string>>;
}

/** The options of a fleet breaker, as every member declares it. */
export interface BreakerSpec {
  readonly name: string;
  readonly consecutiveFailures?: number;
  readonly failureRate?: {
    readonly threshold: number;
    readonly window?: { readonly type: 'count' | 'time'; readonly size: number };
    readonly minimumCalls?: number;
  };
  readonly openDuration?: number;
  readonly halfOpenMaxCalls?: number;
  readonly quorum?: number;
}

/**
 * The client the members' stores speak through: ioredis in the legacy-decorator project, node-redis
 * in the standard one, so that every fleet suite runs on both clients without running twice.
 */
export const fleetClient: 'ioredis' | 'node-redis' =
  decoratorMode === 'legacy' ? 'ioredis' : 'node-redis';

const running = new Set<FleetMember>();

/** The transpiled worker, shared by the start() calls in progress; removed when the last of them ends. */
let compiled:
  { readonly dir: string; readonly worker: Promise<string>; starts: number } | undefined;

/**
 * src/ and the worker, transpiled into a temporary folder; resolves with the worker's path. A child
 * needs the files only until it is ready (the worker loads every module at start-up).
 */
function takePrecompiledWorker(): Promise<string> {
  if (compiled === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'steadfast-fleet-worker-'));
    compiled = { dir, worker: transpileWorker(dir), starts: 0 };
  }
  compiled.starts++;
  return compiled.worker;
}

function releasePrecompiledWorker(): void {
  if (compiled === undefined || --compiled.starts > 0) return;
  rmSync(compiled.dir, { recursive: true, force: true });
  compiled = undefined;
}

async function transpileWorker(out: string): Promise<string> {
  const ts = await import('typescript');
  const config = ts.getParsedCommandLineOfConfigFile(
    TSCONFIG,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(
          `${TSCONFIG}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
        );
      },
    },
  );
  if (config === undefined) throw new Error(`${TSCONFIG} could not be read`);
  const sources = (readdirSync(join(ROOT, 'src'), { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(ROOT, 'src', file));
  for (const source of [...sources, WORKER]) {
    const { outputText } = ts.transpileModule(readFileSync(source, 'utf8'), {
      compilerOptions: config.options,
      fileName: source,
    });
    const target = join(out, relative(ROOT, source)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  return join(out, relative(ROOT, WORKER)).replace(/\.ts$/, '.js');
}

/** One member of the fleet: a child process running test/redis/fixtures/fleet-worker.ts. */
export class FleetMember {
  readonly lines: Line[] = [];
  stderr = '';
  exitCode: number | null | undefined = undefined;
  private nextId = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (line: Line) => void; reject: (error: Error) => void }
  >();
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<number | null>;
  readonly ready: Promise<void>;

  private constructor(
    readonly label: string,
    redis: FleetRedis,
    /** the worker transpiled by transpileWorker(), or undefined: ts-node compiles it in the child */
    compiled: string | undefined,
    extraEnv: Readonly<Record<string, string>> = {},
  ) {
    const args =
      compiled === undefined ? ['-r', 'ts-node/register/transpile-only', WORKER] : [compiled];
    // The transpiled files live outside the checkout: NODE_PATH lets them find its node_modules.
    const env =
      compiled === undefined
        ? { TS_NODE_PROJECT: TSCONFIG }
        : { NODE_PATH: join(ROOT, 'node_modules') };
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      ...env,
      FLEET_CLIENT: fleetClient,
      ...extraEnv,
    };
    // The worker takes a Cluster when FLEET_CLUSTER_URLS is set: the other kind must not leak in.
    if (typeof redis === 'string') {
      childEnv.REDIS_URL = redis;
      delete childEnv.FLEET_CLUSTER_URLS;
    } else {
      childEnv.FLEET_CLUSTER_URLS = redis.clusterUrls.join(',');
      delete childEnv.REDIS_URL;
    }
    this.child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: childEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    running.add(this);
    let markReady!: () => void;
    let failReady!: (error: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    const startTimer = setTimeout(
      () =>
        failReady(
          new Error(`${label} did not start within ${START_TIMEOUT_MS} ms: ${this.stderr}`),
        ),
      START_TIMEOUT_MS,
    );
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
        failReady(
          new Error(`${label} exited with ${String(code)} before it was ready: ${this.stderr}`),
        );
        for (const waiter of this.waiting.values())
          waiter.reject(new Error(`${label} exited with ${String(code)}: ${this.stderr}`));
        this.waiting.clear();
        resolve(code);
      });
    });
    // Keeps an unhandled rejection away when nobody awaits `ready` (a test that already failed).
    this.ready.catch(() => undefined);
  }

  /** Starts `count` members at once and resolves when all are ready. */
  static async start(
    redis: FleetRedis,
    labels: string[],
    options: StartOptions = {},
  ): Promise<FleetMember[]> {
    if (options.precompiled !== true)
      return FleetMember.allReady(
        labels.map((label) => new FleetMember(label, redis, undefined, options.env)),
      );
    try {
      const worker = await takePrecompiledWorker();
      return await FleetMember.allReady(
        labels.map((label) => new FleetMember(label, redis, worker, options.env)),
      );
    } finally {
      releasePrecompiledWorker();
    }
  }

  private static async allReady(members: FleetMember[]): Promise<FleetMember[]> {
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
        reject(
          new Error(
            `${this.label} did not answer ${JSON.stringify(command)} within ${timeoutMs} ms; stderr: ${this.stderr}`,
          ),
        );
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
  async lineMatching(
    matches: (line: Line) => boolean,
    timeoutMs: number,
  ): Promise<Line | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(matches);
      if (found !== undefined || Date.now() > deadline) return found;
      await pause(5);
    }
  }

  /**
   * The first line from index `from` on (already printed or to come) that matches; fails after
   * `timeoutMs` with an error saying that `what` did not happen.
   */
  async waitForLine(
    matches: (line: Line) => boolean,
    timeoutMs: number,
    what: string,
    from = 0,
  ): Promise<Line> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.slice(from).find(matches);
      if (found !== undefined) return found;
      if (Date.now() > deadline) {
        const last = this.lines
          .slice(Math.max(from, this.lines.length - 5))
          .map((line) => JSON.stringify(line));
        throw new Error(
          `${this.label}: ${what} did not happen within ${timeoutMs} ms; its last lines: ${last.join(' ') || '(none)'}`,
        );
      }
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

export const pause = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
