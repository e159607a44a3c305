import { randomBytes } from 'node:crypto';
import type { Breaker, BreakerObserver } from '../runtime/breaker/breaker';
import type { BreakerSettings } from '../runtime/breaker/breaker-options';
import { describeError, type LogSink } from '../runtime/log';
import type {
  SharedBreakerChange,
  SharedBreakerOperation,
  SharedBreakerReply,
  SharedBreakerRequest,
  SharedBreakerSettings,
  SharedBreakerStore,
  SharedBreakerWatch,
} from '../runtime/shared-breaker-store';
import { FleetBreaker, type FleetOperation, type FleetReply } from './fleet-breaker';
import {
  channelBreaker,
  FleetBreakers,
  FleetFlusher,
  type BreakerChannel,
  type FleetBatchMember,
} from './fleet-flusher';
import { settingsFromText } from './shared-breaker-settings';

/** As RedisStore's commandTimeout: a store that has not answered by then has failed (a call never waits longer). */
const EXCHANGE_TIMEOUT_MS = 1_000;
/** As RedisStore's defaults: failures go within 25 ms, batches of successes within 500 ms. */
const FLUSH_INTERVAL_MS = 25;
const QUIET_FLUSH_INTERVAL_MS = 500;

/**
 * The fleet breakers of one SharedBreakerStore of the user's own: FleetBreakers whose operations
 * become typed requests to `exchangeBreakers`, their outcomes batched for every breaker of the
 * store, and their state changes heard through `watchBreakers` when the store has it.
 */
class ExchangedBreakers {
  /** names this process (this adapter) to the store: its reporter id */
  private readonly reporter = randomBytes(6).toString('base64url');
  private readonly flusher = new FleetFlusher(
    FLUSH_INTERVAL_MS,
    QUIET_FLUSH_INTERVAL_MS,
    (members) => this.sendBatch(members),
  );
  private readonly breakers = new FleetBreakers<FleetBreaker>();
  private readonly channel: BreakerChannel = {
    breakers: this.breakers,
    flusher: this.flusher,
    run: (breaker, operation, epoch, args) => this.runNow(breaker, operation, epoch, args),
    memberOf: (breaker) => this.batchMemberOf(breaker),
    // The store's clock is learnt from each reply's `at`.
    clock: undefined,
  };
  private readonly settingsOf = new Map<string, SharedBreakerSettings>();
  private watching = false;

  constructor(private readonly store: SharedBreakerStore) {}

  createBreaker(
    name: string,
    settings: BreakerSettings,
    now: () => number,
    observer: BreakerObserver,
    log: LogSink,
  ): Breaker {
    const breaker = channelBreaker(this.channel, name, settings, now, observer, log);
    this.startWatching(log);
    return breaker;
  }

  private async runNow(
    breaker: FleetBreaker,
    operation: FleetOperation,
    epoch: number,
    args: readonly (string | number)[],
  ): Promise<FleetReply> {
    const head = breaker.entryHead(epoch, operation === 'read');
    const [reply] = await this.exchange([this.requestOf(operation, [...head, ...args])]);
    return reply;
  }

  private batchMemberOf(breaker: FleetBreaker): FleetBatchMember {
    return {
      batchEntry: () => {
        const args = breaker.batchEntry();
        return args === undefined ? undefined : { operation: 'record', keys: [], args };
      },
      batchReplied: (reply) => breaker.recorded(reply as FleetReply),
      batchFailed: (error) => breaker.recordFailed(error),
    };
  }

  private async sendBatch(members: readonly FleetBatchMember[]): Promise<void> {
    const entries: { member: FleetBatchMember; request: SharedBreakerRequest }[] = [];
    for (const member of members) {
      const entry = member.batchEntry();
      if (entry !== undefined)
        entries.push({ member, request: this.requestOf('record', entry.args) });
    }
    if (entries.length === 0) return;
    let replies: FleetReply[];
    try {
      replies = await this.exchange(entries.map(({ request }) => request));
    } catch (error) {
      for (const { member } of entries) member.batchFailed(error);
      return;
    }
    entries.forEach(({ member }, index) => member.batchReplied(replies[index], 0));
  }

  /** One exchange; a reply that does not fit the contract, or none within EXCHANGE_TIMEOUT_MS, is the store failing. */
  private async exchange(requests: readonly SharedBreakerRequest[]): Promise<FleetReply[]> {
    const answer = await withinTimeout(this.store.exchangeBreakers(this.reporter, requests));
    const replies = (answer as { replies?: unknown } | undefined)?.replies;
    const at = (answer as { at?: unknown } | undefined)?.at;
    if (!Array.isArray(replies) || replies.length !== requests.length)
      throw new TypeError(
        `exchangeBreakers() answered ${Array.isArray(replies) ? replies.length : 'no'} replies to ${requests.length} requests`,
      );
    if (typeof at !== 'number' || !Number.isFinite(at))
      throw new TypeError(`exchangeBreakers() answered a time that is not a number: ${String(at)}`);
    return (replies as unknown[]).map((reply, index) => {
      if (!isReply(reply))
        throw new TypeError(
          `exchangeBreakers() answered request ${index} with what is not a SharedBreakerReply: ${describeValue(reply)}`,
        );
      return { ...reply, at };
    });
  }

