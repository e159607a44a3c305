import {
  checkIdempotentOptions,
  type IdempotentOptions,
} from '../runtime/idempotency/idempotency-options';
import { isMarkedIdempotent, markIdempotent } from '../runtime/policy';
import { claimExplicitName } from '../runtime/idempotency/record-names';
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
 * @example @Idempotent({ key: (req: ChargeRequest) => req.requestId, name: 'billing.charge' })
 */
export function Idempotent(options?: IdempotentOptions): SteadfastMethodDecorator {
  return methodDecorator('@Idempotent', (policy, checker) => {
    if (isMarkedIdempotent(policy))
      checker.fail('@Idempotent', 'may be applied once per method', 'a second @Idempotent');
    policy.keyed = checkIdempotentOptions(options, checker);
    // A name that clashes is refused now where the class is known (legacy mode), else at the first call.
    const name = policy.keyed?.name;
    if (name !== undefined && policy.className !== undefined)
      claimExplicitName(name, `${policy.className}.${policy.methodName}`, policy.original, checker);
    markIdempotent(policy);
  });
}
