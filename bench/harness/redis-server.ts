import { rmSync } from 'node:fs';
import { RedisServer, redisServerPath } from '../../test/support/redis-server';

/** Whether scenarios against Redis can run here: they need a local redis-server. */
export const hasRedisServer = redisServerPath !== undefined;

let starting: Promise<RedisServer> | undefined;

/**
 * One redis-server on 127.0.0.1 for the whole bench run (the test suite's own fixture, without
 * persistence), started on first use. It does not keep the bench alive and is killed on exit.
 */
export async function benchRedisUrl(): Promise<string> {
  starting ??= RedisServer.start({ holdsProcess: false }).then((server) => {
    process.once('exit', () => {
      // Only synchronous work runs on 'exit': kill() sends its signal at once.
      void server.kill();
      rmSync(server.dir, { recursive: true, force: true });
    });
    return server;
  });
  return (await starting).url;
}
