import CircuitBreaker from 'opossum';
import type { Variant } from '../harness/types';
import { OPEN_MS } from './equivalence';

/*
 * opossum opens on a failure percentage over a rolling time window (50 % over 10 s, 10 buckets),
 * not on consecutive failures: its defaults are kept. Its default `timeout` (10 s) arms a timer per
 * call; the second variant turns it off.
 */

function opossum(name: string, options: CircuitBreaker.Options, config: string): Variant {
  return {
    name,
    library: 'opossum',
    config,
    setup(op) {
      const breaker = new CircuitBreaker(op, { ...options, resetTimeout: OPEN_MS });
      return { target: breaker, invoke: 't.fire()', dispose: () => breaker.shutdown() };
    },
  };
}

export const opossumFire = opossum(
  'opossum fire',
  {},
  `new CircuitBreaker(op, { resetTimeout: ${OPEN_MS} }).fire() (default timeout 10 000 ms)`,
);

export const opossumNoTimeout = opossum(
  'opossum fire (timeout: false)',
  { timeout: false },
  `new CircuitBreaker(op, { timeout: false, resetTimeout: ${OPEN_MS} }).fire()`,
);
