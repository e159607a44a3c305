import fc from 'fast-check';
import { keySlot } from '../../src/stores/cluster-slots';
import { RedisCluster, redisClusterAvailable } from '../support/redis-cluster';
import Redis from 'ioredis';

// What CLUSTER KEYSLOT says, for keys of every shape the store makes and then some.
const KEYS = [
  'steadfast:circuit:{orders}',
  'steadfast:circuit:{orders}:reporters',
  'steadfast:budget:{checkout}',
  'plain',
  '{}empty-tag',
  'a{}b{c}',
  '{a}{b}',
  'half{open',
  'héllo{ünï}',
  'lone \ud800 surrogate {\udc00}',
  '',
];

/** Where the clients' slot package and Redis part ways (see below). */
const EMPTY_TAG_THEN_ANOTHER = /\{\}.*\{/s;

describe('keySlot', () => {
  it('is the slot of the hash tag alone when the key has one', () => {
    expect(keySlot('steadfast:circuit:{orders}')).toBe(keySlot('{orders}'));
    expect(keySlot('x:{orders}:reporters')).toBe(keySlot('orders'));
    expect(keySlot('{}orders')).not.toBe(keySlot('orders'));
  });

  it('agrees with the clients’ own slot function for any key', () => {
    // ioredis and node-redis both route by this package: the store must group as they route.
    const clientSlot = require('cluster-key-slot') as (key: string) => number;
    fc.assert(
      // Well-formed text, without an empty tag followed by another: a lone surrogate is sent as U+FFFD (Buffer's UTF-8), which the package
      // does not model; the real Cluster check below covers what is sent.
      fc.property(
        fc
          .oneof(
            fc.string({ unit: 'grapheme', maxLength: 20 }),
            fc.string({ unit: 'binary-ascii', maxLength: 40 }),
          )
          .filter((key) => !EMPTY_TAG_THEN_ANOTHER.test(key)),
        (key) => {
          expect(keySlot(key)).toBe(clientSlot(key));
        },
      ),
      { numRuns: 2_000 },
    );
    // Left out: lone surrogates, and an empty tag followed by another ('a{}b{c}'), where the package
    // hashes 'b{c' and Redis the whole key (the Cluster check below has Redis's answer).
    for (const key of KEYS.filter(
      (key) => !/[\ud800-\udfff]/.test(key) && !EMPTY_TAG_THEN_ANOTHER.test(key),
    ))
      expect(keySlot(key)).toBe(clientSlot(key));
  });

  (redisClusterAvailable ? it : it.skip)(
    redisClusterAvailable
      ? 'agrees with CLUSTER KEYSLOT on a real Cluster'
      : 'agrees with CLUSTER KEYSLOT on a real Cluster (skipped: redis-server and redis-cli are needed; .ci/run installs them)',
    async () => {
      const cluster = await RedisCluster.start();
      const node = new Redis(cluster.urls[0] as string);
      try {
        for (const key of KEYS) expect(keySlot(key)).toBe(await node.cluster('KEYSLOT', key));
      } finally {
        node.disconnect();
        await cluster.stop();
      }
    },
    60_000,
  );
});
