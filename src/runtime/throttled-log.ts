import type { LogFields, LogSink } from './log';

/** After the first line of an episode, what repeats is counted and logged at most this often. */
export const SUMMARY_MS = 10_000;

/** A line to log, built only when it is logged. */
export type Line = () => readonly [message: string, fields: LogFields];
/** The line that sums up `count` repeats over the last `seconds`. */
export type Summary = (
  count: number,
  seconds: number,
) => readonly [message: string, fields: LogFields];

/**
 * A warning that may repeat once a call (a refused call, a refused retry): the first of each episode
 * is logged in full, the repeats are counted and logged as one line at most every SUMMARY_MS (at the
 * next repeat after that), and once more when flush() is called (the episode ends).
 */
export class ThrottledLog {
  private episode = Number.NaN;
  private counted = 0;
  private countedSince = 0;

  constructor(private readonly summary: Summary) {}

  note(episode: number, now: number, log: LogSink, first: Line): void {
    if (episode !== this.episode) {
      this.flush(now, log);
      this.episode = episode;
      this.countedSince = now;
      const [message, fields] = first();
      log.warn(message, fields);
      return;
    }
    this.counted++;
    if (now - this.countedSince >= SUMMARY_MS) this.flush(now, log);
  }

  /** Logs the repeats counted and not yet logged. */
  flush(now: number, log: LogSink): void {
    if (this.counted === 0) return;
    const [message, fields] = this.summary(
      this.counted,
      Math.max(1, Math.round((now - this.countedSince) / 1000)),
    );
    log.warn(message, fields);
    this.counted = 0;
    this.countedSince = now;
  }
}
