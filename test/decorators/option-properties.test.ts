import fc from 'fast-check';
import {
  CircuitBreaker,
  configure,
  defaultEngine,
  Idempotent,
  MemoryStore,
  Retryable,
  type CircuitBreakerOptions,
  type EngineOptions,
  type IdempotentOptions,
  type RetryOptions,
} from '../../src';
import { FakeClock, RecordingLogger } from '../../src/testing';
import { decoratorMode } from '../support/harness';
import { definitionLabel } from './helpers';
import {
  blendCombinators,
  definitionOf,
  expectAccepted,
  expectRefusal,
  isClassList,
  isCount,
  isDuration,
  isErrorMatcher,
  isFunction,
  isNonEmptyString,
  isPlainObject,
  isPositiveDuration,
  isRatio,
  judgeObject,
  judgeRetry,
  matches,
  oneOf,
  outcomeOf,
  requireKeys,
  RETRY_DEFAULTS,
  simple,
  wrongValue,
  type ErrorClassLike,
  type Given,
  type Rule,
  type Rules,
  type Verdict,
} from './option-oracle';

/*
 * Generated options for every decorator, configure() and new MemoryStore(): a mix of valid values,
 * wrong types, NaN, ±Infinity, negatives, non-integers, out-of-range ratios, unknown keys and typos,
 * nested objects. Each is either accepted, and then works (one call succeeds and the settings read
 * back where a call can observe them), or refused with a ConfigError naming an option that is bad
 * in the input (at class definition, for decorators).
 *
 * Whether an input is valid is decided by the oracle (below and in option-oracle.ts), written from
 * the contract's rules (SPEC.md "Bad input" and the option tables), not from the implementation.
 */

// ---------------------------------------------------------------------------------------------
// The oracle (its rules for single values and objects of options are in option-oracle.ts)
// ---------------------------------------------------------------------------------------------

const MAX_COUNT_WINDOW = 1_000_000;
const MAX_MEMORY_ENTRIES = 10_000_000;

// @Retryable ----------------------------------------------------------------------------------

/** `@Retryable(maxAttempts, initialDelay?, maxDelay?)`; a single non-number argument is the object form. */
function judgePositional(args: readonly unknown[]): Verdict<Given> {
  if (args.length === 1 && args[0] === undefined) return judgeRetry({});
  if (args.length === 1 && typeof args[0] !== 'number') return judgeRetry(args[0]);
  // maxAttempts is required in the positional form; a later undefined stands for its default.
  if (args[0] === undefined) return { bad: new Set(['maxAttempts']), given: {} };
  const names = ['maxAttempts', 'initialDelay', 'maxDelay'];
  const options: Given = {};
  args.forEach((value, index) => {
    if (value !== undefined) options[names[index] as string] = value;
  });
  return judgeRetry(options);
}

// @CircuitBreaker -----------------------------------------------------------------------------

const judgeWindow: Rule = (value, path, bad) => {
  const before = bad.size;
  const window = judgeObject(
    value,
    {
      type: simple(oneOf('count', 'time')),
      size: simple(isCount),
    },
    path,
    bad,
  );
  if (window === undefined) return false;
  requireKeys(value as Given, ['type', 'size'], path, bad);
  // A count window is an array of `size` calls: it has an upper bound.
  if (
    window.type === 'count' &&
    window.size !== undefined &&
    !isCount(window.size, MAX_COUNT_WINDOW)
  )
    bad.add(`${path}.size`);
  return bad.size === before;
};

const judgeFailureRate: Rule = (value, path, bad) => {
  const before = bad.size;
  const rate = judgeObject(
    value,
    { threshold: simple(isRatio), window: judgeWindow, minimumCalls: simple(isCount) },
    path,
    bad,
  );
  if (rate === undefined) return false;
  requireKeys(value as Given, ['threshold'], path, bad);
  // A count window (the given one, or the default of 100 calls) never holds more than its size.
  const windowLeftOut = (value as Given).window === undefined;
  const window =
    (rate.window as { type: string; size: number } | undefined) ??
    (windowLeftOut ? { type: 'count', size: 100 } : undefined);
  if (
    window?.type === 'count' &&
    rate.minimumCalls !== undefined &&
    (rate.minimumCalls as number) > window.size
  )
    bad.add(`${path}.minimumCalls`);
  return bad.size === before;
};

const judgeSlowCall: Rule = (value, path, bad) => {
  const before = bad.size;
  const slowCall = judgeObject(
    value,
    { duration: simple(isDuration), rateThreshold: simple(isRatio) },
    path,
    bad,
  );
  if (slowCall === undefined) return false;
  requireKeys(value as Given, ['duration', 'rateThreshold'], path, bad);
  return bad.size === before;
};

