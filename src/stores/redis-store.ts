import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { Breaker, type BreakerObserver } from '../runtime/breaker/breaker';
import type { BreakerSettings } from '../runtime/breaker/breaker-options';
import type { CircuitState } from '../runtime/events';
import type { LogSink } from '../runtime/log';
import type { ClaimOutcome, IdempotencyRecord, IdempotencyStore, SharedBreakerStore } from '../runtime/store';
import { FleetBreaker, type FleetLink, type FleetOperation, type FleetReply } from './fleet-breaker';
import { BREAKER, CLAIM, COMPLETE, RELEASE } from './redis-scripts';

export interface RedisStoreOptions {
  /** prefix of every key and of the pub/sub channel (default 'steadfast') */
  readonly prefix?: string;
  /** ms before a store operation counts as failed: the breaker falls back to local state (default 500) */
  readonly commandTimeout?: number;
  /** ms a breaker buffers outcomes before sending them as one batch (default 25) */
  readonly flushInterval?: number;
}

type ScriptArg = string | number;

interface RawRecord {
  readonly s: 'p' | 'c';
  readonly f: string;
  readonly t?: string;
  readonly r?: string;
}

/**
 * Shares idempotency records and circuit breaker state across every process configured with the
 * same Redis. Built from a `redis://` URL it owns its connections and `close()` releases them; an
 * ioredis client passed in stays the caller's (close() releases only the subscriber it made).
 */
export class RedisStore implements IdempotencyStore, SharedBreakerStore {
  private readonly client: Redis;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly commandTimeout: number;
  private readonly flushInterval: number;
  private subscriber: Redis | undefined;
  private readonly breakers = new Map<string, Set<FleetBreaker>>();
  private readonly scriptShas = new Map<string, string>();
  private closed = false;

