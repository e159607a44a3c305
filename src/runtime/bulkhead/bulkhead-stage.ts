import type { Call } from '../call';
import { BulkheadRejectedError, withoutStack } from '../errors';
import type { AttemptStage } from '../plan';
import type { Bulkhead, QueueExit } from './bulkhead';
import type { BulkheadDeclaration } from './bulkhead-declarations';

/**
 * bulkhead(…): an attempt runs only while it holds a slot, and gives it back when it ends (at its
 * deadline if it times out, though the abandoned body may run on). With no free slot it queues, if
 * there is room, else it rejects at once with BulkheadRejectedError.
 */
export class BulkheadStage implements AttemptStage {
  constructor(
    /** the bulkhead every call shares (scope 'class'), or undefined for one per instance */
    private readonly shared: Bulkhead | undefined,
    private readonly declaration: BulkheadDeclaration,
    private readonly next: AttemptStage,
  ) {}

  run(call: Call, attempt: number): Promise<unknown> {
    const bulkhead = this.shared ?? call.plan.engine.bulkheadFor(this.declaration, call.thisArg);
    if (bulkhead.tryEnter()) return this.holding(bulkhead, call, attempt);
    if (!bulkhead.hasRoom()) {
      bulkhead.rejected++;
      return Promise.reject(rejection(call, bulkhead, 'full'));
    }
    return bulkhead.enqueue(call.signal, call.plan.engine.clock).then(
      () => this.holding(bulkhead, call, attempt),
      (exit: QueueExit) => {
        if (exit.kind === 'queue-timeout') throw rejection(call, bulkhead, 'queue-timeout');
        // It left the queue: the body never ran, as for a rejection.
        call.refusal = exit.reason;
        throw exit.reason;
      },
    );
  }

  private holding(bulkhead: Bulkhead, call: Call, attempt: number): Promise<unknown> {
    let pending: Promise<unknown>;
    try {
      pending = this.next.run(call, attempt);
    } catch (error) {
      bulkhead.leave();
      return Promise.reject(error);
    }
    return pending.then(
      (value: unknown) => {
        bulkhead.leave();
        return value;
      },
      (error: unknown) => {
        bulkhead.leave();
        throw error;
      },
    );
  }
}

function rejection(call: Call, bulkhead: Bulkhead, reason: 'full' | 'queue-timeout'): BulkheadRejectedError {
  const { plan } = call;
  const { events } = plan.engine;
  if (events.has('bulkheadRejected')) events.emit('bulkheadRejected', { method: plan.label, bulkhead: bulkhead.name, reason });
  const error = withoutStack(() => new BulkheadRejectedError(plan.label, bulkhead.name, reason));
  call.refusal = error;
  return error;
}
