import type { Call } from '../call';
import { describeError } from '../log';
import type { IdempotencyStore } from '../store';

/** A keyed body running now, whose claim is renewed every third of its lease. */
interface RunningClaim {
  readonly key: string;
  readonly token: string;
  readonly lease: number;
  readonly every: number;
  readonly call: Call;
  /** when its next renewal is due (performance.now()) */
  dueAt: number;
}

/**
 * Renews the claims of the keyed bodies running now (stores with renew()), so that a duplicate never
 * runs a body while its owner is alive, however long it runs; one unref'd timer for the store, not
 * one per call. The time is the process's: a lease lapses in real time elsewhere. A renewal that
 * fails is logged and tried again a third of a lease later (the claim lapses only if renewals keep
 * failing until its lease ends); a claim found lost (it lapsed and another call took it) is no
 * longer renewed, logged as an error: that run's result will not be recorded.
 */
class ClaimRenewals {
  private readonly running = new Set<RunningClaim>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(private readonly store: IdempotencyStore) {}

  /** Renews the claim until the returned function is called. */
  keep(call: Call, key: string, token: string, lease: number): () => void {
    const every = Math.max(1, lease / 3);
    const claim: RunningClaim = {
      key,
      token,
      lease,
      every,
      call,
      dueAt: performance.now() + every,
    };
    this.running.add(claim);
    this.arm(claim.dueAt);
    return () => this.forget(claim);
  }

  // The timer is left armed when the last claim goes: the next call's renewal is due later, so
  // back-to-back keyed calls arm one timer a third of a lease, not one each.
  private forget(claim: RunningClaim): void {
    this.running.delete(claim);
  }

  private arm(at: number): void {
    if (at >= this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.tick, Math.max(0, Math.ceil(at - performance.now())));
    this.timer.unref();
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const claim of this.running) {
      if (claim.dueAt <= now) {
        claim.dueAt = now + claim.every;
        this.renew(claim);
      }
      next = Math.min(next, claim.dueAt);
    }
    if (next !== Number.POSITIVE_INFINITY) this.arm(next);
  };

  private renew(claim: RunningClaim): void {
    const { engine, label } = claim.call.plan;
    let renewing: Promise<boolean> | undefined;
    try {
      renewing = this.store.renew?.(claim.key, claim.token, claim.lease, engine.clock.now());
    } catch (error) {
      renewing = Promise.reject(error);
    }
    renewing?.then(
      (held) => {
        if (held || !this.running.has(claim)) return;
        this.forget(claim);
        engine.log.error(
          `${label}: the idempotency claim was lost while the body ran (it lapsed and another call took it over); this run's result will not be recorded`,
          { method: label },
        );
      },
      (error: unknown) => {
        if (!this.running.has(claim)) return;
        engine.log.warn(
          `${label}: could not renew the idempotency claim (${describeError(error)}); trying again in ${Math.round(claim.every)} ms (it lapses ${claim.lease} ms after the last renewal that succeeded)`,
          { method: label, error },
        );
      },
    );
  }
}

const renewalsByStore = new WeakMap<IdempotencyStore, ClaimRenewals>();

/** Starts renewing the claim while the body runs, for a store that can renew; returns what stops it. */
export function renewWhileRunning(
  store: IdempotencyStore,
  call: Call,
  key: string,
  token: string,
  lease: number,
): (() => void) | undefined {
  if (typeof store.renew !== 'function') return undefined;
  let renewals = renewalsByStore.get(store);
  if (renewals === undefined) renewalsByStore.set(store, (renewals = new ClaimRenewals(store)));
  return renewals.keep(call, key, token, lease);
}
