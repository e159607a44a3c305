import { performance } from 'node:perf_hooks';
import type { BreakerObserver } from '../runtime/breaker/breaker';
import type { BreakerSettings } from '../runtime/breaker/breaker-options';
import type { LogSink } from '../runtime/log';
import { FleetBreaker, type FleetLink } from './fleet-breaker';

type ScriptArg = string | number;

/** One entry of a batch: the fleet script's operation, its keys (one slot) and its arguments. */
export interface FleetBatchEntry {
  readonly operation: string;
  readonly keys: readonly string[];
  readonly args: readonly ScriptArg[];
}

/**
 * Something that sends what it has in the store's batches: a shared breaker's counts, or a fleet
 * budget's (calls and retries started since its last batch), each with its own operation.
 */
export interface FleetBatchMember {
  /** its entry for the batch being sent, or undefined when it has nothing to send */
  batchEntry(): FleetBatchEntry | undefined;
  /** the script's answer to its entry, and the time the script decided by */
  batchReplied(reply: unknown, at: number): void;
  /** the batch failed (Redis down or too slow) */
  batchFailed(error: unknown): void;
}

/**
 * Sends the outcomes of all of a store's breakers in one batch: within `interval` ms of the first
 * failure or slow call, within `quietInterval` when there are only successes to report. One batch is
 * in flight at a time; what comes due meanwhile goes in the next. The timer is unref'd: batching is
 * an optimisation, not pending work, and must not hold the process open.
 */
export class FleetFlusher {
  private readonly due = new Set<FleetBatchMember>();
  private timer: NodeJS.Timeout | undefined;
  /** when the armed timer fires (performance.now()) */
  private timerAt = Number.POSITIVE_INFINITY;
  private sending: Promise<void> | undefined;

  constructor(
    private readonly interval: number,
    private readonly quietInterval: number,
    private readonly send: (members: readonly FleetBatchMember[]) => Promise<void>,
  ) {}

  schedule(member: FleetBatchMember, urgent: boolean): void {
    this.due.add(member);
    const at = performance.now() + (urgent ? this.interval : this.quietInterval);
    if (at >= this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.fire, urgent ? this.interval : this.quietInterval);
    this.timer.unref();
  }

  /** Sends what is due now (after the batch in flight, if any); resolves when the store has answered. */
  async flush(): Promise<void> {
    while (this.sending !== undefined) await this.sending;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
    }
    if (this.due.size === 0) return;
    const members = [...this.due];
    this.due.clear();
    this.sending = this.send(members).finally(() => (this.sending = undefined));
    await this.sending;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    // sendBatch() reports a failed batch to its breakers; nothing is left to report here.
    this.flush().catch(() => undefined);
  };
}

/** The fleet breakers of one store, by name: what a published (or watched) change is told to. */
export class FleetBreakers<Breaker extends FleetBreakerLike> {
  private readonly byName = new Map<string, Set<Breaker>>();

  add(breaker: Breaker): void {
    let named = this.byName.get(breaker.name);
    if (named === undefined) this.byName.set(breaker.name, (named = new Set()));
    named.add(breaker);
  }

  /** Tells every breaker named `name` of a change another process made. */
  changed(change: FleetChange): void {
    const named = this.byName.get(change.name);
    if (named !== undefined) for (const breaker of named) breaker.onPublished(change);
  }

  each(action: (breaker: Breaker) => void): void {
    for (const named of this.byName.values()) for (const breaker of named) action(breaker);
  }
}

/** A transition as a store reports it (times by the store's clock). */
export interface FleetChange {
  readonly name: string;
  readonly state: 'closed' | 'open' | 'half-open' | 'isolated';
  readonly epoch: number;
  readonly since: number;
  readonly openUntil: number;
  readonly openings: number;
  readonly reason: string;
}

interface FleetBreakerLike {
  readonly name: string;
  onPublished(change: FleetChange): void;
}

/** How a store sends its fleet breakers' operations: at once, and in its batches. */
export interface BreakerChannel {
  readonly breakers: FleetBreakers<FleetBreaker>;
  readonly flusher: FleetFlusher;
  run: FleetLink['run'];
  /** what the breaker puts in the store's batches (made on its first outcome) */
  memberOf(breaker: FleetBreaker): FleetBatchMember;
  readonly clock: (() => number) | undefined;
}

/** A fleet breaker on `channel`, registered there so that published changes reach it. */
export function channelBreaker(
  channel: BreakerChannel,
  name: string,
  settings: BreakerSettings,
  now: () => number,
  observer: BreakerObserver,
  log: LogSink,
): FleetBreaker {
  let member: FleetBatchMember | undefined;
  const link: FleetLink = {
    run: channel.run,
    schedule: (breaker, urgent) =>
      channel.flusher.schedule((member ??= channel.memberOf(breaker)), urgent),
    clock: channel.clock,
    log,
  };
  const breaker = new FleetBreaker(name, settings, now, observer, link);
  channel.breakers.add(breaker);
  return breaker;
}
