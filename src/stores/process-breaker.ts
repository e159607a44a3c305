import { Breaker, type BreakerObserver } from '../runtime/breaker/breaker';
import type { BreakerSettings } from '../runtime/breaker/breaker-options';

/** Epoch tags in a fleet permit: a stale permit would have to be 2^20 local transitions old to match. */
export const PROCESS_EPOCH_TAGS = 2 ** 20;

/**
 * The breaker a process keeps of its own outcomes when its fleet breaker has a quorum above 1:
 * failures that only this process sees open it here alone, while the fleet stays closed (a local
 * network fault, say). It is an ordinary local breaker with the same options; its transitions are
 * reported as the fleet breaker's own.
 */
export class ProcessBreaker extends Breaker {
  constructor(
    name: string,
    settings: BreakerSettings,
    now: () => number,
    observer: BreakerObserver,
  ) {
    super(name, settings, now, observer);
    // Every outcome comes through record(), already judged.
    this.successIsBookkeeping = false;
  }

  /** The current epoch as a fleet permit carries it. */
  get epochTag(): number {
    return this.epoch % PROCESS_EPOCH_TAGS;
  }

  /** The outcome of a call admitted in this breaker's current epoch. */
  record(outcome: 'success' | 'failure' | 'ignored', duration: number): void {
    this.settle(this.epoch, outcome, duration);
  }
}
