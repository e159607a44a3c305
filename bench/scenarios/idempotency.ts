import type { Scenario, Variant } from '../harness/types';
import { hasRedisServer } from '../harness/redis-server';
import { bare, handWrittenRetry } from '../variants';
import { steadfastKeyed } from '../variants/steadfast-keyed';

const stores = hasRedisServer ? (['memory', 'redis'] as const) : (['memory'] as const);
const skipped = hasRedisServer ? '' : ' (RedisStore rows skipped: no redis-server on this machine)';

function keyedVariants(mode: 'first' | 'replay'): Variant[] {
  return stores.map((store) => steadfastKeyed(store, mode));
}

export const keyedFirstCall: Scenario = {
  id: 'idempotency-first',
  title: `Keyed idempotency: first call of a key${skipped}`,
  description:
    'A call with a key never seen before: the key and the arguments are hashed (SHA-256), a claim is written, the body runs, its result is checked and recorded as JSON. ' +
    'On Redis that is two round trips (the claim and the record, each one Lua script) to a redis-server on the same machine.',
  kind: 'sequential',
  operation: 'succeed',
  outcome: 'resolve',
  attemptsPerCall: 1,
  variants: [bare, handWrittenRetry, ...keyedVariants('first')],
  ratiosTo: [bare.name, handWrittenRetry.name],
};

export const keyedReplay: Scenario = {
  id: 'idempotency-replay',
  title: `Keyed idempotency: replay of a recorded key${skipped}`,
  description:
    'A call whose key already has a recorded result: hashing, one store read (on Redis one round trip), and the result parsed from JSON. The body never runs. ' +
    'The bare and hand-written rows run the body, for scale.',
  kind: 'sequential',
  operation: 'succeed',
  outcome: 'resolve',
  attemptsPerCall: 0,
  attemptsOf: { [bare.name]: 1, [handWrittenRetry.name]: 1 },
  prepare: async (call) => {
    await call();
  },
  variants: [bare, handWrittenRetry, ...keyedVariants('replay')],
  ratiosTo: [bare.name, handWrittenRetry.name],
};