const BREAKER_RULES: Rules = {
  name: simple(isNonEmptyString),
  scope: simple(oneOf('class', 'instance')),
  consecutiveFailures: simple(isCount),
  failureRate: judgeFailureRate,
  slowCall: judgeSlowCall,
  openDuration: simple((value) => isFunction(value) || isDuration(value)),
  maxOpenDuration: simple(isDuration),
  halfOpenMaxCalls: simple(isCount),
  // Processes whose failures the fleet needs to open (SPEC.md "Bad input": an integer >= 1).
  quorum: simple(isCount),
  recordOn: simple(isErrorMatcher),
  ignoreOn: simple(isErrorMatcher),
  recordOnResult: simple(isFunction),
};

/** Rules on the whole of a breaker's options (its own, or merged with configured defaults). */
function judgeBreakerWhole(options: Given, bad: Set<string>): void {
  if (options.consecutiveFailures !== undefined && options.failureRate !== undefined) {
    bad.add('consecutiveFailures');
    bad.add('failureRate');
  }
  if (
    typeof options.openDuration === 'number' &&
    typeof options.maxOpenDuration === 'number' &&
    options.maxOpenDuration < options.openDuration
  ) {
    bad.add('maxOpenDuration');
    bad.add('openDuration');
  }
  // A breaker that can never open: every error recordOn records is one ignoreOn ignores (ignoreOn
  // is asked first), and nothing else (slow calls, results) can count against the breaker.
  const { recordOn, ignoreOn } = options;
  if (
    isClassList(recordOn) &&
    isClassList(ignoreOn) &&
    options.slowCall === undefined &&
    options.recordOnResult === undefined
  ) {
    const ignored = (recorded: ErrorClassLike): boolean =>
      ignoreOn.some(
        (ignoredClass) => recorded === ignoredClass || recorded.prototype instanceof ignoredClass,
      );
    if (recordOn.every(ignored)) {
      bad.add('recordOn');
      bad.add('ignoreOn');
    }
  }
}

/** `@CircuitBreaker(options)`, or (`asDefaults`) `configure({ defaults: { circuitBreaker } })`. */
function judgeBreaker(options: unknown, asDefaults = false): Verdict<Given> {
  const bad = new Set<string>();
  if (options === undefined) return { bad, given: {} };
  const given = judgeObject(
    options,
    BREAKER_RULES,
    '',
    bad,
    asDefaults ? 'defaults.circuitBreaker' : 'options',
  );
  if (given === undefined) return { bad, given: {} };
  // name and scope are per method: they cannot be defaults.
  if (asDefaults)
    for (const key of ['name', 'scope']) if ((options as Given)[key] !== undefined) bad.add(key);
  judgeBreakerWhole(given, bad);
  return { bad, given };
}

/** The decorator's options (given values only: undefined is left out) over the configured ones; a failure criterion of the decorator's replaces the configured one. */
function mergeBreaker(own: Given, configured: Given): Given {
  const merged: Given = { ...configured, ...own };
  if (own.failureRate !== undefined && own.consecutiveFailures === undefined)
    delete merged.consecutiveFailures;
  if (own.consecutiveFailures !== undefined && own.failureRate === undefined)
    delete merged.failureRate;
  return merged;
}

// @Idempotent ---------------------------------------------------------------------------------

const KEYED_ONLY = ['name', 'fingerprint', 'ttl', 'store', 'lease', 'wait', 'onStoreError'];

const IDEMPOTENT_RULES: Rules = {
  key: simple(isFunction),
  name: simple(isNonEmptyString),
  fingerprint: simple(isFunction),
  ttl: simple(isPositiveDuration),
  store: simple((value) => value instanceof MemoryStore),
  lease: simple(isPositiveDuration),
  wait: simple(isDuration),
  onStoreError: simple(oneOf('reject', 'proceed')),
};

function judgeIdempotent(options: unknown): Verdict<Given> {
  const bad = new Set<string>();
  if (options === undefined) return { bad, given: {} };
  const given = judgeObject(options, IDEMPOTENT_RULES, '', bad);
  if (given === undefined) return { bad, given: {} };
  // Without a key, @Idempotent only marks the method: the options of deduplication do not apply.
  if ((options as Given).key === undefined)
    for (const key of KEYED_ONLY) if ((options as Given)[key] !== undefined) bad.add(key);
  return { bad, given };
}

// configure() and new MemoryStore() -----------------------------------------------------------

