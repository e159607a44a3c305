import { KEPT_CALL, type Call } from '../call';
import { keepAlive } from '../keep-alive';
import { resolversInto } from '../resolvers';
import { Cancellation } from '../cancellation';
import { TimeoutError, withoutStack } from '../errors';
import { finalFailure } from '../outcome';
import type { CallStage } from '../plan';
import type { DeadlineEntry, DeadlineQueue } from './deadline-queue';

/**
 * timeout.total(…): the call as a whole, sleeps included, may take at most `timeout` ms. At the
 * deadline the call rejects with TimeoutError (kind 'total'); the call's signal aborts, so the
 * running attempt is abandoned, a pending sleep is cleared and no further attempt starts.
 */
export class TotalTimeoutStage implements CallStage {
  constructor(
    readonly timeout: number,
    private readonly queue: DeadlineQueue,
    private readonly next: CallStage,
  ) {}

  run(call: Call): Promise<unknown> {
    const deadline = new CallDeadline(call, this.timeout, this.queue);
    deadline.start(this.next);
    return deadline.promise;
  }
}

class CallDeadline implements DeadlineEntry {
  deadline = 0;
  settled = false;
  promise!: Promise<unknown>;
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;
  private readonly cancellation = new Cancellation();
  private stopFollowing: (() => void) | undefined;

  constructor(
    private readonly call: Call,
    private readonly timeout: number,
    private readonly queue: DeadlineQueue,
  ) {
    resolversInto(this);
  }

  start(next: CallStage): void {
    const { call } = this;
    if (call.callerSignal !== undefined)
      this.stopFollowing = this.cancellation.follow(call.callerSignal);
    call.signal = this.cancellation;
    this.queue.add(this);
    next.run(call).then(
      (value: unknown) => {
        if (this.finish()) this.resolve(value);
      },
      (error: unknown) => {
        if (this.finish()) this.reject(error);
      },
    );
  }

  expire(): void {
    const { call } = this;
    const { plan } = call;
    const error = withoutStack(() => new TimeoutError(plan.label, 'total', this.timeout));
    this.finish();
    call.expired = error;
    const { events } = plan.engine;
    if (events.has('timeout'))
      events.emit('timeout', {
        method: plan.label,
        kind: 'total',
        timeout: this.timeout,
        attempt: call.running,
      });
    this.reject(finalFailure(call, call.attempt, 'timeout', error));
    this.cancellation.abort(error);
  }

  /** Settles once; false if the deadline (or the call) already settled it. */
  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.queue.release();
    this.stopFollowing?.();
    return true;
  }
}

// Its hidden class kept alive (see keep-alive.ts), with a deadline of the representation real ones have.
keepAlive(new CallDeadline(KEPT_CALL, 0.5, undefined as never)).deadline = 0.5;
