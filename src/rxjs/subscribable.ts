import type { AbortSignalLike } from '../runtime/clock';

/** What steadfast needs of an Observable: RxJS's, or any with the same subscribe(). */
export interface Subscribable {
  subscribe(observer: {
    next(value: unknown): void;
    error(error: unknown): void;
    complete(): void;
  }): { unsubscribe(): void };
}

/** An RxJS Observable (or a look-alike): a subscribe() and no then(), so that a promise is never taken for one. */
export function isSubscribable(value: unknown): value is Subscribable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<Subscribable>).subscribe === 'function' &&
    typeof (value as { then?: unknown }).then !== 'function'
  );
}

/**
 * One attempt at an Observable method: one subscription to its source, resolving with every value it
 * emitted once it completes, rejecting with its error. When `signal` aborts first, the subscription
 * is ended and the attempt rejects with the signal's reason.
 */
export function valuesOf(
  source: Subscribable,
  signal: AbortSignalLike | undefined,
): Promise<unknown[]> {
  if (signal?.aborted === true) return Promise.reject(signal.reason);
  return new Promise<unknown[]>((resolve, reject) => {
    const values: unknown[] = [];
    let done = false;
    let stop: (() => void) | undefined;
    const finish = (): void => {
      done = true;
      if (signal !== undefined) signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      if (done) return;
      finish();
      stop?.();
      reject((signal as AbortSignalLike).reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let subscription: { unsubscribe(): void };
    try {
      subscription = source.subscribe({
        next: (value) => {
          if (!done) values.push(value);
        },
        error: (error) => {
          if (done) return;
          finish();
          reject(error);
        },
        complete: () => {
          if (done) return;
          finish();
          resolve(values);
        },
      });
    } catch (error) {
      if (!done) {
        finish();
        reject(error);
      }
      return;
    }
    stop = () => subscription.unsubscribe();
    // The source may have settled during subscribe(); it may also have been aborted meanwhile.
    if (done && signal?.aborted === true) subscription.unsubscribe();
  });
}
