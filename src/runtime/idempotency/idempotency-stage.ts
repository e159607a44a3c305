import { randomUUID } from 'node:crypto';
import type { Call } from '../call';
import type { CallStage } from '../plan';
import type { IdempotencyStore, ClaimOutcome } from '../store';
import {
  IdempotencyKeyError,
  CorruptRecordError,
  IdempotencyConflictError,
  IdempotencyInProgressError,
  IdempotencyStoreError,
  UnstorableResultError,
  isCorruptRecordError,
} from '../errors';
import { describeError } from '../log';
import { stageFailure } from '../outcome';
import type { KeyedSettings } from './idempotency-options';
import { fingerprintOf, fingerprintOfValue, sha256 } from './fingerprint';
import { decodeResult, encodeResult, encodeUnstorable } from './result-codec';
import { renewWhileRunning } from './claim-renewals';

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
 * idempotency(…): at most one run of the stages below per key within the ttl. A recorded result
 * returns before anything else runs; a run that fails records nothing.
 */
export class IdempotencyStage implements CallStage {
  constructor(
    private readonly keyed: KeyedSettings,
    private readonly store: IdempotencyStore,
    /** the namespace keys are hashed under (see record-names.ts) */
    private readonly namespace: string,
    private readonly next: CallStage,
  ) {}

  run(call: Call): Promise<unknown> {
    const { keyed } = this;
    const { engine, label } = call.plan;
    const { args } = call;
    let key: string;
    let fingerprint: string;
    try {
      key = sha256(`${this.namespace}\u0000${keyText(keyed.key(...args), label)}`);
      fingerprint =
        keyed.fingerprint === undefined
          ? fingerprintOf(args, label)
          : fingerprintOfValue(keyed.fingerprint(...args), label);
    } catch (error) {
      return Promise.reject(stageFailure(call, error));
    }
    const { store } = this;
    let inFlight = inFlightByStore.get(store);
    if (inFlight === undefined) inFlightByStore.set(store, (inFlight = new Map()));
    const running = inFlight.get(key);
    if (running !== undefined) {
      if (running.fingerprint !== fingerprint)
        return Promise.reject(stageFailure(call, new IdempotencyConflictError(label)));
      if (engine.events.has('deduplicated'))
        engine.events.emit('deduplicated', {
          method: label,
          how: 'joined',
          duration: call.duration(),
        });
      return running.promise;
    }
    const promise = this.claimAndRun(call, key, fingerprint);
    const table = inFlight;
    table.set(key, { fingerprint, promise });
    const forget = (): void => void table.delete(key);
    promise.then(forget, forget);
    return promise;
  }

  private async claimAndRun(call: Call, key: string, fingerprint: string): Promise<unknown> {
    const { keyed, store } = this;
    const { engine, label } = call.plan;
    const token = randomUUID();
    const startedAt = engine.clock.now();
    let poll = FIRST_POLL_MS;
    for (;;) {
      let outcome: ClaimOutcome;
      try {
        outcome = await store.claim(key, fingerprint, token, keyed.lease, engine.clock.now());
      } catch (storeError) {
        // The store answered, with a record it cannot read: fail closed, whatever onStoreError says.
        if (isCorruptRecordError(storeError))
          throw stageFailure(call, new CorruptRecordError(label, storeError.problem));
        if (keyed.onStoreError === 'reject')
          throw stageFailure(call, new IdempotencyStoreError(label, storeError));
        engine.log.warn(
          `${label}: idempotency store failed (${describeError(storeError)}); running without deduplication (onStoreError: 'proceed')`,
          {
            method: label,
            error: storeError,
          },
        );
        return this.next.run(call);
      }
      if (outcome.claimed) return this.runClaimed(call, key, token, fingerprint);
      const { record } = outcome;
      if (record.fingerprint !== fingerprint)
        throw stageFailure(call, new IdempotencyConflictError(label));
      if (record.state === 'completed') {
        if (engine.events.has('deduplicated'))
          engine.events.emit('deduplicated', {
            method: label,
            how: 'replayed',
            duration: call.duration(),
          });
        const decoded = decodeResult(record.result);
        if (decoded.ok === 'corrupt')
          throw stageFailure(call, new CorruptRecordError(label, decoded.problem));
        if (!decoded.ok)
          throw stageFailure(call, new UnstorableResultError(label, decoded.problem));
        return decoded.value;
      }
      // In progress elsewhere: wait for its result, or for its claim to be released or to lapse.
      const waited = engine.clock.now() - startedAt;
      if (waited >= keyed.wait)
        throw stageFailure(call, new IdempotencyInProgressError(label, waited));
      await engine.clock.sleep(Math.min(poll, keyed.wait - waited));
      poll = Math.min(poll * 2, LAST_POLL_MS);
    }
  }

  private async runClaimed(
    call: Call,
    key: string,
    token: string,
    fingerprint: string,
  ): Promise<unknown> {
    const { keyed, store } = this;
    const { engine, label } = call.plan;
    const stopRenewing = renewWhileRunning(store, call, key, token, keyed.lease);
    let result: unknown;
    try {
      result = await this.next.run(call);
    } catch (error) {
      stopRenewing?.();
      // A failed run records nothing: a later call may run the body.
      await store
        .release(key, token, engine.clock.now())
        .catch((storeError: unknown) =>
          engine.log.error(
            `${label}: could not release the idempotency claim; it lapses after ${keyed.lease} ms`,
            { method: label, error: storeError },
          ),
        );
      throw error;
    }
    stopRenewing?.();
    const encoded = encodeResult(result);
    const text = encoded.ok ? encoded.text : encodeUnstorable(encoded.problem);
    try {
      await store.complete(key, token, fingerprint, text, keyed.ttl, engine.clock.now());
    } catch (storeError) {
      // The body ran and succeeded: its result is the caller's, even if it could not be recorded.
      engine.log.error(
        `${label}: the result could not be recorded for idempotency (${describeError(storeError)}); a duplicate may run the body again once the claim lapses`,
        { method: label, error: storeError },
      );
    }
    if (!encoded.ok) throw stageFailure(call, new UnstorableResultError(label, encoded.problem));
    return result;
  }
}

function keyText(key: unknown, label: string): string {
  if (
    (typeof key === 'string' && key.length > 0) ||
    (typeof key === 'number' && Number.isFinite(key))
  )
    return String(key);
  const got =
    typeof key === 'string'
      ? 'an empty string'
      : typeof key === 'number'
        ? String(key)
        : key === null
          ? 'null'
          : typeof key;
  throw new IdempotencyKeyError(
    label,
    `the key function returned ${got}, not a non-empty string or a finite number`,
  );
}
