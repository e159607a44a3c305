import type { ClaimOutcome, IdempotencyRecord, IdempotencyStore } from '../store';
import { OptionChecker } from '../validation';

export interface MemoryStoreOptions {
  /** records kept at most; the least recently used goes first (default 10 000) */
  readonly maxEntries?: number;
}

type Entry = IdempotencyRecord & { readonly expiresAt: number };

/** The largest maxEntries: under V8's limit of 2^24 entries in one Map, with room for the one put before an eviction. */
const MAX_ENTRIES = 10_000_000;

/**
 * Idempotency records in this process: bounded (LRU) with expiry checked on access, so it starts
 * no timer. The engine's default store. Shares nothing across processes: use RedisStore for that.
 */
export class MemoryStore implements IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;

  constructor(options: MemoryStoreOptions = {}) {
    const checker = new OptionChecker('new MemoryStore()', undefined);
    const given = checker.object('', options, ['maxEntries']);
    this.maxEntries =
      given.maxEntries === undefined
        ? 10_000
        : checker.integer('maxEntries', given.maxEntries, 1, MAX_ENTRIES);
  }

  /** Records held now (expired ones included until touched). */
  get size(): number {
    return this.entries.size;
  }

  async claim(
    key: string,
    fingerprint: string,
    token: string,
    leaseMs: number,
    now: number,
  ): Promise<ClaimOutcome> {
    const entry = this.live(key, now);
    if (entry !== undefined) return { claimed: false, record: recordOf(entry) };
    this.put(key, {
      state: 'in-progress',
      fingerprint,
      token,
      leaseUntil: now + leaseMs,
      expiresAt: now + leaseMs,
    });
    return { claimed: true };
  }

  async complete(
    key: string,
    token: string,
    fingerprint: string,
    result: string,
    ttlMs: number,
    now: number,
  ): Promise<void> {
    const entry = this.entries.get(key);
    // A claim that lapsed and was taken over belongs to its new owner, and a recorded result stays.
    if (entry !== undefined && (entry.state !== 'in-progress' || entry.token !== token)) return;
    this.put(key, { state: 'completed', fingerprint, result, expiresAt: now + ttlMs });
  }

  async release(key: string, token: string): Promise<void> {
    const entry = this.entries.get(key);
    if (entry?.state === 'in-progress' && entry.token === token) this.entries.delete(key);
  }

  async renew(key: string, token: string, leaseMs: number, now: number): Promise<boolean> {
    const entry = this.entries.get(key);
    // A claim that expired is gone, as its Redis key would be, even if no other call took it yet.
    if (entry?.state !== 'in-progress' || entry.token !== token || entry.expiresAt <= now)
      return false;
    this.entries.set(key, { ...entry, leaseUntil: now + leaseMs, expiresAt: now + leaseMs });
    return true;
  }

  async read(key: string, now: number): Promise<IdempotencyRecord | undefined> {
    const entry = this.live(key, now);
    return entry === undefined ? undefined : recordOf(entry);
  }

  private live(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    // A claim past its lease has lapsed whatever its expiry says, as in RedisStore.
    if (entry.expiresAt <= now || (entry.state === 'in-progress' && entry.leaseUntil <= now)) {
      this.entries.delete(key);
      return undefined;
    }
    // Touch: a Map iterates in insertion order, so re-inserting makes this the most recent.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  private put(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

/** A copy for callers: what the store holds cannot be changed from outside. */
function recordOf(entry: Entry): IdempotencyRecord {
  return entry.state === 'in-progress'
    ? {
        state: 'in-progress',
        fingerprint: entry.fingerprint,
        token: entry.token,
        leaseUntil: entry.leaseUntil,
      }
    : { state: 'completed', fingerprint: entry.fingerprint, result: entry.result };
}
