import type { CircuitOpenError } from '../errors';
import type { LogSink } from '../log';
import type { Breaker } from './breaker';

/** Refusals after the first of an opening are counted, and logged as one line at most this often. */
export const REFUSAL_SUMMARY_MS = 10_000;

/**
 * How a breaker's refusals are logged: the first of each opening at warn, with the reason; after it,
 * a count, logged at most once per REFUSAL_SUMMARY_MS (at the next refusal after that), and once more
 * when the breaker leaves the state. An open breaker under load is then a few lines, not one a call.
 */
export class RefusalLog {
  /** when the breaker entered the state whose refusals are being counted */
  private state = Number.NaN;
  private counted = 0;
  private countedSince = 0;

  refused(
    breaker: Breaker,
    label: string,
    error: CircuitOpenError,
    log: LogSink,
    now: number,
  ): void {
    if (breaker.enteredAt !== this.state) {
      this.flush(breaker, log, now);
      this.state = breaker.enteredAt;
      this.countedSince = now;
      log.warn(
        `${label} refused: ${error.message} (further refusals are counted, one line per ${REFUSAL_SUMMARY_MS / 1000} s)`,
        {
          method: label,
          circuit: breaker.name,
          state: error.state,
          retryAfter: error.retryAfter,
          error,
        },
      );
      return;
    }
    this.counted++;
    if (now - this.countedSince >= REFUSAL_SUMMARY_MS) this.flush(breaker, log, now);
  }

  /** Logs the refusals counted and not yet logged (the breaker is leaving the state, or time is up). */
  flush(breaker: Breaker, log: LogSink, now: number): void {
    if (this.counted === 0) return;
    const seconds = Math.max(1, Math.round((now - this.countedSince) / 1000));
    log.warn(
      `circuit '${breaker.name}' refused ${this.counted} more call${this.counted === 1 ? '' : 's'} in the last ${seconds} s`,
      {
        circuit: breaker.name,
        refused: this.counted,
      },
    );
    this.counted = 0;
    this.countedSince = now;
  }
}