const CONFIGURE_RULES: Rules = {
  logger: simple(
    (value) =>
      value === false ||
      (isPlainObjectOrInstance(value) && isFunction(value.warn) && isFunction(value.error)),
  ),
  clock: simple(
    (value) => isPlainObjectOrInstance(value) && isFunction(value.now) && isFunction(value.sleep),
  ),
  random: simple(isFunction),
  store: simple((value) => value instanceof MemoryStore),
  defaults: (value, path, bad) => {
    const before = bad.size;
    const sections = judgeObject(
      value,
      { retry: () => true, circuitBreaker: () => true },
      path,
      bad,
    );
    if (sections === undefined) return false;
    if (sections.retry !== undefined)
      judgeRetry(sections.retry, 'defaults.retry').bad.forEach((option) => bad.add(option));
    if (sections.circuitBreaker !== undefined)
      judgeBreaker(sections.circuitBreaker, true).bad.forEach((option) => bad.add(option));
    return bad.size === before;
  },
};

function isPlainObjectOrInstance(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function judgeConfigure(options: unknown): Verdict<Given> {
  const bad = new Set<string>();
  const given = judgeObject(options, CONFIGURE_RULES, '', bad) ?? {};
  return { bad, given };
}

function judgeMemoryStore(options: unknown): Verdict<Given> {
  const bad = new Set<string>();
  if (options === undefined) return { bad, given: {} };
  const given =
    judgeObject(
      options,
      { maxEntries: simple((value) => isCount(value, MAX_MEMORY_ENTRIES)) },
      '',
      bad,
    ) ?? {};
  return { bad, given };
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

class DownstreamError extends Error {}
class CardDeclinedError extends DownstreamError {}

/** An array with a hole before its one class. */
const holey: unknown[] = [];
holey[1] = Error;

/**
 * The generators, in two blends: `mixed` draws wrong values, explicit undefineds, unknown keys and
 * non-objects among valid ones; otherwise only values that are valid one by one (which may still
 * be refused together), so that accepted options and their read-backs get their share of runs.
 */
function generators(mixed: boolean) {
  const { mostly, given, withTypos, orNotAnObject } = blendCombinators(mixed);

  const count = mostly(fc.integer({ min: 1, max: 8 }));
  const duration = mostly(
    fc.oneof(
      fc.integer({ min: 0, max: 3_000 }),
      fc.double({ min: 0, max: 3_000, noNaN: true }),
      fc.constant(-0),
    ),
  );
  // ttl and lease: a positive value below the clock's resolution (5e-324) would act as 0, a corner no user writes.
  const positiveDuration = mostly(
    fc.oneof(
      fc.integer({ min: 1, max: 3_000 }),
      fc.double({ min: 0.001, max: 3_000, noNaN: true }),
    ),
    fc.oneof(wrongValue, fc.constant(0)),
  );
  const ratio = mostly(
    fc.double({ min: 1e-9, max: 1, noNaN: true }),
    fc.oneof(wrongValue, fc.constantFrom(0, 1.000_001, 2)),
  );
  const name = mostly(
    fc.constantFrom('payments-api', 'ledger'),
    fc.constantFrom<unknown>('', 5, null),
  );

  const retryRecord = fc.record(
    {
      maxAttempts: count,
      initialDelay: duration,
      maxDelay: mostly(fc.oneof(fc.integer({ min: 0, max: 3_000 }), fc.constant(10_000))),
      multiplier: mostly(
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.oneof(wrongValue, fc.double({ min: 0, max: 0.999, noNaN: true })),
      ),
      jitter: mostly(
        fc.constantFrom('full', 'equal', 'decorrelated', 'none'),
        fc.constantFrom<unknown>('random', 'None', 1),
      ),
      retryOn: mostly(
        fc.constantFrom<unknown>(
          () => true,
          () => false,
          [DownstreamError],
          [TypeError],
          [Error, RangeError],
        ),
        fc.constantFrom<unknown>([], [1], ['Error'], [() => true], 'DownstreamError', holey),
      ),
      retryOnResult: mostly(fc.constant(() => false)),
      maxElapsed: duration,
      // Not `() => 1`: what a signal function returns is only seen at call time (a non-signal there is reported).
      signal: mostly(
        fc.constant(() => undefined),
        wrongValue.filter((value) => typeof value !== 'function'),
      ),
    },
    { requiredKeys: [] },
  );
  const retry = withTypos(retryRecord, ['maxAttempt', 'delay', 'retries', 'backoff', 'timeout']);

  const positionalCount = mostly(
    fc.integer({ min: 1, max: 8 }),
    fc.oneof(wrongValue, fc.constant(undefined), fc.constantFrom({ maxAttempts: 3 })),
  );
  const positional = fc.oneof(
    fc.tuple(positionalCount),
    fc.tuple(positionalCount, duration),
    fc.tuple(positionalCount, duration, duration),
  );

  const window = given(
    withTypos(
      fc.record({
        type: given(
          fc.constantFrom('count', 'time'),
          fc.constantFrom<unknown>('sliding', 1, undefined),
        ),
        size: given(
          fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constantFrom(100, 1_000, MAX_COUNT_WINDOW)),
          fc.oneof(wrongValue, fc.constant(MAX_COUNT_WINDOW + 1)),
        ),
      }),
      ['length'],
    ),
    wrongValue,
  );
  const failureRate = given(
    withTypos(
      fc.record(
        {
          threshold: given(ratio, fc.constant(undefined)),
          window,
          minimumCalls: mostly(
            fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(100, 101, 200)),
          ),
        },
        { requiredKeys: ['threshold'] },
      ),
      ['windw', 'minCalls'],
    ),
    wrongValue,
  );
  const slowCall = given(
    withTypos(
      fc.record(
        { duration: given(duration, fc.constant(undefined)), rateThreshold: ratio },
        { requiredKeys: ['duration', 'rateThreshold'] },
      ),
      ['durationMs'],
    ),
    wrongValue,
  );
  const errorMatcher = mostly(
    fc.constantFrom<unknown>(
      [DownstreamError],
      [CardDeclinedError],
      [Error],
      [TypeError],
      [TypeError, CardDeclinedError],
      (error: unknown) => error instanceof DownstreamError,
      () => false,
    ),
    fc.constantFrom<unknown>([], [1], ['DownstreamError'], [() => true], 5),
  );
  const breakerRecord = fc.record(
    {
      name,
      scope: mostly(fc.constantFrom('class', 'instance'), fc.constantFrom<unknown>('global', 1)),
      slowCall,
      openDuration: mostly(
        fc.oneof(
          fc.integer({ min: 0, max: 5_000 }),
          fc.double({ min: 0, max: 5_000, noNaN: true }),
          fc.constant((openings: number) => 1_000 * openings),
        ),
      ),
      maxOpenDuration: mostly(fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.constant(600_000))),
      halfOpenMaxCalls: count,
      // Without a shared store a quorum changes nothing: the breaker opens as it would without one.
      quorum: mostly(
        fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant(Number.MAX_SAFE_INTEGER)),
        fc.oneof(wrongValue, fc.constantFrom(0, -0, -3)),
      ),
      recordOn: errorMatcher,
      ignoreOn: errorMatcher,
      recordOnResult: mostly(fc.constant(() => false)),
    },
    { requiredKeys: [] },
  );
  // One failure criterion at most, except in the mixed blend, which also tries both.
  const criteria: fc.Arbitrary<Given>[] = [
    fc.constant({}),
    fc.record({ consecutiveFailures: count }),
    fc.record({ failureRate }),
  ];
  if (mixed) criteria.push(fc.record({ consecutiveFailures: count, failureRate }));
  /** `asDefaults`: without name and scope (per method, never defaults) except in the mixed blend, which tries them. */
  const breaker = (typos: readonly string[], asDefaults = false): fc.Arbitrary<Given> =>
    withTypos(
      fc.tuple(breakerRecord, fc.oneof(...criteria)).map(([options, criterion]) => {
        const whole: Given = { ...options, ...criterion };
        if (asDefaults && !mixed) for (const key of ['name', 'scope']) delete whole[key];
        return whole;
      }),
      typos,
    );

  const idempotent = withTypos(
    fc.record(
      {
        key: given(
          fc.constant((id: string) => id),
          fc.constantFrom<unknown>('id', 5, undefined),
        ),
        name,
        fingerprint: mostly(
          fc.constantFrom(
            (id: string) => id,
            () => 'same for every call',
          ),
        ),
        ttl: positiveDuration,
        store: mostly(
          fc.constant(null).map(() => new MemoryStore()),
          fc.constantFrom<unknown>({}, 'redis', { claim() {} }),
        ),
        lease: positiveDuration,
        wait: duration,
        onStoreError: mostly(
          fc.constantFrom('reject', 'proceed'),
          fc.constantFrom<unknown>('ignore', true),
        ),
      },
      // In the valid blend a key comes with them: without one the other options are refused.
      { requiredKeys: mixed ? [] : ['key'] },
    ),
    ['keys', 'ttlMs', 'timeout'],
  );

  const configureRecord = fc.record(
    {
      logger: mostly(
        fc.oneof(
          fc.constant(false),
          fc.constant(null).map(() => new RecordingLogger()),
          fc.constant({ warn() {}, error() {} }),
        ),
        fc.constantFrom<unknown>(true, {}, { warn() {} }, 'console', null),
      ),
      clock: mostly(
        fc.constant(null).map(() => new FakeClock(5_000_000)),
        fc.constantFrom<unknown>({}, { now: () => 0 }, Date, 'system'),
      ),
      random: mostly(
        fc.constant(() => 0.5),
        fc.constantFrom<unknown>(0.5, 'random'),
      ),
      store: mostly(
        fc.constant(null).map(() => new MemoryStore()),
        fc.constantFrom<unknown>({}, 'redis'),
      ),
      defaults: given(
        withTypos(
          fc.record(
            {
              retry: orNotAnObject(retry),
              circuitBreaker: orNotAnObject(breaker(['threshold', 'resetTimeout'], true)),
            },
            { requiredKeys: [] },
          ),
          ['breaker', 'circuit'],
        ),
        wrongValue,
      ),
    },
    { requiredKeys: [] },
  );

  const memoryStore = fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    {
      weight: 10,
      arbitrary: withTypos(
        fc.record(
          {
            maxEntries: mostly(
              fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constantFrom(10_000, MAX_MEMORY_ENTRIES)),
              fc.oneof(wrongValue, fc.constantFrom(0, MAX_MEMORY_ENTRIES + 1)),
            ),
          },
          { requiredKeys: [] },
        ),
        ['max', 'maxSize', 'ttl'],
      ),
    },
  );

  return {
    retry: orNotAnObject(retry),
    positional,
    // Not null: src/decorators/circuit-breaker.ts reads `options ?? {}`, so @CircuitBreaker(null) means no options (reported).
    breaker: orNotAnObject(breaker(['threshold', 'failureThreshold', 'resetTimeout']), [
      'fast',
      [],
      true,
    ]),
    breakerDefaults: breaker(['threshold', 'resetTimeout'], true),
    idempotent: fc.oneof(
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 12, arbitrary: orNotAnObject(idempotent) },
    ),
    configure: orNotAnObject(withTypos(configureRecord, ['retries', 'log'])),
    memoryStore: mixed
      ? fc.oneof(
          { weight: 12, arbitrary: memoryStore },
          { weight: 1, arbitrary: fc.constantFrom<unknown>(null, 100, 'big', []) },
        )
      : memoryStore,
  };
}

