import fc from 'fast-check';
import { ConfigError } from '../../src';
import type { FakeClock } from '../../src/testing';

/*
 * The oracle shared by the generated-options property tests (option-properties.test.ts,
 * stage-option-properties.test.ts): the contract's rules for single values and objects of options
 * (SPEC.md "Bad input", the option tables of SPEC.md and README.md), written from the contract and
 * not from the implementation, and the checks that hold a refusal or an acceptance to its verdict.
 */

// ---------------------------------------------------------------------------------------------
// The contract's rules for single values
// ---------------------------------------------------------------------------------------------

export const isFiniteNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);
/** A count: an integer >= 1 (and a safe one: beyond 2^53 a counter cannot step by one). */
export const isCount = (value: unknown, max = Number.MAX_SAFE_INTEGER): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max;
/** Milliseconds: finite, not negative. */
export const isDuration = (value: unknown): value is number => isFiniteNumber(value) && value >= 0;
/** A duration that must be positive for the option to mean anything (a ttl, a lease). */
export const isPositiveDuration = (value: unknown): value is number =>
  isFiniteNumber(value) && value > 0;
/** A threshold in (0, 1]. */
export const isRatio = (value: unknown): value is number =>
  typeof value === 'number' && value > 0 && value <= 1;
export const isFunction = (value: unknown): value is (...args: never[]) => unknown =>
  typeof value === 'function';
export const isNonEmptyString = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0;
export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
export const oneOf =
  (...allowed: readonly unknown[]) =>
  (value: unknown): boolean =>
    allowed.includes(value);

export type ErrorClassLike = abstract new (...args: never[]) => unknown;

/** A class usable with instanceof: a function with a prototype object (an arrow function has none). */
export function isClass(value: unknown): value is ErrorClassLike {
  return (
    typeof value === 'function' && typeof (value as { prototype?: unknown }).prototype === 'object'
  );
}

/** A non-empty array, without holes, of classes. */
export function isClassList(value: unknown): value is readonly ErrorClassLike[] {
  if (!Array.isArray(value) || value.length === 0) return false;
  for (let index = 0; index < value.length; index++)
    if (!(index in value) || !isClass(value[index])) return false;
  return true;
}

export const isErrorMatcher = (value: unknown): boolean => isFunction(value) || isClassList(value);

/** Whether an error matcher (classes or predicate) matches `error`. */
export function matches(matcher: unknown, error: unknown): boolean {
  if (typeof matcher === 'function')
    return (matcher as (error: unknown, attempt: number) => unknown)(error, 1) === true;
  return (matcher as readonly ErrorClassLike[]).some((errorClass) => error instanceof errorClass);
}

// ---------------------------------------------------------------------------------------------
// Objects of options
// ---------------------------------------------------------------------------------------------

/** Judges one value at `path`; reports what is bad into `bad`; true if the value is good. */
export type Rule = (value: unknown, path: string, bad: Set<string>) => boolean;
export type Rules = Record<string, Rule>;

export const simple =
  (isValid: (value: unknown) => boolean): Rule =>
  (value, path, bad) => {
    if (isValid(value)) return true;
    bad.add(path);
    return false;
  };

export const pathOf = (parent: string, key: string): string =>
  parent === '' ? key : `${parent}.${key}`;

/**
 * An object whose every own key is known and whose every value that is not undefined (undefined
 * means "left out") follows its rule. Returns the good values given, or undefined if it is not an
 * object (then `whole` is the bad option).
 */
export function judgeObject(
  value: unknown,
  rules: Rules,
  path: string,
  bad: Set<string>,
  whole = path === '' ? 'options' : path,
): Record<string, unknown> | undefined {
  if (!isPlainObject(value)) {
    bad.add(whole);
    return undefined;
  }
  const good: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const at = pathOf(path, key);
    if (!Object.prototype.hasOwnProperty.call(rules, key)) bad.add(at);
    else if (value[key] !== undefined && (rules[key] as Rule)(value[key], at, bad))
      good[key] = value[key];
  }
  return good;
}

