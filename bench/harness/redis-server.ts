import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether scenarios against Redis can run here: they need a local redis-server. */
export const hasRedisServer = spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status === 0;

let running: { url: string; process: ChildProcess; dir: string } | undefined;

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
 * One redis-server on 127.0.0.1 for the whole bench run, without persistence, started on first use
 * and killed when the process exits.
 */
export async function benchRedisUrl(): Promise<string> {
  if (running !== undefined) return running.url;
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-bench-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  // The server must not keep the bench process alive; it is killed when the process exits.
  child.unref();
  running = { url: `redis://127.0.0.1:${port}`, process: child, dir };
  process.once('exit', () => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  for (let tries = 0; tries < 100; tries++) {
    if (await answersPing(port)) return running.url;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`bench: redis-server did not start on port ${port}`);
}