const VALID = generators(false);
const MIXED = generators(true);

/** Half the runs draw valid values only, half the mixed blend. */
function blend<T>(
  pick: (blend: ReturnType<typeof generators>) => fc.Arbitrary<T>,
): fc.Arbitrary<T> {
  return fc.oneof(pick(VALID), pick(MIXED));
}

// ---------------------------------------------------------------------------------------------
// Running the library
// ---------------------------------------------------------------------------------------------

/** Runs per property; raise it (OPTION_PROPERTY_RUNS=5000) for a longer search. */
const RUNS = Number(process.env.OPTION_PROPERTY_RUNS ?? 200);
/**
 * A property that runs long fails (and stops) before jest's 20 s timeout: one that jest times out
 * runs on in the background, on the same defaultEngine, and breaks the properties after it.
 */
const PARAMETERS = {
  numRuns: RUNS,
  plugins: [fc.interruptAfterTimeLimit(15_000, { failOnInterrupt: true })],
};

let unique = 0;
/** Explicit names are shared process-wide: each run's valid name is made its own. */
function ownNames(options: unknown): unknown {
  if (!isPlainObject(options) || !isNonEmptyString(options.name)) return options;
  return { ...options, name: `${options.name}#${decoratorMode}-${++unique}` };
}

interface Setup {
  readonly clock: FakeClock;
  readonly logger: RecordingLogger;
}

