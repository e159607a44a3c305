import type { Clock } from 'steadfast';

/**
 * A clock for apps under test: time moves only by `advance(ms)` and by the sleeps it is asked for,
 * which end at once (on the next turn of the event loop) after moving time forward by their length.
 * Retries run instantly and breakers see exact time, with no real waiting.
 */
export class SteppingClock implements Clock {
  /** every sleep requested, in ms */
  readonly sleeps: number[] = [];

  constructor(private time = 1_000_000) {}

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.sleeps.push(ms);
    this.time += ms;
    return new Promise((resolve) => setImmediate(resolve));
  }

  advance(ms: number): void {
    this.time += ms;
  }
}
