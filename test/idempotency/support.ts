import {
  MemoryStore,
  type ClaimOutcome,
  type IdempotencyRecord,
  type IdempotencyStore,
} from '../../src';

export { deferred, type Deferred } from '../support/deferred';

/** The error a call rejected with; fails the test if it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    return error;
  }
  throw new Error(`expected the call to reject, but it resolved with ${JSON.stringify(value)}`);
}

/** Runs `define` (a function holding a class statement) and returns what it threw. */
export function thrownBy(define: () => unknown): unknown {
  try {
    define();
  } catch (error) {
    return error;
  }
  throw new Error('expected the class definition to throw, but it did not');
}

/** Whether a promise has settled yet, without waiting for it. */
export async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  const pending = Symbol('pending');
  const first = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<symbol>((resolve) => setImmediate(() => resolve(pending))),
  ]);
  return first !== pending;
}

export interface StoreCall {
  readonly operation: 'claim' | 'complete' | 'release' | 'read';
  readonly args: readonly unknown[];
}

/** A store that keeps every call it receives, delegating to a MemoryStore. */
export class RecordingStore implements IdempotencyStore {
  readonly calls: StoreCall[] = [];

  constructor(readonly inner: IdempotencyStore = new MemoryStore()) {}

  claim(
    key: string,
    fingerprint: string,
    token: string,
    leaseMs: number,
    now: number,
  ): Promise<ClaimOutcome> {
    this.calls.push({ operation: 'claim', args: [key, fingerprint, token, leaseMs, now] });
    return this.inner.claim(key, fingerprint, token, leaseMs, now);
  }

  complete(
    key: string,
    token: string,
    fingerprint: string,
    result: string,
    ttlMs: number,
    now: number,
  ): Promise<void> {
    this.calls.push({ operation: 'complete', args: [key, token, fingerprint, result, ttlMs, now] });
    return this.inner.complete(key, token, fingerprint, result, ttlMs, now);
  }

  release(key: string, token: string, now: number): Promise<void> {
    this.calls.push({ operation: 'release', args: [key, token, now] });
    return this.inner.release(key, token, now);
  }

  read(key: string, now: number): Promise<IdempotencyRecord | undefined> {
    this.calls.push({ operation: 'read', args: [key, now] });
    return this.inner.read(key, now);
  }

  of(operation: StoreCall['operation']): StoreCall[] {
    return this.calls.filter((call) => call.operation === operation);
  }
}

/**
 * Another process's view of one shared store: a distinct store object (so this process's
 * in-flight sharing does not apply across views) over the same records.
 */
export function processView(shared: IdempotencyStore): IdempotencyStore {
  return {
    claim: (...args) => shared.claim(...args),
    complete: (...args) => shared.complete(...args),
    release: (...args) => shared.release(...args),
    read: (...args) => shared.read(...args),
  };
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;