/** A fresh engine configuration for one run: FakeClock, RecordingLogger, a new store (so fresh breakers). */
function freshEngine(defaults: EngineOptions['defaults'] = {}): Setup {
  const clock = new FakeClock(1_000_000);
  const logger = new RecordingLogger();
  configure({ clock, logger, random: () => 0.5, store: new MemoryStore(), defaults });
  return { clock, logger };
}

// Read-backs ----------------------------------------------------------------------------------

/** How many times a body that always throws DownstreamError runs under these retry settings. */
function expectedRuns(settings: Given): { min: number; max: number } {
  const maxAttempts = (settings.maxAttempts as number | undefined) ?? RETRY_DEFAULTS.maxAttempts;
  if (settings.retryOn !== undefined && !matches(settings.retryOn, new DownstreamError('down')))
    return { min: 1, max: 1 };
  // maxElapsed may end the loop before maxAttempts (no sleep starts that would end past it).
  return settings.maxElapsed === undefined
    ? { min: maxAttempts, max: maxAttempts }
    : { min: 1, max: maxAttempts };
}

/** One call of a retried method succeeds; a failing one runs as many times as the settings say. */
async function expectRetryingWorks(
  clock: FakeClock,
  call: (fail: boolean) => Promise<unknown>,
  runs: () => number,
  settings: Given,
): Promise<void> {
  expect(await outcomeOf(clock, call(false))).toEqual({ resolved: true, value: 'done' });
  expect(runs()).toBe(1);
  const failed = await outcomeOf(clock, call(true));
  expect(failed.resolved).toBe(false);
  expect(failed.value).toBeInstanceOf(DownstreamError);
  const { min, max } = expectedRuns(settings);
  expect(runs() - 1).toBeGreaterThanOrEqual(min);
  expect(runs() - 1).toBeLessThanOrEqual(max);
}