  /** A FleetBreaker's entry (name, epoch, settings digest, settings text, then its op's arguments) as a typed request. */
  private requestOf(
    operation: FleetOperation | 'record',
    args: readonly (string | number)[],
  ): SharedBreakerRequest {
    const [name, epoch, digest, text] = args as [string, number, number, string];
    let settings: SharedBreakerSettings | undefined;
    if (text !== '') {
      settings = this.settingsOf.get(text);
      if (settings === undefined) this.settingsOf.set(text, (settings = settingsFromText(text)));
    }
    return { name, epoch, settingsId: digest, settings, operation: operationOf(operation, args) };
  }

  private startWatching(log: LogSink): void {
    if (this.watching || typeof this.store.watchBreakers !== 'function') return;
    this.watching = true;
    const failed = (error: unknown): void =>
      log.warn(
        `shared breaker store: watchBreakers() failed (${describeError(error)}); transitions arrive with each exchange`,
        { error },
      );
    let watch: SharedBreakerWatch;
    try {
      // A change that does not fit the contract is not taken: it could only corrupt the breaker.
      watch = this.store.watchBreakers((change) => {
        if (isChange(change)) this.breakers.changed(change);
      });
    } catch (error) {
      return failed(error);
    }
    // A breaker that read the fleet's state before the watch was in place may have missed a change.
    Promise.resolve((watch as Partial<SharedBreakerWatch> | undefined)?.ready).then(
      () => this.breakers.each((breaker) => breaker.refresh()),
      failed,
    );
  }
}

function withinTimeout<T>(exchange: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`exchangeBreakers() did not answer within ${EXCHANGE_TIMEOUT_MS} ms`)),
      EXCHANGE_TIMEOUT_MS,
    );
    timer.unref();
  });
  return Promise.race([exchange, timedOut]).finally(() => clearTimeout(timer));
}

function operationOf(
  operation: FleetOperation | 'record',
  args: readonly (string | number)[],
): SharedBreakerOperation {
  const number = (index: number): number => Number(args[index]);
  switch (operation) {
    case 'record':
      return {
        type: 'record',
        calls: number(4),
        failures: number(5),
        slowCalls: number(6),
        leadingFailures: number(7),
        trailingFailures: number(8),
        longestFailureRun: number(9),
      };
    case 'acquire':
      return { type: 'acquire', token: String(args[4]), leaseMs: number(5) };
    case 'settle':
      return {
        type: 'settle',
        outcome: args[4] as 'success' | 'failure' | 'slow' | 'ignored',
        token: String(args[5]),
      };
    case 'release':
      return { type: 'release', token: String(args[4]) };
    default:
      return { type: operation };
  }
}

const STATES: ReadonlySet<unknown> = new Set(['closed', 'open', 'half-open', 'isolated']);
const NUMBERS = [
  'epoch',
  'since',
  'openUntil',
  'openings',
  'calls',
  'failures',
  'slowCalls',
  'consecutiveFailures',
] as const;

function isReply(value: unknown): value is SharedBreakerReply {
  if (typeof value !== 'object' || value === null) return false;
  const reply = value as Record<string, unknown>;
  return (
    STATES.has(reply.state) &&
    NUMBERS.every((field) => typeof reply[field] === 'number' && Number.isFinite(reply[field])) &&
    typeof reply.granted === 'boolean' &&
    typeof reply.reason === 'string'
  );
}

function isChange(value: unknown): value is SharedBreakerChange {
  if (typeof value !== 'object' || value === null) return false;
  const change = value as Record<string, unknown>;
  return (
    typeof change.name === 'string' &&
    STATES.has(change.state) &&
    ['epoch', 'since', 'openUntil', 'openings'].every(
      (field) => typeof change[field] === 'number' && Number.isFinite(change[field]),
    ) &&
    typeof change.reason === 'string'
  );
}

function describeValue(value: unknown): string {
  try {
    return (JSON.stringify(value) ?? String(value)).slice(0, 200);
  } catch {
    return String(value);
  }
}

const adapters = new WeakMap<SharedBreakerStore, ExchangedBreakers>();

/** A fleet breaker over a SharedBreakerStore: every breaker of one store shares its batches and its watch. */
export function exchangedBreaker(
  store: SharedBreakerStore,
  name: string,
  settings: BreakerSettings,
  now: () => number,
  observer: BreakerObserver,
  log: LogSink,
): Breaker {
  let adapter = adapters.get(store);
  if (adapter === undefined) adapters.set(store, (adapter = new ExchangedBreakers(store)));
  return adapter.createBreaker(name, settings, now, observer, log);
}
