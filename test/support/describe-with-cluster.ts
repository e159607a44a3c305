import { redisClusterAvailable } from './redis-cluster';

/**
 * `describe` when this machine can make a Redis Cluster (redis-server and redis-cli); otherwise the
 * suite is skipped and the reason printed, as describeWithRedis does for a single server.
 */
export const describeWithCluster: jest.Describe = redisClusterAvailable
  ? describe
  : (((name: string, body: () => void) => {
      console.log(
        `SKIPPED '${name}': redis-server and redis-cli are needed (apt-get install -y redis-server redis-tools; .ci/run does this)`,
      );
      describe.skip(name, body);
    }) as jest.Describe);