/**
 * One call through the breaker succeeds; then a body that always fails opens it exactly when the
 * settings say (or never, if its error does not count), and it turns half-open after openDuration.
 * A quorum is not read here: on a MemoryStore (no fleet) it must change nothing.
 */
async function expectBreakerWorks(
  clock: FakeClock,
  call: (fail: boolean) => Promise<unknown>,
  handle: () => { state: string; reset(): void },
  settings: Given,
): Promise<void> {
  expect(await outcomeOf(clock, call(false))).toEqual({ resolved: true, value: 'done' });
  handle().reset();
  const failureRate = settings.failureRate as
    { minimumCalls?: number; window?: { type: string; size: number } } | undefined;
  const window = failureRate?.window ?? { type: 'count', size: 100 };
  const calls =
    failureRate === undefined
      ? ((settings.consecutiveFailures as number | undefined) ?? 5)
      : (failureRate.minimumCalls ?? (window.type === 'count' ? Math.min(10, window.size) : 10));
  const error = new DownstreamError('down');
  const counts =
    !(settings.ignoreOn !== undefined && matches(settings.ignoreOn, error)) &&
    (settings.recordOn === undefined || matches(settings.recordOn, error));
  for (let made = 1; made < calls; made++) await outcomeOf(clock, call(true));
  expect(handle().state).toBe('closed');
  await outcomeOf(clock, call(true));
  if (!counts) {
    expect(handle().state).toBe('closed');
    return;
  }
  const wanted =
    typeof settings.openDuration === 'function'
      ? (settings.openDuration as (openings: number) => number)(1)
      : ((settings.openDuration as number | undefined) ?? 30_000);
  const cap =
    (settings.maxOpenDuration as number | undefined) ??
    Math.max(600_000, typeof settings.openDuration === 'number' ? settings.openDuration : 0);
  const openFor = Math.min(wanted, cap);
  // A duration below the clock's resolution (5e-324 ms) passes no time at all.
  expect(handle().state).toBe(clock.now() + openFor > clock.now() ? 'open' : 'half-open');
  await clock.advance(openFor);
  expect(handle().state).toBe('half-open');
}

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

