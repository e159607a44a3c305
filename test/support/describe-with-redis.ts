import { redisServerPath } from './redis-server';

/**
 * `describe` when redis-server exists; otherwise the suite is skipped and the reason printed, so
 * that `npm test` says plainly what it did not run.
 */
export const describeWithRedis: jest.Describe = (() => {
  if (redisServerPath !== undefined) return describe;
  const skipping = ((name: string, body: () => void) => {
    console.log(
      `SKIPPED '${name}': redis-server is not installed (apt-get install -y redis-server; .ci/run does this)`,
    );
    describe.skip(name, body);
  }) as jest.Describe;
  return Object.assign(skipping, describe);
})();
