import { circuitBreaker, ConsecutiveBreaker, ConstantBackoff, handleAll, handleWhen, isBrokenCircuitError, retry, wrap } from 'cockatiel';
import type { Operation } from '../harness/operations';
import type { Variant } from '../harness/types';
import { FAILURES_TO_OPEN, NEVER_OPENS, OPEN_MS, RETRIES } from './equivalence';

const retryPolicy = (policy = handleAll) => retry(policy, { maxAttempts: RETRIES, backoff: new ConstantBackoff(0) });
const breakerPolicy = (failures: number) => circuitBreaker(handleAll, { halfOpenAfter: OPEN_MS, breaker: new ConsecutiveBreaker(failures) });
const breakerConfig = (failures: number): string =>
  `circuitBreaker(handleAll, { halfOpenAfter: ${OPEN_MS}, breaker: new ConsecutiveBreaker(${failures === NEVER_OPENS ? '1e9' : failures}) })`;
const suffix = (failures: number): string => (failures === NEVER_OPENS ? ' (breaker never opens)' : '');
const subject = (policy: { execute(fn: Operation): Promise<number> }, op: Operation) => ({ target: { policy, op }, invoke: 't.policy.execute(t.op)' });

export const cockatielRetry: Variant = {
  name: 'cockatiel retry',
  library: 'cockatiel',
  config: `retry(handleAll, { maxAttempts: ${RETRIES}, backoff: new ConstantBackoff(0) }).execute(op) (maxAttempts counts retries)`,
  setup: (op) => subject(retryPolicy(), op),
};

export function cockatielBreaker(failures = FAILURES_TO_OPEN): Variant {
  return {
    name: `cockatiel circuitBreaker${suffix(failures)}`,
    library: 'cockatiel',
    config: `${breakerConfig(failures)}.execute(op)`,
    setup: (op) => subject(breakerPolicy(failures), op),
  };
}

export function cockatielWrap(failures = FAILURES_TO_OPEN): Variant {
  return {
    name: `cockatiel wrap(retry, circuitBreaker)${suffix(failures)}`,
    library: 'cockatiel',
    config:
      `wrap(retry(handleWhen(e => !isBrokenCircuitError(e)), { maxAttempts: ${RETRIES}, backoff: new ConstantBackoff(0) }), ${breakerConfig(failures)}).execute(op): ` +
      'each attempt through the breaker, and an open-circuit error ends the retries, as in steadfast',
    setup: (op) => subject(wrap(retryPolicy(handleWhen((error) => !isBrokenCircuitError(error))), breakerPolicy(failures)), op),
  };
}