/** Keys that must be given (not left out, not undefined). */
export function requireKeys(
  value: Record<string, unknown>,
  keys: readonly string[],
  path: string,
  bad: Set<string>,
): void {
  for (const key of keys) if (value[key] === undefined) bad.add(pathOf(path, key));
}

export interface Verdict<Settings> {
  /** every option that is bad in the input; empty when the input is valid */
  readonly bad: ReadonlySet<string>;
  /** the good values given (meaningful when `bad` is empty) */
  readonly given: Settings;
}

export type Given = Record<string, unknown>;

// Retry budgets -------------------------------------------------------------------------------

export const BUDGET_DEFAULTS = { ratio: 0.1, minPerSecond: 10, window: 10_000 };

/** `@Retryable({ budget })` (`named`: it may give a name) or `configure({ retryBudget })`: false, or the options of a budget. */
export const judgeBudget =
  (named: boolean): Rule =>
  (value, path, bad) => {
    if (value === false) return true;
    const before = bad.size;
    judgeObject(
      value,
      {
        ...(named ? { name: simple(isNonEmptyString) } : {}),
        ratio: simple((ratio) => typeof ratio === 'number' && ratio >= 0 && ratio <= 1),
        minPerSecond: simple((perSecond) => isFiniteNumber(perSecond) && perSecond >= 0),
        window: simple((window) => isFiniteNumber(window) && window >= 10 && window <= 86_400_000),
      },
      path,
      bad,
    );
    return bad.size === before;
  };

// @Retryable ----------------------------------------------------------------------------------

export const RETRY_DEFAULTS = { maxAttempts: 3, initialDelay: 100, maxDelay: 10_000 };

export const RETRY_RULES: Rules = {
  maxAttempts: simple(isCount),
  initialDelay: simple(isDuration),
  maxDelay: simple(isDuration),
  multiplier: simple((value) => isFiniteNumber(value) && value >= 1),
  jitter: simple(oneOf('full', 'equal', 'decorrelated', 'none')),
  retryOn: simple(isErrorMatcher),
  retryOnResult: simple(isFunction),
  maxElapsed: simple(isDuration),
  maxRetryAfter: simple(isDuration),
  budget: judgeBudget(true),
  signal: simple(isFunction),
};

/** `@Retryable(options)`, or a `defaults.retry` section (whose options are named within it). */
export function judgeRetry(options: unknown, whole = 'options'): Verdict<Given> {
  const bad = new Set<string>();
  if (options === undefined) return { bad, given: {} };
  const given = judgeObject(options, RETRY_RULES, '', bad, whole) ?? {};
  // maxDelay >= initialDelay, each side given or the library's default.
  if (!bad.has('initialDelay') && !bad.has('maxDelay')) {
    const initialDelay = (given.initialDelay as number | undefined) ?? RETRY_DEFAULTS.initialDelay;
    const maxDelay = (given.maxDelay as number | undefined) ?? RETRY_DEFAULTS.maxDelay;
    if (maxDelay < initialDelay) {
      if (given.maxDelay !== undefined) bad.add('maxDelay');
      if (given.initialDelay !== undefined) bad.add('initialDelay');
    }
  }
  return { bad, given };
}

// ---------------------------------------------------------------------------------------------
// Generators shared by the property tests
// ---------------------------------------------------------------------------------------------

/** Values that are wrong for most options: wrong types, NaN, ±Infinity, negatives, fractions, huge. */
export const wrongValue = fc.constantFrom<unknown>(
  null,
  '3',
  true,
  [],
  {},
  Number.NaN,
  Infinity,
  -Infinity,
  -1,
  -0.5,
  0.5,
  1.5,
  2 ** 53,
  () => 1,
);

/**
 * The combinators of one blend: `mixed` draws wrong values, explicit undefineds, unknown keys and
 * non-objects among valid ones; otherwise only values that are valid one by one (which may still be
 * refused together), so that accepted options and their read-backs get their share of runs.
 */
