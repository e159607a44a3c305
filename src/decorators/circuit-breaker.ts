import {
  checkBreakerOptions,
  type CircuitBreakerOptions,
} from '../runtime/breaker/breaker-options';
import { declareBreaker } from '../runtime/breaker/breaker-declarations';
import { methodDecorator, type SteadfastMethodDecorator } from './method-decorator';

/**
 * Guards the method with a circuit breaker: after repeated failures it opens and refuses calls
 * with CircuitOpenError for `openDuration`, then lets `halfOpenMaxCalls` trial calls through.
 * A breaker alone does not repeat calls, so it does not need @Idempotent.
 */
export function CircuitBreaker(options?: CircuitBreakerOptions): SteadfastMethodDecorator {
  return methodDecorator('@CircuitBreaker', (policy, checker) => {
    if (policy.breaker !== undefined)
      checker.fail('@CircuitBreaker', 'may be applied once per method', 'a second @CircuitBreaker');
    const checked = checkBreakerOptions(options === undefined ? {} : options, checker);
    let declaration;
    if (checked.name !== undefined)
      declaration = declareBreaker(checked.name, checked, true, checker);
    else if (policy.className !== undefined)
      declaration = declareBreaker(
        `${policy.className}.${policy.methodName}`,
        checked,
        false,
        checker,
      );
    policy.breaker = { options: checked, declaration };
  });
}
