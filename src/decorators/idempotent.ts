import { methodDecorator, type SteadfastMethodDecorator } from './method-decorator';

/** Options of `@Idempotent`. Keyed deduplication (`key`, `ttl`, `store`) is not available yet. */
export type IdempotentOptions = Record<string, never>;

/**
 * Declares the method safe to run more than once, which `@Retryable` requires. The mark is kept
 * where only this decorator can set it; an override in a subclass is unmarked unless decorated.
 */
export function Idempotent(options?: IdempotentOptions): SteadfastMethodDecorator {
  return methodDecorator('@Idempotent', (policy, checker) => {
    if (options !== undefined) checker.object('', options, []);
    if (policy.idempotent !== undefined) checker.fail('@Idempotent', 'may be applied once per method', 'a second @Idempotent');
    policy.idempotent = true;
  });
}
