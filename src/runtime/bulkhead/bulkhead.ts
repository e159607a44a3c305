import type { AbortSignalLike, Clock } from '../clock';
import { Cancellation } from '../cancellation';
import type { BulkheadOptions } from './bulkhead-options';

/** What `engine.bulkhead(name)` gives: the limits and the figures, live. */
export interface BulkheadHandle {
  readonly name: string;
  readonly maxConcurrent: number;
  readonly maxQueued: number;
  /** attempts holding a slot now */
  readonly running: number;
  /** attempts waiting for a slot now */
  readonly queued: number;
  /** attempts refused since the bulkhead was made (full, or out of queue time) */
  readonly rejected: number;
}

/** Why a queued attempt left without a slot. */
export type QueueExit =
  { readonly kind: 'aborted'; readonly reason: unknown } | { readonly kind: 'queue-timeout' };

/** One queued attempt, in a doubly linked list so that leaving the queue early is O(1). */
class Waiter {
  previous: Waiter | undefined;
  next: Waiter | undefined;
  stopWaiting: (() => void) | undefined;

  constructor(
    readonly admit: () => void,
    readonly exit: (why: QueueExit) => void,
  ) {}
}

/**
 * A semaphore with a FIFO queue. A slot is handed from the attempt that leaves to the first in the
 * queue, so `running` never exceeds `maxConcurrent` and nobody jumps the queue.
 */
export class Bulkhead implements BulkheadHandle {
  running = 0;
  queued = 0;
  rejected = 0;
  readonly maxConcurrent: number;
  readonly maxQueued: number;
  private readonly queueTimeout: number | undefined;
  private first: Waiter | undefined;
  private last: Waiter | undefined;

  constructor(
    readonly name: string,
    options: BulkheadOptions,
  ) {
    this.maxConcurrent = options.maxConcurrent as number;
    this.maxQueued = options.maxQueued ?? 0;
    this.queueTimeout = options.queueTimeout;
  }

  /** Takes a slot if one is free. */
  tryEnter(): boolean {
    if (this.running < this.maxConcurrent) {
      this.running++;
      return true;
    }
    return false;
  }

  /** Whether a call that finds no free slot may queue. */
  hasRoom(): boolean {
    return this.queued < this.maxQueued;
  }

  /**
   * Queues for a slot (call only when tryEnter() failed and hasRoom()). Resolves once a slot is
   * handed over; rejects with the exit when `signal` aborts or `queueTimeout` passes first.
   */
  enqueue(signal: AbortSignalLike | undefined, clock: Clock): Promise<void> {
    if (signal?.aborted === true)
      return Promise.reject<void>({ kind: 'aborted', reason: signal.reason } satisfies QueueExit);
    return new Promise<void>((resolve, reject) => {
      const waiter = new Waiter(resolve, reject);
      this.push(waiter);
      let stopTimer: (() => void) | undefined;
      let stopAbort: (() => void) | undefined;
      if (this.queueTimeout !== undefined) {
        const cancel = new Cancellation();
        clock.sleep(this.queueTimeout, cancel).then(
          () => this.leaveQueue(waiter, { kind: 'queue-timeout' }),
          () => undefined,
        );
        stopTimer = () => cancel.abort(undefined);
      }
      if (signal !== undefined) {
        const onAbort = (): void =>
          this.leaveQueue(waiter, { kind: 'aborted', reason: signal.reason });
        signal.addEventListener('abort', onAbort, { once: true });
        stopAbort = () => signal.removeEventListener('abort', onAbort);
      }
      if (stopTimer !== undefined || stopAbort !== undefined) {
        waiter.stopWaiting = () => {
          stopTimer?.();
          stopAbort?.();
        };
      }
    });
  }

  /** Gives a slot back: to the first queued attempt if there is one. */
  leave(): void {
    const waiter = this.first;
    if (waiter === undefined) {
      this.running--;
      return;
    }
    this.unlink(waiter);
    waiter.stopWaiting?.();
    waiter.admit();
  }

  private leaveQueue(waiter: Waiter, why: QueueExit): void {
    if (!this.isQueued(waiter)) return;
    this.unlink(waiter);
    waiter.stopWaiting?.();
    if (why.kind === 'queue-timeout') this.rejected++;
    waiter.exit(why);
  }

  private push(waiter: Waiter): void {
    this.queued++;
    waiter.previous = this.last;
    if (this.last === undefined) this.first = waiter;
    else this.last.next = waiter;
    this.last = waiter;
  }

  private isQueued(waiter: Waiter): boolean {
    return waiter.previous !== undefined || this.first === waiter;
  }

  private unlink(waiter: Waiter): void {
    this.queued--;
    if (waiter.previous === undefined) this.first = waiter.next;
    else waiter.previous.next = waiter.next;
    if (waiter.next === undefined) this.last = waiter.previous;
    else waiter.next.previous = waiter.previous;
    waiter.previous = waiter.next = undefined;
  }
}
