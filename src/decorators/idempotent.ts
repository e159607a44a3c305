import { checkIdempotentOptions, type IdempotentOptions } from '../runtime/idempotency/idempotency-options';
import { isMarkedIdempotent, markIdempotent } from '../runtime/policy';
import { methodDecorator, type SteadfastMethodDecorator } from './method-decorator';

export type { IdempotentOptions };

/**
 * Declares the method safe to run more than once, which `@Retryable` requires. The mark is kept
 * where only this decorator can set it; an override in a subclass is unmarked unless decorated.
 *
 * With `key`, a non-idempotent operation becomes safe: within `ttl` its body runs at most once per
 * key, and later calls get the recorded result.
 *
 * @example @Idempotent()
 * @example @Idempotent({ key: (req: ChargeRequest) => req.requestId, ttl: 86_400_000 })
 */
export function Idempotent(options?: IdempotentOptions): SteadfastMethodDecorator {
  return methodDecorator('@Idempotent', (policy, checker) => {
    if (isMarkedIdempotent(policy)) checker.fail('@Idempotent', 'may be applied once per method', 'a second @Idempotent');
    policy.keyed = checkIdempotentOptions(options, checker);
    markIdempotent(policy);
  });
}
