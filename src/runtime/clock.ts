/**
 * What steadfast needs of an AbortSignal. Node's (and the DOM's) AbortSignal fits; declared here so
 * that the published types need neither @types/node nor the DOM library.
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * The platform's AbortSignal type where the consumer's types declare one (the DOM library or
 * @types/node), else AbortSignalLike: `attemptSignal()` can then be passed to `fetch()` as it is.
 */
export type PlatformAbortSignal = typeof globalThis extends {
  AbortSignal: { prototype: infer Signal };
}
  ? Signal
  : AbortSignalLike;

/** Duck-typed, so that signals from another realm (vm contexts, test sandboxes) count too. */
export function isAbortSignal(value: unknown): value is AbortSignalLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignalLike).aborted === 'boolean' &&
    typeof (value as AbortSignalLike).addEventListener === 'function'
  );
}

/** Where the engine reads time and sleeps; injectable so that tests control time. */
export interface Clock {
  /** Milliseconds since the epoch (or any fixed origin shared by this clock). */
  now(): number;
  /** Resolves after `ms`; rejects with `signal.reason` as soon as the signal aborts. */
  sleep(ms: number, signal?: AbortSignalLike): Promise<void>;
}

/** The longest delay setTimeout keeps (2^31 - 1 ms, about 24.8 days): a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/** setTimeout for any delay: one past the longest a timer keeps is a chain of timers. */
function longTimeout(done: () => void, ms: number): { clear(): void } {
  let timer: ReturnType<typeof setTimeout>;
  const wait = (left: number): void => {
    timer =
      left > MAX_TIMER_MS
        ? setTimeout(() => wait(left - MAX_TIMER_MS), MAX_TIMER_MS)
        : setTimeout(done, left);
  };
  wait(ms);
  return { clear: () => clearTimeout(timer) };
}

/** The real clock. A pending sleep is pending work and keeps the process alive, like pending I/O. */
export const systemClock: Clock = {
  // Looked up per call, so that fake timers installed later (jest.useFakeTimers) are seen.
  now: () => Date.now(),
  sleep(ms: number, signal?: AbortSignalLike): Promise<void> {
    if (signal === undefined) return new Promise((resolve) => longTimeout(resolve, ms));
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        timer.clear();
        reject(signal.reason);
      };
      const timer = longTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  },
};
