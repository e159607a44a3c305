import { checkTimeoutOptions, type TimeoutOptions } from '../runtime/timeout/timeout-options';
import { methodDecorator, type SteadfastMethodDecorator } from './method-decorator';

export type { TimeoutOptions };

/**
 * Bounds the method's time. `attempt` (or the positional ms): each attempt rejects with
 * TimeoutError at its deadline, whatever the body does, and is retried like any failure. `total`:
 * the whole call, sleeps included, rejects with TimeoutError at its deadline and is not retried.
 * Inside the body, `attemptSignal()` gives the signal that aborts at either deadline.
 *
 * @example @Timeout(2_000)
 * @example @Timeout({ attempt: 2_000, total: 5_000 })
 */
export function Timeout(ms: number): SteadfastMethodDecorator;
export function Timeout(options: TimeoutOptions): SteadfastMethodDecorator;
export function Timeout(...params: unknown[]): SteadfastMethodDecorator {
  return methodDecorator('@Timeout', (policy, checker) => {
    if (policy.timeout !== undefined)
      checker.fail('@Timeout', 'may be applied once per method', 'a second @Timeout');
    policy.timeout = checkTimeoutOptions(params, checker);
  });
}
