import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether this machine has a valkey-server (Debian 12 has none; later releases do). */
export const valkeyServerPath: string | undefined = (() => {
  const found = spawnSync('sh', ['-c', 'command -v valkey-server'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
})();

/** Whether this machine has a redis-server (CI installs it; a developer's machine may not). */
export const redisServerPath: string | undefined = (() => {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
})();

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(200);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * A real redis-server on 127.0.0.1 at a free port, with its own data folder: for one test file, or
 * for a bench run. Free of jest, so that the bench can use it too.
 */
export class RedisServer {
  private process: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'steadfast-redis-'));

  private constructor(
    readonly port: number,
    /** with AOF persistence, what was written survives a restart */
    private readonly persistent: boolean,
    /** false: the server does not keep this process alive (kill it on exit) */
    private readonly holdsProcess: boolean,
    /** further redis-server arguments (a Cluster node's) */
    private readonly extraArgs: readonly string[] = [],
    private readonly binary: string = redisServerPath as string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(
    options: {
      persistent?: boolean;
      holdsProcess?: boolean;
      port?: number;
      args?: readonly string[];
      /** another server speaking the protocol: 'valkey-server' */
      binary?: string;
    } = {},
  ): Promise<RedisServer> {
    if (redisServerPath === undefined) throw new Error('redis-server is not installed');
    const server = new RedisServer(
      options.port ?? (await freePort()),
      options.persistent ?? false,
      options.holdsProcess ?? true,
      options.args,
      options.binary ?? (redisServerPath as string),
    );
    await server.launch();
    return server;
  }

  /** Starts the server (again, after stop() or kill()) and waits until it answers. */
  async launch(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
    ];
    args.push('--appendonly', this.persistent ? 'yes' : 'no', '--appendfsync', 'always');
    args.push(...this.extraArgs.map((arg) => arg.replace('{dir}', this.dir)));
    this.process = spawn(this.binary, args, { stdio: 'ignore' });
    if (!this.holdsProcess) this.process.unref();
    for (let tries = 0; tries < 100; tries++) {
      if (await answersPing(this.port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** Kills the server at once (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    await this.terminate('SIGKILL');
  }

  /** Stops the server and removes its data folder. */
  async stop(): Promise<void> {
    await this.terminate('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async terminate(signal: NodeJS.Signals): Promise<void> {
    const running = this.process;
    this.process = undefined;
    if (running === undefined || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill(signal);
    });
  }
}