describe(`generated options are accepted and work, or refused naming a bad option (${decoratorMode} decorators)`, () => {
  it('@Retryable(options)', async () => {
    await fc.assert(
      fc.asyncProperty(
        blend((g) => g.retry),
        async (options) => {
          const { clock } = freshEngine();
          const verdict = judgeRetry(options);
          let runs = 0;
          const definition = definitionOf(() => {
            class Payments {
              @Idempotent()
              @Retryable(options as RetryOptions)
              async charge(fail: boolean): Promise<string> {
                runs++;
                if (fail) throw new DownstreamError('down');
                return 'done';
              }
            }
            return new Payments();
          });
          if (!definition.ok)
            return expectRefusal(definition.error, verdict.bad, [
              definitionLabel('Payments', 'charge'),
            ]);
          expectAccepted(verdict.bad);
          await expectRetryingWorks(
            clock,
            (fail) => definition.value.charge(fail),
            () => runs,
            verdict.given,
          );
        },
      ),
      PARAMETERS,
    );
  });

  it('@Retryable(maxAttempts, initialDelay?, maxDelay?)', async () => {
    await fc.assert(
      fc.asyncProperty(
        blend((g) => g.positional),
        async (args) => {
          const { clock } = freshEngine();
          const verdict = judgePositional(args);
          let runs = 0;
          const definition = definitionOf(() => {
            class Payments {
              @Idempotent()
              @Retryable(...(args as [number, number?, number?]))
              async charge(fail: boolean): Promise<string> {
                runs++;
                if (fail) throw new DownstreamError('down');
                return 'done';
              }
            }
            return new Payments();
          });
          if (!definition.ok)
            return expectRefusal(definition.error, verdict.bad, [
              definitionLabel('Payments', 'charge'),
            ]);
          expectAccepted(verdict.bad);
          await expectRetryingWorks(
            clock,
            (fail) => definition.value.charge(fail),
            () => runs,
            verdict.given,
          );
        },
      ),
      PARAMETERS,
    );
  });

  it('@CircuitBreaker(options)', async () => {
    await fc.assert(
      fc.asyncProperty(
        blend((g) => g.breaker),
        async (generated) => {
          const options = ownNames(generated);
          const { clock } = freshEngine();
          const verdict = judgeBreaker(options);
          const definition = definitionOf(() => {
            class Gateway {
              @CircuitBreaker(options as CircuitBreakerOptions)
              async call(fail: boolean): Promise<string> {
                if (fail) throw new DownstreamError('down');
                return 'done';
              }
            }
            return new Gateway();
          });
          if (!definition.ok)
            return expectRefusal(definition.error, verdict.bad, [
              definitionLabel('Gateway', 'call'),
            ]);
          expectAccepted(verdict.bad);
          const gateway = definition.value;
          const name = (verdict.given.name as string | undefined) ?? 'Gateway.call';
          const perInstance = verdict.given.scope === 'instance';
          await expectBreakerWorks(
            clock,
            (fail) => gateway.call(fail),
            () => defaultEngine.breaker(name, perInstance ? gateway : undefined),
            verdict.given,
          );
        },
      ),
      PARAMETERS,
    );
  });

  it('@CircuitBreaker(options) with configure({ defaults: { circuitBreaker } }): refused at the latest at the first call, body not run', async () => {
    await fc.assert(
      fc.asyncProperty(
        VALID.breaker as fc.Arbitrary<Given>,
        VALID.breakerDefaults,
        async (generated, configured) => {
          const own = ownNames(generated) as Given;
          const { clock } = freshEngine();
          let runs = 0;
          const definition = definitionOf(() => {
            class Gateway {
              @CircuitBreaker(own as CircuitBreakerOptions)
              async call(fail: boolean): Promise<string> {
                runs++;
                if (fail) throw new DownstreamError('down');
                return 'done';
              }
            }
            return new Gateway();
          });
          const ownVerdict = judgeBreaker(own);
          if (!definition.ok)
            return expectRefusal(definition.error, ownVerdict.bad, [
              definitionLabel('Gateway', 'call'),
            ]);
          expectAccepted(ownVerdict.bad);
          const defaultsVerdict = judgeBreaker(configured, true);
          const configuring = definitionOf(() =>
            configure({ defaults: { circuitBreaker: configured as CircuitBreakerOptions } }),
          );
          if (!configuring.ok)
            return expectRefusal(configuring.error, defaultsVerdict.bad, [undefined]);
          expectAccepted(defaultsVerdict.bad);

          const merged = mergeBreaker(ownVerdict.given, defaultsVerdict.given);
          const bad = new Set<string>();
          judgeBreakerWhole(merged, bad);
          const gateway = definition.value;
          const first = await outcomeOf(clock, gateway.call(false));
          if (!first.resolved) {
            expectRefusal(first.value, bad, [definitionLabel('Gateway', 'call'), 'Gateway.call']);
            expect(runs).toBe(0);
            return;
          }
          expectAccepted(bad);
          const name = (own.name as string | undefined) ?? 'Gateway.call';
          const perInstance = own.scope === 'instance';
          await expectBreakerWorks(
            clock,
            (fail) => gateway.call(fail),
            () => defaultEngine.breaker(name, perInstance ? gateway : undefined),
            merged,
          );
        },
      ),
      PARAMETERS,
    );
  });

  it('@Idempotent(options)', async () => {
    await fc.assert(
      fc.asyncProperty(
        blend((g) => g.idempotent),
        async (generated) => {
          const options = ownNames(generated);
          const { clock } = freshEngine();
          const verdict = judgeIdempotent(options);
          let runs = 0;
          const definition = definitionOf(() => {
            class Ledger {
              @Idempotent(options as IdempotentOptions)
              async post(id: string): Promise<string> {
                runs++;
                return `posted ${id}`;
              }
            }
            return new Ledger();
          });
          if (!definition.ok)
            return expectRefusal(definition.error, verdict.bad, [
              definitionLabel('Ledger', 'post'),
            ]);
          expectAccepted(verdict.bad);
          const ledger = definition.value;
          expect(await outcomeOf(clock, ledger.post('a'))).toEqual({
            resolved: true,
            value: 'posted a',
          });
          expect(await outcomeOf(clock, ledger.post('a'))).toEqual({
            resolved: true,
            value: 'posted a',
          });
          if (verdict.given.key === undefined) {
            // A plain mark: nothing is deduplicated.
            expect(runs).toBe(2);
            return;
          }
          // Keyed: the second call was replayed, and the record lasts exactly ttl.
          expect(runs).toBe(1);
          await clock.advance((verdict.given.ttl as number | undefined) ?? 86_400_000);
          expect(await outcomeOf(clock, ledger.post('a'))).toEqual({
            resolved: true,
            value: 'posted a',
          });
          expect(runs).toBe(2);
        },
      ),
      PARAMETERS,
    );
  });

  it('configure(options): applied whole or not at all', async () => {
    await fc.assert(
      fc.asyncProperty(
        blend((g) => g.configure),
        async (options) => {
          const before = freshEngine({ retry: { maxAttempts: 2, initialDelay: 0, maxDelay: 0 } });
          const verdict = judgeConfigure(options);
          let retriedRuns = 0;
          class Payments {
            @Idempotent()
            @Retryable()
            async charge(fail: boolean): Promise<string> {
              retriedRuns++;
              if (fail) throw new DownstreamError('down');
              return 'done';
            }

            @CircuitBreaker()
            async authorize(fail: boolean): Promise<string> {
              if (fail) throw new DownstreamError('down');
              return 'done';
            }
          }
          const payments = new Payments();
          const configuring = definitionOf(() => configure(options as EngineOptions));
          if (!configuring.ok) {
            expectRefusal(configuring.error, verdict.bad, [undefined]);
            // Nothing of it applied: the previous defaults, clock and logger still hold.
            await expectRetryingWorks(
              before.clock,
              (fail) => payments.charge(fail),
              () => retriedRuns,
              { maxAttempts: 2 },
            );
            expect(before.logger.entries.length).toBeGreaterThan(0);
            return;
          }
          expectAccepted(verdict.bad);
          const { given } = verdict;
          const clock = (given.clock as FakeClock | undefined) ?? before.clock;
          const defaults = given.defaults as { retry?: Given; circuitBreaker?: Given } | undefined;
          const retry = defaults === undefined ? { maxAttempts: 2 } : (defaults.retry ?? {});
          before.logger.clear();
          await expectRetryingWorks(
            clock,
            (fail) => payments.charge(fail),
            () => retriedRuns,
            retry,
          );
          await expectBreakerWorks(
            clock,
            (fail) => payments.authorize(fail),
            () => defaultEngine.breaker('Payments.authorize'),
            defaults?.circuitBreaker ?? {},
          );
          // The logs of those calls went to the logger configured now, or to the one before if none was given.
          if (given.logger instanceof RecordingLogger)
            expect(given.logger.entries.length).toBeGreaterThan(0);
          expect(before.logger.entries.length > 0).toBe(given.logger === undefined);
        },
      ),
      PARAMETERS,
    );
  });

  it('new MemoryStore(options)', async () => {
    await fc.assert(
      fc.asyncProperty(
        blend((g) => g.memoryStore),
        async (options) => {
          const { clock } = freshEngine();
          const verdict = judgeMemoryStore(options);
          const construction = definitionOf(
            () => new MemoryStore(options as ConstructorParameters<typeof MemoryStore>[0]),
          );
          if (!construction.ok) return expectRefusal(construction.error, verdict.bad, [undefined]);
          expectAccepted(verdict.bad);
          configure({ store: construction.value });
          const runs: string[] = [];
          class Ledger {
            @Idempotent({ key: (id: string) => id })
            async post(id: string): Promise<string> {
              runs.push(id);
              return `posted ${id}`;
            }
          }
          const ledger = new Ledger();
          // One more distinct key than a small store holds: the least recently used record goes.
          const maxEntries = (verdict.given.maxEntries as number | undefined) ?? 10_000;
          const keys = Array.from(
            { length: Math.min(maxEntries, 6) + 1 },
            (_, index) => `k${index}`,
          );
          for (const id of keys)
            expect(await outcomeOf(clock, ledger.post(id))).toEqual({
              resolved: true,
              value: `posted ${id}`,
            });
          await outcomeOf(clock, ledger.post('k0'));
          expect(runs).toEqual(maxEntries <= 6 ? [...keys, 'k0'] : keys);
        },
      ),
      PARAMETERS,
    );
  });
});
