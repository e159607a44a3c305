import type { AbortSignalLike } from './clock';
import type { ExecutionPlan } from './plan';
import type { TimeoutError } from './errors';
import type { Subscribable } from '../rxjs/subscribable';
import type { Breaker } from './breaker/breaker';
import type { FailureReason } from './events';
import { keepAlive } from './keep-alive';

/** One call of a decorated method, as it goes through the stages. */
export class Call {
  /** the signal that ends the call early: the caller's, or one that also follows the total deadline */
  signal: AbortSignalLike | undefined;
  /** set when the total deadline passed: the call has already been answered with it */
  expired: TimeoutError | undefined = undefined;
  /** the last attempt started (for reports); 0 before the first */
  attempt = 0;
  /** the attempt running now, 0 between attempts (during a sleep) */
  running = 0;
  /** true once the call's final failure has been reported: it is reported once, by whoever ends the call */
  reported = false;
  /** the last refusal by this call's own breaker or bulkhead (a body may throw such errors too: those are not refusals) */
  refusal: unknown = undefined;
  /** the breaker that made that refusal, if a breaker did */
  refusedBy: Breaker | undefined = undefined;
  /** an Observable method's source: its body runs once per call, each attempt subscribes to it */
  source: Subscribable | undefined = undefined;
  /** for an Observable method's call, what its subscriber's unsubscribe aborts */
  unsubscribed: AbortSignalLike | undefined = undefined;
  /** why the call failed, once reported (for the fallback's line) */
  reason: FailureReason | undefined = undefined;

  /** when the call started (the engine clock's time), where someone listens to how calls end; else NaN */
  readonly startedAt: number;

  constructor(
    readonly plan: ExecutionPlan,
    readonly thisArg: unknown,
    readonly args: unknown[],
    /** the AbortSignal the caller passed, found among the arguments */
    readonly callerSignal: AbortSignalLike | undefined,
  ) {
    this.signal = callerSignal;
    this.startedAt = plan.engine.events.timesCalls ? plan.engine.clock.now() : Number.NaN;
  }

  /** ms since the call started, for the events that end it (0 where calls are not timed). */
  duration(): number {
    return Number.isNaN(this.startedAt) ? 0 : this.plan.engine.clock.now() - this.startedAt;
  }
}

/** A Call kept for its hidden class (see keep-alive.ts); the engine never runs it. */
export const KEPT_CALL = keepAlive(
  new Call(
    { engine: { events: { timesCalls: false } } } as unknown as ExecutionPlan,
    undefined,
    [],
    undefined,
  ),
);
