import { ConfigError } from './errors';

/** Where an option was written: names the decorator and the method in every ConfigError. */
export class OptionChecker {
  constructor(
    /** `@Retryable`, `@CircuitBreaker`, `configure()`… */
    readonly source: string,
    /** `Class.method`, or `method` where the decorator mode does not name the class yet. */
    readonly method: string | undefined,
  ) {}

  fail(option: string, requirement: string, value: unknown): never {
    const where = this.method === undefined ? this.source : `${this.source} on ${this.method}`;
    // Option '' is the options argument itself.
    const subject = option === '' ? 'options' : `option '${option}'`;
    throw new ConfigError(`${where}: ${subject} ${requirement}, got ${show(value)}`, option === '' ? 'options' : option, this.method);
  }

  /** A plain object whose keys are all known; returns it typed as a record for reading. */
  object(option: string, value: unknown, known: readonly string[]): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(option, 'must be an object', value);
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) {
        const path = option === '' ? key : `${option}.${key}`;
        this.fail(path, `is not a known option (known: ${known.join(', ')})`, (value as Record<string, unknown>)[key]);
      }
    }
    return value as Record<string, unknown>;
  }

  /** A finite number of milliseconds, ≥ 0. */
  duration(option: string, value: unknown): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      this.fail(option, 'must be a finite number of milliseconds >= 0', value);
    }
    return value;
  }

  /** An integer ≥ min. */
  integer(option: string, value: unknown, min: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      this.fail(option, `must be an integer >= ${min}`, value);
    }
    return value;
  }

  /** A finite number ≥ min. */
  atLeast(option: string, value: unknown, min: number): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) this.fail(option, `must be a finite number >= ${min}`, value);
    return value;
  }

  /** A ratio in (0, 1]. */
  ratio(option: string, value: unknown): number {
    if (typeof value !== 'number' || !(value > 0 && value <= 1)) this.fail(option, 'must be a number in (0, 1]', value);
    return value;
  }

  func<F>(option: string, value: unknown): F {
    if (typeof value !== 'function') this.fail(option, 'must be a function', value);
    return value as F;
  }

  oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.fail(option, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
    }
    return value as T;
  }

  text(option: string, value: unknown): string {
    if (typeof value !== 'string' || value.length === 0) this.fail(option, 'must be a non-empty string', value);
    return value;
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) return String(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}
