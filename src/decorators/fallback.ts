import {
  checkFallback,
  type FallbackHandler,
  type FallbackOptions,
} from '../runtime/fallback/fallback-options';
import { hasMethod } from '../runtime/validation';
import { methodDecorator, type SteadfastMethodDecorator } from './method-decorator';

export type { FallbackHandler, FallbackOptions };

/**
 * Answers the call's final failure (its last error, CircuitOpenError, TimeoutError,
 * BulkheadRejectedError, …) with `handler(error, ...args)`, `this` being the instance, or with the
 * method of that name. If the handler throws, the call rejects with what it threw.
 *
 * @example @Fallback((error, id: string) => cachedQuote(id))
 * @example @Fallback('cachedQuote', { on: [CircuitOpenError, TimeoutError] })
 */
export function Fallback(
  handler: FallbackHandler | string,
  options?: FallbackOptions,
): SteadfastMethodDecorator {
  return methodDecorator('@Fallback', (policy, checker, owner) => {
    if (policy.fallback !== undefined)
      checker.fail('@Fallback', 'may be applied once per method', 'a second @Fallback');
    const settings = checkFallback(handler, options, policy.methodName, checker);
    // The class's own methods are known now in legacy mode; in standard mode at the first call.
    if (
      typeof settings.handler === 'string' &&
      owner !== undefined &&
      // Own methods only: Object.prototype's toString or valueOf is no fallback of the class.
      !hasMethod(owner, settings.handler)
    ) {
      checker.fail(
        'handler',
        `names '${settings.handler}', which is not a method of the class`,
        settings.handler,
      );
    }
    policy.fallback = settings;
  });
}
