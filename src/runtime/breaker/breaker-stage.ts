import type { Call } from '../call';
import { isTimeoutError } from '../errors';
import type { AttemptStage } from '../plan';
import { ASK_ASYNC, REFUSED, type Breaker } from './breaker';
import type { BreakerDeclaration } from './breaker-declarations';

/**
 * breaker(…): an attempt runs only with a permit from the breaker, and its outcome (and duration,
 * for slow calls) is recorded. A refused attempt rejects with CircuitOpenError; the body does not run.
 */
export class BreakerStage implements AttemptStage {
  constructor(
    /** the breaker every call shares (scope 'class'), or undefined for one per instance */
    private readonly shared: Breaker | undefined,
    private readonly declaration: BreakerDeclaration,
    private readonly next: AttemptStage,
  ) {}

  breakerFor(call: Call): Breaker {
    return this.shared ?? call.plan.engine.breakerFor(this.declaration, call.thisArg);
  }

  async run(call: Call, attempt: number): Promise<unknown> {
    const breaker = this.breakerFor(call);
    let permit = breaker.tryAcquire();
    if (permit === ASK_ASYNC) permit = await breaker.acquireAsync();
    if (permit === REFUSED) throw refusal(call, breaker);
    const { clock } = call.plan.engine;
    const began = breaker.timesCalls ? clock.now() : 0;
    let result: unknown;
    try {
      result = await this.next.run(call, attempt);
    } catch (error) {
      // An attempt cut off at its deadline took at least that long: it counts as slow too.
      breaker.failed(permit, error, breaker.timesCalls ? (isTimeoutError(error) ? Number.POSITIVE_INFINITY : clock.now() - began) : 0);
      throw error;
    }
    breaker.succeeded(permit, result, breaker.timesCalls ? clock.now() - began : 0);
    return result;
  }

  /** Whether the next attempt would surely be refused: the retry loop then ends at once instead of sleeping. */
  refusesNext(call: Call): boolean {
    const breaker = this.breakerFor(call);
    return breaker.isRefusing() && breaker.tryAcquire() === REFUSED;
  }
}

/** The error for a refused attempt, with the `rejected` event. */
export function refusal(call: Call, breaker: Breaker): unknown {
  const error = breaker.refusal();
  call.refusal = error;
  const { plan } = call;
  const { events } = plan.engine;
  if (events.has('rejected')) events.emit('rejected', { circuit: breaker.name, method: plan.label, state: error.state, retryAfter: error.retryAfter });
  return error;
}