  constructor(clientOrUrl: Redis | string, options: RedisStoreOptions = {}) {
    this.prefix = options.prefix ?? 'steadfast';
    this.channel = `${this.prefix}:circuit-changes`;
    this.commandTimeout = options.commandTimeout ?? 500;
    this.flushInterval = options.flushInterval ?? 25;
    if (typeof clientOrUrl === 'string') {
      if (!/^rediss?:\/\//.test(clientOrUrl)) throw new TypeError(`RedisStore: expected a redis:// or rediss:// URL, got '${clientOrUrl}'`);
      this.client = new Redis(clientOrUrl, { maxRetriesPerRequest: 1, lazyConnect: false });
      this.ownsClient = true;
    } else {
      this.client = clientOrUrl;
      this.ownsClient = false;
    }
    // ioredis reports connection errors as events; without a listener Node would print them all.
    this.client.on('error', () => {});
  }

  // --- idempotency records -------------------------------------------------------------------

  async claim(key: string, fingerprint: string, token: string, leaseMs: number, now: number): Promise<ClaimOutcome> {
    const reply = (await this.script(CLAIM, [this.recordKey(key)], [fingerprint, token, Math.ceil(leaseMs)])) as [number, string?, number?];
    if (reply[0] === 1) return { claimed: true };
    return { claimed: false, record: toRecord(reply[1] as string, reply[2] ?? 0, now) };
  }

  async complete(key: string, token: string, fingerprint: string, result: string, ttlMs: number): Promise<void> {
    await this.script(COMPLETE, [this.recordKey(key)], [token, fingerprint, result, Math.ceil(ttlMs)]);
  }

  async release(key: string, token: string): Promise<void> {
    await this.script(RELEASE, [this.recordKey(key)], [token]);
  }

  async read(key: string, now: number): Promise<IdempotencyRecord | undefined> {
    const recordKey = this.recordKey(key);
    const [[, raw], [, ttl]] = (await this.withTimeout(this.client.multi().get(recordKey).pttl(recordKey).exec())) as [[null, string | null], [null, number]];
    return raw === null ? undefined : toRecord(raw, ttl, now);
  }

  // --- shared breakers -----------------------------------------------------------------------

  createBreaker(name: string, settings: BreakerSettings, now: () => number, observer: BreakerObserver, log: LogSink): Breaker {
    const link: FleetLink = {
      run: (breaker, operation, extra) => this.runBreaker(breaker, operation, extra),
      flushInterval: this.flushInterval,
      log,
    };
    const breaker = new FleetBreaker(name, settings, now, observer, link);
    let named = this.breakers.get(name);
    if (named === undefined) this.breakers.set(name, (named = new Set()));
    named.add(breaker);
    this.subscribe();
    return breaker;
  }

  /** Sends buffered breaker outcomes, stops listening and, for a store built from a URL, disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const flushes: Promise<void>[] = [];
    for (const named of this.breakers.values()) for (const breaker of named) flushes.push(breaker.flush());
    await Promise.all(flushes);
    if (this.subscriber !== undefined) this.subscriber.disconnect();
    if (this.ownsClient) await this.client.quit().catch(() => this.client.disconnect());
  }

  private runBreaker(breaker: FleetBreaker, operation: FleetOperation, extra: readonly ScriptArg[]): Promise<FleetReply> {
    const base = `${this.prefix}:circuit:{${breaker.name}}`;
    return this.script(BREAKER, [base, `${base}:window`, `${base}:buckets`], [operation, Math.floor(breaker.clockNow()), this.channel, breaker.name, breaker.fleetSettings(), ...extra]).then(
      (reply) => {
        const [state, epoch, since, openUntil, openings, calls, failures, slowCalls, consecutive, granted, reason] = reply as [
          CircuitState,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          string,
        ];
        return { state, epoch, since, openUntil, openings, calls, failures, slowCalls, consecutive, granted: granted === 1, reason };
      },
    );
  }

  private subscribe(): void {
    if (this.subscriber !== undefined || this.closed) return;
    const subscriber = this.client.duplicate();
    this.subscriber = subscriber;
    subscriber.on('error', () => {});
    // After a reconnection, messages may have been missed: every breaker reads the fleet's state again.
    let connectedBefore = false;
    subscriber.on('ready', () => {
      if (connectedBefore) for (const named of this.breakers.values()) for (const breaker of named) breaker.markUnsynced();
      connectedBefore = true;
    });
    subscriber.on('message', (_channel: string, message: string) => {
      let parsed: { n: string; st: CircuitState; ep: number; si: number; ou: number; on: number; why: string };
      try {
        parsed = JSON.parse(message) as typeof parsed;
      } catch {
        return;
      }
      const named = this.breakers.get(parsed.n);
      if (named === undefined) return;
      for (const breaker of named) {
        breaker.onPublished({ state: parsed.st, epoch: parsed.ep, since: parsed.si, openUntil: parsed.ou, openings: parsed.on, reason: parsed.why });
      }
    });
    void subscriber.subscribe(this.channel).catch(() => {});
  }

  private recordKey(key: string): string {
    return `${this.prefix}:idempotency:${key}`;
  }

  private async script(source: string, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    let sha = this.scriptShas.get(source);
    if (sha === undefined) this.scriptShas.set(source, (sha = createHash('sha1').update(source).digest('hex')));
    try {
      return await this.withTimeout(this.client.evalsha(sha, keys.length, ...keys, ...args));
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.withTimeout(this.client.eval(source, keys.length, ...keys, ...args));
    }
  }

  private withTimeout<T>(operation: Promise<T>): Promise<T> {
    if (this.closed && !this.ownsClient) return operation;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${this.commandTimeout} ms`)), this.commandTimeout);
      timer.unref();
    });
    return Promise.race([operation, timeout]).finally(() => clearTimeout(timer));
  }
}

function toRecord(raw: string, ttlMs: number, now: number): IdempotencyRecord {
  const record = JSON.parse(raw) as RawRecord;
  if (record.s === 'p') return { state: 'in-progress', fingerprint: record.f, token: record.t ?? '', leaseUntil: now + Math.max(0, ttlMs) };
  return { state: 'completed', fingerprint: record.f, result: record.r ?? '' };
}
