import type { LoggerService } from '@nestjs/common';

export interface NestLogEntry {
  readonly level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  /** every argument, as NestJS's Logger passed it (the context last) */
  readonly params: readonly unknown[];
}

/** A NestJS LoggerService that keeps what it is told: `Test.createTestingModule(…).setLogger(logger)`. */
export class RecordingNestLogger implements LoggerService {
  readonly entries: NestLogEntry[] = [];

  log(...params: unknown[]): void {
    this.entries.push({ level: 'log', params });
  }
  error(...params: unknown[]): void {
    this.entries.push({ level: 'error', params });
  }
  warn(...params: unknown[]): void {
    this.entries.push({ level: 'warn', params });
  }
  debug(...params: unknown[]): void {
    this.entries.push({ level: 'debug', params });
  }
  verbose(...params: unknown[]): void {
    this.entries.push({ level: 'verbose', params });
  }
  fatal(...params: unknown[]): void {
    this.entries.push({ level: 'fatal', params });
  }

  /** Entries whose context (the last argument) is `context`. */
  inContext(context: string): NestLogEntry[] {
    return this.entries.filter(
      (entry) => entry.params.length > 1 && entry.params[entry.params.length - 1] === context,
    );
  }
}
