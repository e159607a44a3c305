import { MemoryStore } from '../runtime/idempotency/memory-store';
import type {
  SharedBreakerChange,
  SharedBreakerExchange,
  SharedBreakerRequest,
  SharedBreakerStore,
  SharedBreakerWatch,
} from '../runtime/shared-breaker-store';
import { tellWatcher } from '../runtime/shared-breaker-store';
import { hasMethod, OptionChecker } from '../runtime/validation';
import { SharedBreakerTable } from '../stores/shared-breaker-table';

export interface MemoryFleetStoreOptions {
  /** records kept at most, as MemoryStore's `maxEntries` (default 10 000) */
  readonly maxEntries?: number;
  /** the clock the breakers decide by (default: `Date.now`); a FakeClock in tests */
  readonly clock?: { now(): number };
}

/**
 * A fleet in one process: a MemoryStore whose circuit breakers are shared, through the
 * SharedBreakerStore contract, by every engine configured with it, as processes share a
 * RedisStore. It is the reference implementation of that contract (each request one synchronous
 * step, so atomic), and a way to test fleet behaviour without Redis: two engines on one
 * MemoryFleetStore behave as two processes on one Redis.
 */
export class MemoryFleetStore extends MemoryStore implements SharedBreakerStore {
  private readonly table = new SharedBreakerTable();
  private readonly watchers = new Set<(change: SharedBreakerChange) => void>();
  private readonly clock: () => number;

  constructor(options: MemoryFleetStoreOptions = {}) {
    const checker = new OptionChecker('new MemoryFleetStore()', undefined);
    const given = checker.object('', options, ['maxEntries', 'clock']);
    super(given.maxEntries === undefined ? {} : { maxEntries: given.maxEntries as number });
    const clock = given.clock;
    if (clock !== undefined && !hasMethod(clock, 'now'))
      checker.fail('clock', 'must be a clock: an object with a now() method (a FakeClock)', clock);
    this.clock = clock === undefined ? Date.now : () => (clock as { now(): number }).now();
  }

  async exchangeBreakers(
    reporter: string,
    requests: readonly SharedBreakerRequest[],
  ): Promise<SharedBreakerExchange> {
    const at = this.clock();
    const changes: SharedBreakerChange[] = [];
    const replies = requests.map((request) =>
      this.table.apply(reporter, request, at, (change) => changes.push(change)),
    );
    // Watchers hear of a change after the exchange, as a subscriber hears of a published one.
    if (changes.length > 0)
      queueMicrotask(() => {
        for (const change of changes)
          for (const watcher of this.watchers) tellWatcher(watcher, change);
      });
    return { replies, at };
  }

  watchBreakers(listener: (change: SharedBreakerChange) => void): SharedBreakerWatch {
    this.watchers.add(listener);
    return { ready: Promise.resolve(), close: () => this.watchers.delete(listener) };
  }
}
