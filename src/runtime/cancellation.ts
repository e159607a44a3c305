import type { AbortSignalLike } from './clock';
import { keepAlive } from './keep-alive';

/**
 * A light AbortSignalLike that the engine aborts itself (a call out of time, a bulkhead waiter that
 * got its slot): cheaper than an AbortController, and enough for the clock's sleeps and the
 * engine's own listeners. Bodies get real AbortSignals (see attempt-signal.ts).
 */
export class Cancellation implements AbortSignalLike {
  aborted = false;
  reason: unknown = undefined;
  private listeners: (() => void)[] | undefined;

  /** Aborts once with `reason`; later calls do nothing. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners !== undefined) for (const listener of listeners) listener();
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const listeners = this.listeners;
    if (listeners === undefined) return;
    const index = listeners.indexOf(listener);
    if (index >= 0) listeners.splice(index, 1);
  }

  /** Aborts this one when `signal` aborts (at once if it already has); returns what stops following it. */
  follow(signal: AbortSignalLike): () => void {
    if (signal.aborted) {
      this.abort(signal.reason);
      return noop;
    }
    const onAbort = (): void => this.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  }
}

const noop = (): void => {};

// Its hidden class kept alive (see keep-alive.ts).
keepAlive(new Cancellation());
