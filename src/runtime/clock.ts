/** Where the engine reads time and sleeps; injectable so that tests control time. */
export interface Clock {
  /** Milliseconds since the epoch (or any fixed origin shared by this clock). */
  now(): number;
  /** Resolves after `ms`; rejects with `signal.reason` as soon as the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. A pending sleep is pending work and keeps the process alive, like pending I/O. */
export const systemClock: Clock = {
  now: Date.now,
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal === undefined) return new Promise((resolve) => setTimeout(resolve, ms));
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  },
};
