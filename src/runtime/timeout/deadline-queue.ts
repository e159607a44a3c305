import { systemClock, type Clock } from '../clock';
import { Cancellation } from '../cancellation';

/** Something with a deadline: an attempt or a call under `@Timeout`. */
export interface DeadlineEntry {
  /** when it expires, on the queue's clock (set by the queue) */
  deadline: number;
  /** true once it no longer needs its deadline (settled, or already expired) */
  readonly settled: boolean;
  /** the deadline passed before the entry settled */
  expire(): void;
}

/**
 * The deadlines of one duration on one clock. Entries arrive in deadline order, so the queue is a
 * FIFO with one alarm for its head: many calls in flight share one timer, and an entry that settles
 * early is dropped lazily when it reaches the head (no timer to clear). On the system clock the
 * timer is unref'd whenever no entry is live, so a deadline never keeps the process alive by itself;
 * on another clock (a FakeClock, say) the alarm's sleep is cancelled instead, so that no stale
 * deadline is left pending for `runAll()` to jump to.
 */
export class DeadlineQueue {
  private entries: (DeadlineEntry | undefined)[] = [];
  /** entries[head..tail) are queued; slots outside are empty (undefined) or free to reuse */
  private head = 0;
  private tail = 0;
  private live = 0;
  private armed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** cancels the alarm's sleep on a clock other than the system clock */
  private sleeping: Cancellation | undefined;
  private readonly onAlarm = (): void => this.alarm();

  constructor(
    private readonly clock: Clock,
    readonly duration: number,
  ) {}

  /** Starts `entry`'s deadline now. The entry calls release() once, when it settles or expires. */
  add(entry: DeadlineEntry): void {
    const now = this.clock.now();
    entry.deadline = now + this.duration;
    this.dropSettledHead();
    this.entries[this.tail++] = entry;
    if (this.live++ === 0) this.timer?.ref();
    if (!this.armed) this.arm(entry.deadline, now);
  }

  /** An entry settled (or expired): one fewer deadline that may need the timer. */
  release(): void {
    if (--this.live > 0) return;
    if (this.timer !== undefined) this.timer.unref();
    else if (this.sleeping !== undefined) {
      // Nothing live is left to expire: drop the alarm (and with it every entry, all settled).
      this.sleeping.abort(undefined);
      this.sleeping = undefined;
      this.armed = false;
      this.entries.fill(undefined, this.head, this.tail);
      this.head = this.tail = 0;
    }
  }

  private arm(deadline: number, now: number): void {
    this.armed = true;
    const ms = Math.max(0, deadline - now);
    if (this.clock === systemClock) {
      this.timer = setTimeout(this.onAlarm, ms);
      if (this.live === 0) this.timer.unref();
    } else {
      const sleeping = (this.sleeping = new Cancellation());
      this.clock.sleep(ms, sleeping).then(
        () => {
          if (this.sleeping === sleeping) this.alarm();
        },
        () => undefined,
      );
    }
  }

  private alarm(): void {
    this.armed = false;
    this.timer = undefined;
    this.sleeping = undefined;
    const now = this.clock.now();
    const { entries } = this;
    while (this.head < this.tail) {
      const entry = entries[this.head] as DeadlineEntry;
      if (!entry.settled && entry.deadline > now) break;
      entries[this.head++] = undefined;
      if (!entry.settled) entry.expire();
    }
    this.compact();
    if (this.head < this.tail) this.arm((entries[this.head] as DeadlineEntry).deadline, now);
  }

  private dropSettledHead(): void {
    const { entries } = this;
    while (this.head < this.tail && (entries[this.head] as DeadlineEntry).settled)
      entries[this.head++] = undefined;
    this.compact();
  }

  /** An empty queue starts again at slot 0; a long-drained front is cut off. */
  private compact(): void {
    if (this.head === this.tail) {
      this.head = this.tail = 0;
    } else if (this.head > 1024 && this.head * 2 > this.tail) {
      this.entries = this.entries.slice(this.head, this.tail);
      this.tail -= this.head;
      this.head = 0;
    }
  }
}

const queues = new WeakMap<Clock, Map<number, DeadlineQueue>>();

/** The queue for deadlines of `duration` ms on `clock`: one per pair, shared by every method. */
export function deadlineQueue(clock: Clock, duration: number): DeadlineQueue {
  let byDuration = queues.get(clock);
  if (byDuration === undefined) queues.set(clock, (byDuration = new Map()));
  let queue = byDuration.get(duration);
  if (queue === undefined) byDuration.set(duration, (queue = new DeadlineQueue(clock, duration)));
  return queue;
}
