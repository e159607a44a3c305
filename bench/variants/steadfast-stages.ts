import { Bulkhead, CircuitBreaker, Fallback, Idempotent, Retryable, Timeout } from '../../src';
import type { Operation } from '../harness/operations';
import type { SetupContext, Variant } from '../harness/types';
import { ATTEMPTS, FAILURES_TO_OPEN, OPEN_MS } from './equivalence';

/*
 * steadfast's newer stages on the happy path. The deadline is far beyond any call (it never fires);
 * the bulkhead is wide enough never to queue; the fallback never answers.
 */

export const TIMEOUT_MS = 10_000;
export const MAX_CONCURRENT = 1_000;
const RETRY = { maxAttempts: ATTEMPTS, initialDelay: 0, jitter: 'none' } as const;

export const steadfastRetryTimeout: Variant = {
  name: 'steadfast @Retryable + @Idempotent + @Timeout',
  library: 'steadfast',
  config: `@Idempotent() @Retryable({ maxAttempts: ${ATTEMPTS}, initialDelay: 0, jitter: 'none' }) @Timeout(${TIMEOUT_MS})`,
  setup(op: Operation) {
    class Service {
      @Idempotent()
      @Retryable(RETRY)
      @Timeout(TIMEOUT_MS)
      call(): Promise<number> {
        return op();
      }
    }
    return { target: new Service(), invoke: 't.call()' };
  },
};

export const steadfastAllSix: Variant = {
  name: 'steadfast all six',
  library: 'steadfast',
  config:
    `@Fallback(() => -1) @Idempotent() @Retryable({ maxAttempts: ${ATTEMPTS}, initialDelay: 0, jitter: 'none' }) ` +
    `@CircuitBreaker({ name, consecutiveFailures: ${FAILURES_TO_OPEN}, openDuration: ${OPEN_MS} }) @Bulkhead(${MAX_CONCURRENT}) @Timeout(${TIMEOUT_MS})`,
  setup(op: Operation, context: SetupContext) {
    class Service {
      @Fallback(() => -1)
      @Idempotent()
      @Retryable(RETRY)
      @CircuitBreaker({
        name: context.key,
        consecutiveFailures: FAILURES_TO_OPEN,
        openDuration: OPEN_MS,
      })
      @Bulkhead({ maxConcurrent: MAX_CONCURRENT, name: context.key })
      @Timeout(TIMEOUT_MS)
      call(): Promise<number> {
        return op();
      }
    }
    return { target: new Service(), invoke: 't.call()' };
  },
};

export const steadfastBulkhead: Variant = {
  name: 'steadfast @Bulkhead',
  library: 'steadfast',
  config: `@Bulkhead(${MAX_CONCURRENT})`,
  setup(op: Operation, context: SetupContext) {
    class Service {
      @Bulkhead({ maxConcurrent: MAX_CONCURRENT, name: context.key })
      call(): Promise<number> {
        return op();
      }
    }
    return { target: new Service(), invoke: 't.call()' };
  },
};

export const steadfastFallback: Variant = {
  name: 'steadfast @Fallback',
  library: 'steadfast',
  config: '@Fallback(() => -1)',
  setup(op: Operation) {
    class Service {
      @Fallback(() => -1)
      call(): Promise<number> {
        return op();
      }
    }
    return { target: new Service(), invoke: 't.call()' };
  },
};

export const steadfastTimeout: Variant = {
  name: 'steadfast @Timeout',
  library: 'steadfast',
  config: `@Timeout(${TIMEOUT_MS})`,
  setup(op: Operation) {
    class Service {
      @Timeout(TIMEOUT_MS)
      call(): Promise<number> {
        return op();
      }
    }
    return { target: new Service(), invoke: 't.call()' };
  },
};
