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
    throw new ConfigError(
      `${where}: ${subject} ${requirement}, got ${show(value)}`,
      option === '' ? 'options' : option,
      this.method,
    );
  }

  /**
   * An object whose keys are all known. Returns a null-prototype copy of its own enumerable
   * properties: an option is never read through the prototype chain (a polluted Object.prototype).
   */
  object(option: string, value: unknown, known: readonly string[]): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      this.fail(option, 'must be an object', value);
    const path = (key: string): string => (option === '' ? key : `${option}.${key}`);
    const copy: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(value)) {
      let property: unknown;
      try {
        property = (value as Record<string, unknown>)[key];
      } catch {
        this.fail(path(key), 'could not be read (its getter threw)', undefined);
      }
      if (!known.includes(key))
        this.fail(path(key), `is not a known option (known: ${known.join(', ')})`, property);
      copy[key] = property;
    }
    for (const symbol of Object.getOwnPropertySymbols(value)) {
      if (Object.prototype.propertyIsEnumerable.call(value, symbol)) {
        this.fail(
          path(String(symbol)),
          `is not a known option (known: ${known.join(', ')})`,
          undefined,
        );
      }
    }
    return copy;
  }

  /** A finite number of milliseconds, ≥ 0. */
  duration(option: string, value: unknown): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      this.fail(option, 'must be a finite number of milliseconds >= 0', value);
    }
    return value;
  }

  /** A safe integer ≥ min (and ≤ max): past 2^53 a count can no longer grow by one. */
  integer(option: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      this.fail(
        option,
        max === Number.MAX_SAFE_INTEGER
          ? `must be an integer >= ${min}`
          : `must be an integer from ${min} to ${max}`,
        value,
      );
    }
    return value;
  }

  /** A finite number ≥ min. */
  atLeast(option: string, value: unknown, min: number): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min)
      this.fail(option, `must be a finite number >= ${min}`, value);
    return value;
  }

  /** A ratio in (0, 1]. */
  ratio(option: string, value: unknown): number {
    if (typeof value !== 'number' || !(value > 0 && value <= 1))
      this.fail(option, 'must be a number in (0, 1]', value);
    return value;
  }

  /**
   * A non-empty array of classes to match with `instanceof`, copied and frozen. Holes and arrow
   * functions are refused here: `instanceof` would throw on them at call time.
   */
  errorClasses<C>(option: string, value: unknown, orPredicate: string): readonly C[] {
    const requirement = `must be a non-empty array of error classes or a function ${orPredicate}`;
    if (!Array.isArray(value) || value.length === 0) this.fail(option, requirement, value);
    const classes: unknown[] = [];
    for (let index = 0; index < value.length; index++) {
      const item: unknown = Object.prototype.hasOwnProperty.call(value, index)
        ? value[index]
        : undefined;
      if (!isClass(item)) this.fail(option, `${requirement}; item ${index} is not a class`, item);
      classes.push(item);
    }
    return Object.freeze(classes) as readonly C[];
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
    if (typeof value !== 'string' || value.length === 0)
      this.fail(option, 'must be a non-empty string', value);
    return value;
  }
}

/** Whether `instanceof` works with the value on its right-hand side (a class, not an arrow function). */
function isClass(value: unknown): boolean {
  if (typeof value !== 'function') return false;
  try {
    void (Object.create(null) instanceof value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `value` has the method `name` itself or from its class chain, not from Object.prototype:
 * a polluted Object.prototype must not turn `{}` into a logger, a clock or a store.
 */
export function hasMethod(value: unknown, name: string): boolean {
  for (
    let object: unknown = value;
    typeof object === 'object' || typeof object === 'function';
    object = Object.getPrototypeOf(object)
  ) {
    if (object === null || object === Object.prototype || object === Function.prototype)
      return false;
    if (Object.prototype.hasOwnProperty.call(object, name))
      return typeof (value as Record<string, unknown>)[name] === 'function';
  }
  return false;
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    value === undefined ||
    value === null
  )
    return String(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}
