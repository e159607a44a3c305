import type { Call } from '../call';
import { BulkheadRejectedError, withoutStack } from '../errors';
import { WAIT, type AttemptGuard } from '../plan';
import type { Bulkhead, QueueExit } from './bulkhead';
import type { BulkheadDeclaration } from './bulkhead-declarations';

/**
 * bulkhead(…): an attempt runs only while it holds a slot, and gives it back when it ends (at its
 * deadline if it times out, though the abandoned body may run on). With no free slot it queues, if
 * there is room, else it rejects at once with BulkheadRejectedError.
 */
export class BulkheadStage implements AttemptGuard<Bulkhead> {
  constructor(
    /** the bulkhead every call shares (scope 'class'), or undefined for one per instance */
    private readonly shared: Bulkhead | undefined,
    private readonly declaration: BulkheadDeclaration,
  ) {}

  private bulkheadFor(call: Call): Bulkhead {
    return this.shared ?? call.plan.engine.bulkheadFor(this.declaration, call.thisArg);
  }

  /** The bulkhead whose slot the attempt holds, or WAIT to queue; throws when it is full. */
  enter(call: Call): Bulkhead | typeof WAIT {
    const bulkhead = this.bulkheadFor(call);
    if (bulkhead.tryEnter()) return bulkhead;
    if (!bulkhead.hasRoom()) {
      bulkhead.rejected++;
      throw rejection(call, bulkhead, 'full');
    }
    return WAIT;
  }

  enterAsync(call: Call): Promise<Bulkhead> {
    let bulkhead: Bulkhead | typeof WAIT;
    try {
      bulkhead = this.enter(call);
    } catch (error) {
      return Promise.reject(error);
    }
    if (bulkhead !== WAIT) return Promise.resolve(bulkhead);
    const queued = this.bulkheadFor(call);
    return queued.enqueue(call.signal, call.plan.engine.clock).then(
      () => queued,
      (exit: QueueExit) => {
        if (exit.kind === 'queue-timeout') throw rejection(call, queued, 'queue-timeout');
        // It left the queue: the body never ran, as for a rejection.
        call.refusal = exit.reason;
        throw exit.reason;
      },
    );
  }

  exit(_call: Call, bulkhead: Bulkhead): void {
    bulkhead.leave();
  }
}

function rejection(
  call: Call,
  bulkhead: Bulkhead,
  reason: 'full' | 'queue-timeout',
): BulkheadRejectedError {
  const { plan } = call;
  const { events } = plan.engine;
  if (events.has('bulkheadRejected'))
    events.emit('bulkheadRejected', { method: plan.label, bulkhead: bulkhead.name, reason });
  const error = withoutStack(() => new BulkheadRejectedError(plan.label, bulkhead.name, reason));
  call.refusal = error;
  return error;
}
