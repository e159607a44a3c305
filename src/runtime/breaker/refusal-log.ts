import type { CircuitOpenError } from '../errors';
import type { LogSink } from '../log';
import { SUMMARY_MS, ThrottledLog } from '../throttled-log';
import type { Breaker } from './breaker';

/**
 * How a breaker's refusals are logged: the first of each state (an opening) at warn, with the
 * reason; after it, a count, at most one line per 10 s, and once more when the breaker leaves the
 * state. An open breaker under load is then a few lines, not one a call.
 */
export class RefusalLog {
  private readonly lines: ThrottledLog;

  constructor(private readonly breaker: Breaker) {
    this.lines = new ThrottledLog((count, seconds) => [
      `circuit '${breaker.name}' refused ${count} more call${count === 1 ? '' : 's'} in the last ${seconds} s`,
      { circuit: breaker.name, refused: count },
    ]);
  }

  refused(label: string, error: CircuitOpenError, log: LogSink, now: number): void {
    this.lines.note(this.breaker.enteredAt, now, log, () => [
      `${label} refused: ${error.message} (further refusals are counted, one line per ${SUMMARY_MS / 1000} s)`,
      {
        method: label,
        circuit: this.breaker.name,
        state: error.state,
        retryAfter: error.retryAfter,
        error,
      },
    ]);
  }

  /** The breaker leaves its state: the refusals counted and not yet logged are logged now. */
  flush(log: LogSink, now: number): void {
    this.lines.flush(now, log);
  }
}
