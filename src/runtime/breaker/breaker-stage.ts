import type { Call } from '../call';
import { isTimeoutError } from '../errors';
import { WAIT, type AttemptGuard } from '../plan';
import { ASK_ASYNC, REFUSED, type Breaker } from './breaker';
import type { BreakerDeclaration } from './breaker-declarations';

/** A permit, with the breaker it came from (per instance, breakers differ between calls). */
export interface BreakerTicket {
  readonly breaker: Breaker;
  readonly permit: number;
}

/**
 * breaker(…): an attempt runs only with a permit from the breaker, and its outcome (and duration,
 * for slow calls) is recorded. A refused attempt rejects with CircuitOpenError; the body does not run.
 */
export class BreakerStage implements AttemptGuard<BreakerTicket | number> {
  /** true when the attempt's duration must be measured (slowCall) */
  readonly timesCalls: boolean;

  constructor(
    /** the breaker every call shares (scope 'class'), or undefined for one per instance */
    readonly shared: Breaker | undefined,
    private readonly declaration: BreakerDeclaration,
    /** ms an attempt may hold a fleet's trial permit: its deadline + 1 s, where it has one */
    private readonly permitLease: number | undefined = undefined,
  ) {
    this.timesCalls = shared === undefined || shared.timesCalls;
  }

  breakerFor(call: Call): Breaker {
    return this.shared ?? call.plan.engine.breakerFor(this.declaration, call.thisArg);
  }

  /** The permit (a number, for the shared breaker; with the breaker, for one per instance), or WAIT. */
  enter(call: Call): BreakerTicket | number | typeof WAIT {
    const breaker = this.breakerFor(call);
    const permit = breaker.tryAcquire();
    if (permit === ASK_ASYNC) return WAIT;
    if (permit === REFUSED) throw refusal(call, breaker);
    return breaker === this.shared ? permit : { breaker, permit };
  }

  async enterAsync(call: Call): Promise<BreakerTicket | number> {
    const breaker = this.breakerFor(call);
    let permit = breaker.tryAcquire();
    if (permit === ASK_ASYNC) permit = await breaker.acquireAsync(this.permitLease);
    if (permit === REFUSED) throw refusal(call, breaker);
    return breaker === this.shared ? permit : { breaker, permit };
  }

  exit(
    _call: Call,
    ticket: BreakerTicket | number,
    failed: boolean,
    outcome: unknown,
    duration: number,
  ): void {
    const breaker = typeof ticket === 'number' ? (this.shared as Breaker) : ticket.breaker;
    const permit = typeof ticket === 'number' ? ticket : ticket.permit;
    if (!failed) breaker.succeeded(permit, outcome, duration);
    // An attempt cut off at its deadline took at least that long: it counts as slow too.
    else
      breaker.failed(
        permit,
        outcome,
        isTimeoutError(outcome) ? Number.POSITIVE_INFINITY : duration,
      );
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
  call.refusedBy = breaker;
  const { plan } = call;
  const { events } = plan.engine;
  if (events.has('rejected'))
    events.emit('rejected', {
      circuit: breaker.name,
      method: plan.label,
      state: error.state,
      retryAfter: error.retryAfter,
    });
  return error;
}
