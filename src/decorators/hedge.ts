import {
  checkHedgeOptions,
  type AdaptiveHedgeDelay,
  type HedgeOptions,
} from '../runtime/hedge/hedge-options';
import { methodDecorator, type SteadfastMethodDecorator } from './method-decorator';

export type { AdaptiveHedgeDelay, HedgeOptions };

/**
 * Races a slow attempt: one that has not settled after `delay` is joined by another (up to
 * `maxHedged` more), the first success is the result, and the others are aborted. For tail latency.
 * Only for `@Idempotent` methods: without the mark the body never runs twice (NotIdempotentError).
 *
 * @example @Hedge({ delay: 50 })
 * @example @Hedge({ delay: { percentile: 0.95, min: 10, max: 200 }, maxHedged: 2 })
 */
export function Hedge(options: HedgeOptions): SteadfastMethodDecorator {
  return methodDecorator('@Hedge', (policy, checker) => {
    if (policy.hedge !== undefined)
      checker.fail('@Hedge', 'may be applied once per method', 'a second @Hedge');
    policy.hedge = checkHedgeOptions(options, checker);
  });
}
