import { randomUUID } from 'node:crypto';
import type { ExecutionPlan } from '../pipeline';
import type { IdempotencyStore, ClaimOutcome } from '../store';
import {
  ConfigError,
  CorruptRecordError,
  IdempotencyConflictError,
  IdempotencyInProgressError,
  IdempotencyStoreError,
  UnstorableResultError,
  isCorruptRecordError,
} from '../errors';
import { describeError } from '../log';
import type { KeyedSettings } from './idempotency-options';
import { fingerprintOf, fingerprintOfValue, sha256 } from './fingerprint';
import { decodeResult, encodeResult, encodeUnstorable } from './result-codec';

interface InFlight {
  readonly fingerprint: string;
  readonly promise: Promise<unknown>;
}

// Calls running in this process, by store and hashed key: duplicates share the one in flight.
const inFlightByStore = new WeakMap<IdempotencyStore, Map<string, InFlight>>();

/** First and last poll interval while a duplicate waits for a call in progress elsewhere. */
const FIRST_POLL_MS = 25;
const LAST_POLL_MS = 250;

/**
 * The outermost stage: at most one run of `inner` per key within the ttl. A recorded result returns
 * before anything else runs; a run that fails records nothing.
 */
export function runKeyed(plan: ExecutionPlan, thisArg: unknown, args: unknown[]): Promise<unknown> {
  const keyed = plan.keyed as KeyedSettings;
  const { engine, label } = plan;
  let key: string;
  let fingerprint: string;
  try {
    key = sha256(`${plan.recordNamespace}\u0000${keyText(keyed.key(...args), label)}`);
    fingerprint = keyed.fingerprint === undefined ? fingerprintOf(args, label) : fingerprintOfValue(keyed.fingerprint(...args), label);
  } catch (error) {
    return Promise.reject(finalError(plan, error));
  }
  const store = plan.keyedStore as IdempotencyStore;
  let inFlight = inFlightByStore.get(store);
  if (inFlight === undefined) inFlightByStore.set(store, (inFlight = new Map()));
  const running = inFlight.get(key);
  if (running !== undefined) {
    if (running.fingerprint !== fingerprint) return Promise.reject(finalError(plan, new IdempotencyConflictError(label)));
    if (engine.events.has('deduplicated')) engine.events.emit('deduplicated', { method: label, how: 'joined' });
    return running.promise;
  }
  const promise = claimAndRun(plan, store, key, fingerprint, thisArg, args);
  const table = inFlight;
  table.set(key, { fingerprint, promise });
  const forget = (): void => void table.delete(key);
  promise.then(forget, forget);
  return promise;
}

function keyText(key: unknown, label: string): string {
  if ((typeof key === 'string' && key.length > 0) || (typeof key === 'number' && Number.isFinite(key))) return String(key);
  throw new ConfigError(`@Idempotent on ${label}: option 'key' must return a non-empty string or a number, got ${typeof key === 'string' ? '""' : String(key)}`, 'key', label);
}

async function claimAndRun(plan: ExecutionPlan, store: IdempotencyStore, key: string, fingerprint: string, thisArg: unknown, args: unknown[]): Promise<unknown> {
  const keyed = plan.keyed as KeyedSettings;
  const { engine, label } = plan;
  const token = randomUUID();
  const startedAt = engine.clock.now();
  let poll = FIRST_POLL_MS;
  for (;;) {
    let outcome: ClaimOutcome;
    try {
      outcome = await store.claim(key, fingerprint, token, keyed.lease, engine.clock.now());
    } catch (storeError) {
      // The store answered, with a record it cannot read: fail closed, whatever onStoreError says.
      if (isCorruptRecordError(storeError)) throw finalError(plan, new CorruptRecordError(label, storeError.problem));
      if (keyed.onStoreError === 'reject') throw finalError(plan, new IdempotencyStoreError(label, storeError));
      engine.log.warn(`${label}: idempotency store failed (${describeError(storeError)}); running without deduplication (onStoreError: 'proceed')`, { method: label, error: storeError });
      return plan.inner(plan, thisArg, args);
    }
    if (outcome.claimed) return runClaimed(plan, store, key, token, fingerprint, thisArg, args);
    const { record } = outcome;
    if (record.fingerprint !== fingerprint) throw finalError(plan, new IdempotencyConflictError(label));
    if (record.state === 'completed') {
      if (engine.events.has('deduplicated')) engine.events.emit('deduplicated', { method: label, how: 'replayed' });
      const decoded = decodeResult(record.result);
      if (decoded.ok === 'corrupt') throw finalError(plan, new CorruptRecordError(label, decoded.problem));
      if (!decoded.ok) throw finalError(plan, new UnstorableResultError(label, decoded.problem));
      return decoded.value;
    }
    // In progress elsewhere: wait for its result, or for its claim to be released or to lapse.
    const waited = engine.clock.now() - startedAt;
    if (waited >= keyed.wait) throw finalError(plan, new IdempotencyInProgressError(label, waited));
    await engine.clock.sleep(Math.min(poll, keyed.wait - waited));
    poll = Math.min(poll * 2, LAST_POLL_MS);
  }
}

async function runClaimed(
  plan: ExecutionPlan,
  store: IdempotencyStore,
  key: string,
  token: string,
  fingerprint: string,
  thisArg: unknown,
  args: unknown[],
): Promise<unknown> {
  const keyed = plan.keyed as KeyedSettings;
  const { engine, label } = plan;
  let result: unknown;
  try {
    result = await plan.inner(plan, thisArg, args);
  } catch (error) {
    // A failed run records nothing: a later call may run the body.
    await store.release(key, token, engine.clock.now()).catch((storeError: unknown) =>
      engine.log.error(`${label}: could not release the idempotency claim; it lapses after ${keyed.lease} ms`, { method: label, error: storeError }),
    );
    throw error;
  }
  const encoded = encodeResult(result);
  const text = encoded.ok ? encoded.text : encodeUnstorable(encoded.problem);
  try {
    await store.complete(key, token, fingerprint, text, keyed.ttl, engine.clock.now());
  } catch (storeError) {
    // The body ran and succeeded: its result is the caller's, even if it could not be recorded.
    engine.log.error(`${label}: the result could not be recorded for idempotency (${describeError(storeError)}); a duplicate may run the body again once the claim lapses`, {
      method: label,
      error: storeError,
    });
  }
  if (!encoded.ok) throw finalError(plan, new UnstorableResultError(label, encoded.problem));
  return result;
}

/** Logs a failure of the idempotency stage itself at error; returns the error for the caller. */
function finalError(plan: ExecutionPlan, error: unknown): unknown {
  const { engine, label } = plan;
  if (engine.events.has('failure')) engine.events.emit('failure', { method: label, attempts: 0, reason: 'not-retryable', error });
  if (engine.log.enabled) engine.log.error(`${label} failed: ${describeError(error)}`, { method: label, error });
  return error;
}
