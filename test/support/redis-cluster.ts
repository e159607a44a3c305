import { spawnSync } from 'node:child_process';
import { freePort, RedisServer, redisServerPath } from './redis-server';

/** Whether this machine can make a Cluster: redis-server and redis-cli (redis-tools). */
export const redisClusterAvailable: boolean =
  redisServerPath !== undefined &&
  spawnSync('sh', ['-c', 'command -v redis-cli'], { encoding: 'utf8' }).status === 0;

/** A free port whose cluster bus port (port + 10 000) is free too and exists. */
async function freeNodePort(taken: readonly number[]): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = await freePort();
    if (port + 10_000 > 65_535 || taken.includes(port) || taken.includes(port + 10_000)) continue;
    // The bus port is bound by redis-server itself: a clash shows as a failed start, retried below.
    return port;
  }
  throw new Error('no free port pair for a Cluster node');
}

/**
 * A real Redis Cluster of three primaries on 127.0.0.1 (`redis-server --cluster-enabled yes` × 3,
 * slots assigned by `redis-cli --cluster create`), for one test file.
 */
export class RedisCluster {
  private constructor(readonly nodes: readonly RedisServer[]) {}

  /** Every node's host and port, as cluster clients take their seeds. */
  get seeds(): { host: string; port: number }[] {
    return this.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  }

  get urls(): string[] {
    return this.nodes.map((node) => node.url);
  }

  static async start(): Promise<RedisCluster> {
    if (!redisClusterAvailable)
      throw new Error('redis-server and redis-cli are needed for a Cluster');
    const nodes: RedisServer[] = [];
    try {
      while (nodes.length < 3) {
        const port = await freeNodePort(nodes.flatMap((node) => [node.port, node.port + 10_000]));
        nodes.push(
          await RedisServer.start({
            port,
            args: [
              '--cluster-enabled',
              'yes',
              '--cluster-config-file',
              '{dir}/nodes.conf',
              '--cluster-node-timeout',
              '5000',
            ],
          }),
        );
      }
      const created = spawnSync(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...nodes.map((node) => `127.0.0.1:${node.port}`),
          '--cluster-replicas',
          '0',
          '--cluster-yes',
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
      if (created.status !== 0)
        throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
      const cluster = new RedisCluster(nodes);
      await cluster.waitUntilReady();
      return cluster;
    } catch (error) {
      await Promise.all(nodes.map((node) => node.stop()));
      throw error;
    }
  }

  /** Until every node says cluster_state:ok and knows all three (the slots spread by gossip). */
  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ready = this.nodes.every((node) => {
        const info = spawnSync(
          'redis-cli',
          ['-h', '127.0.0.1', '-p', String(node.port), 'cluster', 'info'],
          {
            encoding: 'utf8',
          },
        ).stdout;
        return /cluster_state:ok/.test(info) && /cluster_known_nodes:3/.test(info);
      });
      if (ready) return;
      if (Date.now() > deadline) throw new Error('the Redis Cluster did not become ready in 20 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Kills every node at once (SIGKILL), as a crash of the whole Cluster would; each keeps its nodes.conf. */
  async kill(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()));
  }

  /**
   * Starts the killed nodes again, each on its port with its nodes.conf (its id and its slots), so
   * the Cluster forms again by itself. Resolves once every node says cluster_state:ok: a restarted
   * primary holds back writes for 2 s (CLUSTER_WRITABLE_DELAY). What the nodes held is gone.
   */
  async restart(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.launch()));
    await this.waitUntilReady();
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
  }
}
