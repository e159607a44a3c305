import type { AbortSignalLike } from './clock';
import type { Call } from './call';
import type { MethodPolicy } from './policy';
import { isSubscribable, valuesOf } from '../rxjs/subscribable';

/**
 * Runs the body for one attempt. A Promise method's body runs each time; an Observable method's body
 * runs once per call, and each attempt is one subscription to the source it returned, resolving with
 * the values it emitted (the subscription ends when `signal` aborts). A method whose kind is not known
 * yet learns it here, from what its body returns.
 */
export function attemptOutcome(
  call: Call,
  args: unknown[],
  signal: AbortSignalLike | undefined,
): unknown {
  const { plan } = call;
  if (plan.returns === 'promise') return plan.method.apply(call.thisArg, args);
  let source = call.source;
  if (source === undefined) {
    const result = plan.method.apply(call.thisArg, args);
    if (!isSubscribable(result)) {
      if (plan.returns === 'observable') {
        throw new TypeError(
          `steadfast: ${plan.label} is declared to return an Observable, and its body returned ${typeof result}`,
        );
      }
      learnReturns(plan.policy, 'promise');
      return result;
    }
    learnReturns(plan.policy, 'observable');
    source = call.source = result;
  }
  return valuesOf(source, signal);
}

/** A method's kind, learnt: its plan is compiled again for it at the next call. */
function learnReturns(policy: MethodPolicy, kind: 'promise' | 'observable'): void {
  if (policy.returns !== undefined) return;
  policy.returns = kind;
  policy.plan = undefined;
}