export function blendCombinators(mixed: boolean) {
  /** Mostly `valid`; in the mixed blend sometimes a wrong value; now and then undefined (a left-out option). */
  const mostly = (
    valid: fc.Arbitrary<unknown>,
    wrong: fc.Arbitrary<unknown> = wrongValue,
  ): fc.Arbitrary<unknown> =>
    mixed
      ? fc.oneof(
          { weight: 8, arbitrary: valid },
          { weight: 2, arbitrary: wrong },
          { weight: 1, arbitrary: fc.constant(undefined) },
        )
      : fc.oneof(
          { weight: 10, arbitrary: valid },
          { weight: 1, arbitrary: fc.constant(undefined) },
        );
  /** `valid`, or in the mixed blend now and then `wrong` (for values that must be given). */
  const given = (
    valid: fc.Arbitrary<unknown>,
    wrong: fc.Arbitrary<unknown>,
  ): fc.Arbitrary<unknown> =>
    mixed ? fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: wrong }) : valid;
  /** In the mixed blend, adds now and then an unknown key: a typo of a real one or something else. */
  const withTypos = (
    record: fc.Arbitrary<Given>,
    typos: readonly string[],
  ): fc.Arbitrary<Given> => {
    if (!mixed) return record;
    const extra = fc.oneof(
      { weight: 7, arbitrary: fc.constant<Given>({}) },
      {
        weight: 1,
        arbitrary: fc.dictionary(
          fc.constantFrom(...typos, 'constructor', 'toString'),
          fc.constantFrom<unknown>(1, 'x', undefined, {}),
          { minKeys: 1, maxKeys: 2 },
        ),
      },
    );
    return fc.tuple(record, extra).map(([options, unknown]) => ({ ...options, ...unknown }));
  };
  /** In the mixed blend, the options are sometimes not an object at all. */
  const orNotAnObject = (
    options: fc.Arbitrary<Given>,
    notObjects: readonly unknown[] = ['fast', null, [], true, [{ maxAttempts: 3 }]],
  ): fc.Arbitrary<unknown> =>
    mixed
      ? fc.oneof(
          { weight: 12, arbitrary: options },
          { weight: 1, arbitrary: fc.constantFrom(...notObjects) },
        )
      : options;
  return { mixed, mostly, given, withTypos, orNotAnObject };
}

// ---------------------------------------------------------------------------------------------
// Running the library and holding it to the verdict
// ---------------------------------------------------------------------------------------------

/** Runs a call to its end, waking every sleep; resolves with its outcome. */
export async function outcomeOf(
  clock: FakeClock,
  call: Promise<unknown>,
): Promise<{ resolved: boolean; value: unknown }> {
  const outcome = call.then(
    (value: unknown) => ({ resolved: true, value }),
    (error: unknown) => ({ resolved: false, value: error }),
  );
  await clock.runAll();
  return outcome;
}

/** What a class statement did: defined the class, or threw. */
export function definitionOf<T>(
  define: () => T,
): { ok: true; value: T } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: define() };
  } catch (error) {
    return { ok: false, error };
  }
}

const describeBad = (bad: ReadonlySet<string>): string =>
  bad.size === 0 ? 'nothing' : [...bad].join(', ');

/** A refusal: a ConfigError whose `option` is one the oracle found bad, naming `labels` (any of them) as the method. */
export function expectRefusal(
  error: unknown,
  bad: ReadonlySet<string>,
  labels: readonly (string | undefined)[],
): void {
  if (!(error instanceof ConfigError))
    throw new Error(`expected a ConfigError, got ${String(error)}`);
  if (bad.size === 0) throw new Error(`refused valid input: ${error.message}`);
  if (!bad.has(error.option as string))
    throw new Error(
      `the ConfigError names '${error.option}', which is not bad here (bad: ${describeBad(bad)}): ${error.message}`,
    );
  if (!labels.includes(error.method))
    throw new Error(
      `the ConfigError names the method ${String(error.method)}, expected ${labels.join(' or ')}`,
    );
}

export function expectAccepted(bad: ReadonlySet<string>): void {
  if (bad.size > 0) throw new Error(`accepted although ${describeBad(bad)} is bad`);
}
