import type { LogFields } from '../runtime/log';

export interface LogEntry {
  readonly level: 'warn' | 'error';
  readonly message: string;
  readonly fields: LogFields;
}

/** A logger that keeps what it is told, for assertions: `configure({ logger: new RecordingLogger() })`. */
export class RecordingLogger {
  readonly entries: LogEntry[] = [];

  warn(message: string, fields: LogFields = {}): void {
    this.entries.push({ level: 'warn', message, fields });
  }

  error(message: string, fields: LogFields = {}): void {
    this.entries.push({ level: 'error', message, fields });
  }

  /** Entries of one level. */
  at(level: LogEntry['level']): LogEntry[] {
    return this.entries.filter((entry) => entry.level === level);
  }

  clear(): void {
    this.entries.length = 0;
  }
}
