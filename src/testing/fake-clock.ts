import type { AbortSignalLike, Clock } from '../runtime/clock';

interface Sleeper {
  readonly wakeAt: number;
  readonly order: number;
  readonly resolve: () => void;
  readonly signal: AbortSignalLike | undefined;
  readonly onAbort: (() => void) | undefined;
}

/** Lets pending promise callbacks run: one macrotask turn drains every queued microtask. */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock that moves only when told. Pass it to `configure({ clock })`, then `advance(ms)`: every
 * sleep due by then wakes in order, and the code it wakes runs before the next one does.
 */
export class FakeClock implements Clock {
  private time: number;
  private sleepers: Sleeper[] = [];
  private created = 0;
  /** Every sleep requested, in ms, in the order requested (aborted ones included). */
  readonly sleeps: number[] = [];

  constructor(startAt = 0) {
    this.time = startAt;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignalLike): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const order = this.created++;
      const onAbort =
        signal === undefined
          ? undefined
          : (): void => {
              this.sleepers = this.sleepers.filter((sleeper) => sleeper.order !== order);
              reject(signal.reason);
            };
      signal?.addEventListener('abort', onAbort as () => void, { once: true });
      this.sleepers.push({ wakeAt: this.time + ms, order, resolve, signal, onAbort });
    });
  }

  /** Sleeps not yet woken (an aborted sleep is gone at once, as a cleared timer is). */
  get pending(): number {
    return this.sleepers.length;
  }

  /** Moves time forward by `ms`, waking every sleep due on the way, in order. */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.advance: ms must be >= 0, got ${ms}`);
    const target = this.time + ms;
    await flushMicrotasks();
    for (let next = this.due(target); next !== undefined; next = this.due(target)) {
      this.time = Math.max(this.time, next.wakeAt);
      this.wake(next);
      await flushMicrotasks();
    }
    this.time = target;
    await flushMicrotasks();
  }

  /** The same as advance(ms), under the name other fake timers use. */
  tick(ms: number): Promise<void> {
    return this.advance(ms);
  }

  /** Moves time to the next pending sleep and wakes it; false if none is pending. */
  async next(): Promise<boolean> {
    await flushMicrotasks();
    const first = this.due(Infinity);
    if (first === undefined) return false;
    await this.advance(Math.max(0, first.wakeAt - this.time));
    return true;
  }

  /** Wakes sleeps one after another until none is pending (at most `limit` of them). */
  async runAll(limit = 10_000): Promise<void> {
    for (let woken = 0; woken < limit; woken++) if (!(await this.next())) return;
    throw new Error(`FakeClock.runAll: still sleeping after ${limit} wake-ups`);
  }

  /** Lets queued promise callbacks run without moving time. */
  flush(): Promise<void> {
    return flushMicrotasks();
  }

  private due(limit: number): Sleeper | undefined {
    let first: Sleeper | undefined;
    for (const sleeper of this.sleepers) {
      if (sleeper.wakeAt > limit) continue;
      if (
        first === undefined ||
        sleeper.wakeAt < first.wakeAt ||
        (sleeper.wakeAt === first.wakeAt && sleeper.order < first.order)
      )
        first = sleeper;
    }
    return first;
  }

  private wake(sleeper: Sleeper): void {
    this.sleepers = this.sleepers.filter((other) => other !== sleeper);
    if (sleeper.onAbort !== undefined)
      sleeper.signal?.removeEventListener('abort', sleeper.onAbort);
    sleeper.resolve();
  }
}
