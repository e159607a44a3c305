import {
  bulkhead,
  circuitBreaker,
  ConsecutiveBreaker,
  ConstantBackoff,
  fallback,
  handleAll,
  handleWhen,
  isBrokenCircuitError,
  retry,
  timeout,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import type { Operation } from '../harness/operations';
import type { Variant } from '../harness/types';
import { FAILURES_TO_OPEN, NEVER_OPENS, OPEN_MS, RETRIES } from './equivalence';
import { MAX_CONCURRENT, TIMEOUT_MS } from './steadfast-stages';

const retryPolicy = (policy = handleAll) =>
  retry(policy, { maxAttempts: RETRIES, backoff: new ConstantBackoff(0) });
const breakerPolicy = (failures: number) =>
  circuitBreaker(handleAll, { halfOpenAfter: OPEN_MS, breaker: new ConsecutiveBreaker(failures) });
const breakerConfig = (failures: number): string =>
  `circuitBreaker(handleAll, { halfOpenAfter: ${OPEN_MS}, breaker: new ConsecutiveBreaker(${failures === NEVER_OPENS ? '1e9' : failures}) })`;
const suffix = (failures: number): string =>
  failures === NEVER_OPENS ? ' (breaker never opens)' : '';
const subject = (policy: { execute(fn: Operation): Promise<number> }, op: Operation) => ({
  target: { policy, op },
  invoke: 't.policy.execute(t.op)',
});

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
    setup: (op) =>
      subject(
        wrap(
          retryPolicy(handleWhen((error) => !isBrokenCircuitError(error))),
          breakerPolicy(failures),
        ),
        op,
      ),
  };
}

export const cockatielTimeout: Variant = {
  name: 'cockatiel timeout',
  library: 'cockatiel',
  config: `timeout(${TIMEOUT_MS}, TimeoutStrategy.Cooperative).execute(op)`,
  setup: (op) => subject(timeout(TIMEOUT_MS, TimeoutStrategy.Cooperative), op),
};

export const cockatielBulkhead: Variant = {
  name: 'cockatiel bulkhead',
  library: 'cockatiel',
  config: `bulkhead(${MAX_CONCURRENT}).execute(op)`,
  setup: (op) => subject(bulkhead(MAX_CONCURRENT), op),
};

export const cockatielFallback: Variant = {
  name: 'cockatiel fallback',
  library: 'cockatiel',
  config: 'fallback(handleAll, () => -1).execute(op)',
  setup: (op) =>
    subject(
      fallback(handleAll, () => -1),
      op,
    ),
};

export const cockatielWrapAll: Variant = {
  name: 'cockatiel wrap(fallback, retry, circuitBreaker, bulkhead, timeout)',
  library: 'cockatiel',
  config:
    `wrap(fallback(handleAll, () => -1), retry(…, { maxAttempts: ${RETRIES} }), ${breakerConfig(FAILURES_TO_OPEN)}, bulkhead(${MAX_CONCURRENT}), ` +
    `timeout(${TIMEOUT_MS}, TimeoutStrategy.Cooperative)).execute(op): the same stages in the same order as steadfast's six`,
  setup: (op) =>
    subject(
      wrap(
        fallback(handleAll, () => -1),
        retryPolicy(handleWhen((error) => !isBrokenCircuitError(error))),
        breakerPolicy(FAILURES_TO_OPEN),
        bulkhead(MAX_CONCURRENT),
        timeout(TIMEOUT_MS, TimeoutStrategy.Cooperative),
      ),
      op,
    ),
};
