import type { AbortSignalLike, Clock } from 'steadfast';

export interface SteppingClockOptions {
  /** the clock's time at the start, ms */
  readonly start?: number;
  /**
   * Sleeps longer than this (ms) are held: they end only once time, moved by `advance()` or by the
   * sleeps that end at once, reaches their end. For an app whose calls make real I/O under an
   * attempt deadline: its retry delays (up to this) still end at once, and its deadlines (longer)
   * wait for the test, so an attempt has all the real time a round trip takes. Default: none held.
   */
  readonly holdSleepsLongerThan?: number;
}

interface HeldSleep {
  readonly end: number;
  readonly resolve: () => void;
}

/**
 * A clock for apps under test: time moves only by `advance(ms)` and by the sleeps it is asked for,
 * which end at once (on the next turn of the event loop) after moving time forward by their length.
 * Retries run instantly and breakers see exact time, with no real waiting.
 */
export class SteppingClock implements Clock {
  /** every sleep that ended at once, in ms (held sleeps are not in it) */
  readonly sleeps: number[] = [];
  private time: number;
  private readonly holdLongerThan: number;
  private readonly held = new Set<HeldSleep>();

  constructor(options: SteppingClockOptions = {}) {
    this.time = options.start ?? 1_000_000;
    this.holdLongerThan = options.holdSleepsLongerThan ?? Infinity;
  }

  now(): number {
    return this.time;
  }

  /** Sleeps held now, waiting for time to reach their end. */
  get heldSleeps(): number {
    return this.held.size;
  }

  sleep(ms: number, signal?: AbortSignalLike): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (ms > this.holdLongerThan) return this.hold(ms, signal);
    this.sleeps.push(ms);
    this.moveTo(this.time + ms);
    return new Promise((resolve) => setImmediate(resolve));
  }

  advance(ms: number): void {
    this.moveTo(this.time + ms);
  }

  private hold(ms: number, signal: AbortSignalLike | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.held.delete(sleep);
        reject(signal?.reason);
      };
      const sleep: HeldSleep = {
        end: this.time + ms,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.held.add(sleep);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private moveTo(time: number): void {
    this.time = time;
    for (const sleep of this.held) {
      if (sleep.end > time) continue;
      this.held.delete(sleep);
      sleep.resolve();
    }
  }
}
