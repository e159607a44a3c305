import { CircuitBreaker, Idempotent, Retryable } from '../../src';
import type { Operation } from '../harness/operations';
import type { SetupContext, Variant } from '../harness/types';
import { ATTEMPTS, FAILURES_TO_OPEN, NEVER_OPENS, OPEN_MS } from './equivalence';

/*
 * steadfast's decorators on a method whose body is the operation. Each setup defines a new class,
 * and every breaker is named after the scenario and variant, so no two variants share a breaker.
 * run.ts configures the engine with `logger: false`: the competitors do not log either.
 */

const RETRY = { maxAttempts: ATTEMPTS, initialDelay: 0, jitter: 'none' } as const;
const retryConfig = `@Retryable({ maxAttempts: ${ATTEMPTS}, initialDelay: 0, jitter: 'none' })`;
const breakerConfig = (failures: number): string =>
  `@CircuitBreaker({ name, consecutiveFailures: ${failures === NEVER_OPENS ? '1e9 (never opens)' : failures}, openDuration: ${OPEN_MS} })`;

function breakerOptions(
  context: SetupContext,
  failures: number,
): { name: string; consecutiveFailures: number; openDuration: number } {
  return { name: context.key, consecutiveFailures: failures, openDuration: OPEN_MS };
}

const suffix = (failures: number): string =>
  failures === NEVER_OPENS ? ' (breaker never opens)' : '';

export const steadfastIdempotent: Variant = {
  name: 'steadfast @Idempotent',
  library: 'steadfast',
  config: '@Idempotent()',
  setup(op: Operation) {
    class Service {
      @Idempotent()
      call(): Promise<number> {
        return op();
      }
    }
    return { target: new Service(), invoke: 't.call()' };
  },
};

export const steadfastRetry: Variant = {
  name: 'steadfast @Retryable + @Idempotent',
  library: 'steadfast',
  config: `@Idempotent() ${retryConfig}`,
  setup(op: Operation) {
    class Service {
      @Idempotent()
      @Retryable(RETRY)
      call(): Promise<number> {
        return op();
      }
    }
    return { target: new Service(), invoke: 't.call()' };
  },
};

export function steadfastBreaker(failures = FAILURES_TO_OPEN): Variant {
  return {
    name: `steadfast @CircuitBreaker${suffix(failures)}`,
    library: 'steadfast',
    config: breakerConfig(failures),
    setup(op: Operation, context: SetupContext) {
      class Service {
        @CircuitBreaker(breakerOptions(context, failures))
        call(): Promise<number> {
          return op();
        }
      }
      return { target: new Service(), invoke: 't.call()' };
    },
  };
}

export function steadfastAllThree(failures = FAILURES_TO_OPEN): Variant {
  return {
    name: `steadfast all three${suffix(failures)}`,
    library: 'steadfast',
    config: `@Idempotent() ${retryConfig} ${breakerConfig(failures)}`,
    setup(op: Operation, context: SetupContext) {
      class Service {
        @Idempotent()
        @Retryable(RETRY)
        @CircuitBreaker(breakerOptions(context, failures))
        call(): Promise<number> {
          return op();
        }
      }
      return { target: new Service(), invoke: 't.call()' };
    },
  };
}
