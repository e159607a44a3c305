import { systemClock, type Clock } from './clock';
import { createLogSink, type LoggerLike, type LogSink } from './log';
import { EventHub, type EngineEventName, type EngineListener } from './events';
import { checkRetryOptions, type RetryOptions } from './retry/retry-options';
import { hasMethod, OptionChecker } from './validation';
import { ConfigError } from './errors';
import {
  checkBreakerOptions,
  resolveBreakerSettings,
  type CircuitBreakerOptions,
} from './breaker/breaker-options';
import {
  allDeclarations,
  declarationNamed,
  type BreakerDeclaration,
} from './breaker/breaker-declarations';
import { Breaker, type BreakerObserver, type CircuitBreakerHandle } from './breaker/breaker';
import { RefusalLog } from './breaker/refusal-log';
import { RetryBudget } from './budget/retry-budget';
import { ThrottledLog } from './throttled-log';
import {
  checkBudgetOptions,
  type RetryBudgetOptions,
  type RetryBudgetSettings,
} from './budget/budget-options';
import type { CircuitState } from './events';
import type { AttemptTracer } from './attempt-tracer';
import { makesBreakers, sharesBudgets, type IdempotencyStore } from './store';
import { exchangesBreakers } from './shared-breaker-store';
import { exchangedBreaker } from '../stores/exchanged-breakers';
import { MemoryStore } from './idempotency/memory-store';
import { Bulkhead, type BulkheadHandle } from './bulkhead/bulkhead';
import {
  allBulkheadDeclarations,
  bulkheadDeclarationNamed,
  type BulkheadDeclaration,
} from './bulkhead/bulkhead-declarations';
import { isStore } from './idempotency/idempotency-options';

/** Defaults that apply to every decorated method unless its decorator says otherwise. */
export interface EngineDefaults {
  readonly retry?: RetryOptions;
  /** applied when a breaker is first used; `name` and `scope` are per method and cannot be defaulted */
  readonly circuitBreaker?: Omit<CircuitBreakerOptions, 'name' | 'scope'>;
}

/** What `configure()` (and `new ResilienceEngine()`) accept. Each given setting replaces the current one. */
export interface EngineOptions {
  /** console, pino, NestJS's Logger, or anything with warn/error; `false` silences (default: console) */
  readonly logger?: LoggerLike | false;
  /** where time is read and sleeps happen (default: the system clock) */
  readonly clock?: Clock;
  /** uniform in [0, 1), for jitter (default: Math.random) */
  readonly random?: () => number;
  readonly defaults?: EngineDefaults;
  /** where idempotency records (and, with RedisStore, breaker state) live (default: a MemoryStore) */
  readonly store?: IdempotencyStore;
  /**
   * One retry budget for every retried or hedged method that does not give its own: in any window,
   * retries started may not exceed ratio × calls started + minPerSecond × window / 1000 (default:
   * off; `false` turns it off again)
   */
  readonly retryBudget?: Omit<RetryBudgetOptions, 'name'> | false;
}

const ENGINE_OPTION_KEYS = [
  'logger',
  'clock',
  'random',
  'defaults',
  'store',
  'retryBudget',
] as const;

/** Runs every call of every decorated method. Decorators find it at call time, so it can be configured late. */
export class ResilienceEngine {
  /** @internal */ clock: Clock = systemClock;
  /** @internal Looked up per call by default, so that a spy on Math.random is seen. */ random: () => number =
    () => Math.random();
  /** @internal */ log: LogSink = createLogSink(console);
  /** @internal Both keys own, so that reading one never reaches a polluted Object.prototype. */
  defaults: EngineDefaults = { retry: undefined, circuitBreaker: undefined };
  /** @internal */ store: IdempotencyStore = new MemoryStore();
  /** @internal Bumped by configure(), so compiled plans know they are stale. */
  version = 0;
  /** @internal */ readonly events = new EventHub();
  /** @internal The tracer every attempt is told of (see traceAttempts()). */
  attemptTracer: AttemptTracer | undefined = undefined;

  constructor(options: EngineOptions = {}) {
    this.configure(options);
  }

  /** Replaces the settings given; the others stay as they are. All are checked before any applies. */
  configure(options: EngineOptions): this {
    const checker: OptionChecker = new OptionChecker('configure()', undefined);
    const given = checker.object('', options, ENGINE_OPTION_KEYS);
    const log =
      given.logger === undefined ? this.log : createLogSink(checkLogger(given.logger, checker));
    const clock = given.clock === undefined ? this.clock : checkClock(given.clock, checker);
    const random =
      given.random === undefined ? this.random : checker.func<() => number>('random', given.random);
    const store = given.store === undefined ? this.store : checkStore(given.store, checker);
    const defaults =
      given.defaults === undefined ? this.defaults : checkDefaults(given.defaults, checker);
    const retryBudget =
      given.retryBudget === undefined
        ? this.retryBudget
        : given.retryBudget === false
          ? undefined
          : new RetryBudget(
              'engine',
              checkBudgetOptions(given.retryBudget, 'retryBudget', checker, false),
            );
    // Breakers and named budgets live in the store they were created with: a new store starts them afresh.
    if (store !== this.store) {
      this.breakerStates.clear();
      this.namedBudgets.clear();
    }
    this.log = log;
    this.clock = clock;
    this.random = random;
    this.store = store;
    this.defaults = defaults;
    this.retryBudget = retryBudget;
    this.version++;
    return this;
  }

  /** @internal The budget of every retried or hedged method that gives none of its own. */
  retryBudget: RetryBudget | undefined = undefined;

  /**
   * @internal A method's budget: the named one it shares (the fleet's, on a store that shares
   * budgets), or its own (kept by its body, so across configure(); always this process's).
   */
  budgetFor(settings: RetryBudgetSettings, owner: object, label: string): RetryBudget {
    const { name } = settings;
    let budget = name === undefined ? this.ownBudgets.get(owner) : this.namedBudgets.get(name);
    if (budget === undefined) {
      if (name === undefined)
        this.ownBudgets.set(owner, (budget = new RetryBudget(label, settings)));
      else {
        budget = sharesBudgets(this.store)
          ? this.store.createBudget(name, settings, () => this.clock.now(), this.currentLog)
          : new RetryBudget(name, settings);
        this.namedBudgets.set(name, budget);
      }
    }
    return budget;
  }

  /** @internal How a budget's refusals are logged: the first in full, then a count every 10 s. */
  budgetLogOf(budget: RetryBudget): ThrottledLog {
    let log = this.budgetLogs.get(budget);
    if (log === undefined) {
      log = new ThrottledLog((count, seconds) => [
        `retry budget '${budget.name}' refused ${count} more retr${count === 1 ? 'y' : 'ies'} in the last ${seconds} s`,
        { budget: budget.name, refused: count },
      ]);
      this.budgetLogs.set(budget, log);
    }
    return log;
  }

  private readonly budgetLogs = new WeakMap<RetryBudget, ThrottledLog>();
  private readonly namedBudgets = new Map<string, RetryBudget>();
  private readonly ownBudgets = new WeakMap<object, RetryBudget>();

  /**
   * The breaker declared under `name` (explicitly, or `Class.method` by default). For a breaker with
   * `scope: 'instance'`, pass the instance whose breaker you want.
   */
  breaker(name: string, instance?: object): CircuitBreakerHandle {
    const declaration = declarationNamed(name);
    if (declaration === undefined) {
      throw new ConfigError(
        `no circuit breaker named '${name}' is declared (a default name is known once its class is defined, or in standard decorator mode once the method is first called)`,
        'name',
      );
    }
    if (declaration.options.scope === 'instance' && instance === undefined) {
      throw new ConfigError(
        `circuit '${name}' has scope 'instance': pass the instance, engine.breaker(name, instance)`,
        'scope',
      );
    }
    return this.breakerFor(declaration, instance);
  }

  /** Every class-scoped breaker that has been used or looked up, for a health endpoint. */
  breakers(): CircuitBreakerHandle[] {
    const handles: CircuitBreakerHandle[] = [];
    for (const declaration of allDeclarations()) {
      const state = this.breakerStates.get(declaration);
      if (state instanceof Breaker) handles.push(state);
    }
    return handles;
  }

  /** @internal The breaker a call goes through: shared, or this instance's for scope 'instance'. */
  breakerFor(declaration: BreakerDeclaration, thisArg: unknown): Breaker {
    const existing = this.breakerStates.get(declaration);
    const perInstance =
      declaration.options.scope === 'instance' &&
      (typeof thisArg === 'object' || typeof thisArg === 'function') &&
      thisArg !== null;
    if (!perInstance) {
      if (existing instanceof Breaker) return existing;
      const created = this.createBreaker(declaration);
      this.breakerStates.set(declaration, created);
      return created;
    }
    let instances = existing instanceof WeakMap ? existing : undefined;
    if (instances === undefined) this.breakerStates.set(declaration, (instances = new WeakMap()));
    let breaker = instances.get(thisArg as object);
    if (breaker === undefined)
      instances.set(thisArg as object, (breaker = this.createBreaker(declaration)));
    return breaker;
  }

  private createBreaker(declaration: BreakerDeclaration): Breaker {
    const settings = resolveBreakerSettings(
      declaration.options,
      this.defaults.circuitBreaker,
      new OptionChecker('@CircuitBreaker', declaration.declaredBy),
    );
    const now = (): number => this.clock.now();
    // Per-instance breakers stay in the process: a fleet shares breakers by name.
    if (makesBreakers(this.store) && declaration.options.scope !== 'instance') {
      return this.store.createBreaker(
        declaration.name,
        settings,
        now,
        this.breakerObserver,
        this.currentLog,
      );
    }
    if (exchangesBreakers(this.store) && declaration.options.scope !== 'instance') {
      return exchangedBreaker(
        this.store,
        declaration.name,
        settings,
        now,
        this.breakerObserver,
        this.currentLog,
      );
    }
    return new Breaker(declaration.name, settings, now, this.breakerObserver);
  }

  /** Logs through whatever logger is configured at the time of logging. */
  private readonly currentLog: LogSink = ((engine: ResilienceEngine): LogSink => ({
    get enabled(): boolean {
      return engine.log.enabled;
    },
    warn: (message, fields) => engine.log.warn(message, fields),
    error: (message, fields) => engine.log.error(message, fields),
  }))(this);

  /** @internal How a breaker's refusals are logged (see refusal-log.ts). */
  refusalLogOf(breaker: Breaker): RefusalLog {
    let log = this.refusalLogs.get(breaker);
    if (log === undefined) this.refusalLogs.set(breaker, (log = new RefusalLog(breaker)));
    return log;
  }

  private readonly refusalLogs = new WeakMap<Breaker, RefusalLog>();

  private readonly breakerStates = new Map<
    BreakerDeclaration,
    Breaker | WeakMap<object, Breaker>
  >();

  private readonly breakerObserver: BreakerObserver = {
    stateChanged: (breaker: Breaker, from: CircuitState, to: CircuitState, reason: string) => {
      // The refusals of the state it leaves, not yet logged, are logged now.
      this.refusalLogs.get(breaker)?.flush(this.log, this.clock.now());
      this.log.warn(`circuit '${breaker.name}' ${from} -> ${to}: ${reason}`, {
        circuit: breaker.name,
        from,
        to,
        reason,
      });
      if (this.events.has('stateChange'))
        this.events.emit('stateChange', { circuit: breaker.name, from, to, reason });
    },
  };

  /**
   * The bulkhead declared under `name` (explicitly, or `Class.method` by default). For a bulkhead
   * with `scope: 'instance'`, pass the instance whose bulkhead you want.
   */
  bulkhead(name: string, instance?: object): BulkheadHandle {
    const declaration = bulkheadDeclarationNamed(name);
    if (declaration === undefined) {
      throw new ConfigError(
        `no bulkhead named '${name}' is declared (a default name is known once its class is defined, or in standard decorator mode once the method is first called)`,
        'name',
      );
    }
    if (declaration.options.scope === 'instance' && instance === undefined) {
      throw new ConfigError(
        `bulkhead '${name}' has scope 'instance': pass the instance, engine.bulkhead(name, instance)`,
        'scope',
      );
    }
    return this.bulkheadFor(declaration, instance);
  }

  /** Every class-scoped bulkhead in use or looked up. */
  bulkheads(): BulkheadHandle[] {
    const handles: BulkheadHandle[] = [];
    for (const declaration of allBulkheadDeclarations()) {
      const state = this.bulkheadStates.get(declaration);
      if (state instanceof Bulkhead) handles.push(state);
    }
    return handles;
  }

  /** @internal The bulkhead an attempt goes through: shared, or this instance's for scope 'instance'. Bulkheads are per process. */
  bulkheadFor(declaration: BulkheadDeclaration, thisArg: unknown): Bulkhead {
    const existing = this.bulkheadStates.get(declaration);
    const perInstance =
      declaration.options.scope === 'instance' &&
      (typeof thisArg === 'object' || typeof thisArg === 'function') &&
      thisArg !== null;
    if (!perInstance) {
      if (existing instanceof Bulkhead) return existing;
      const created = new Bulkhead(declaration.name, declaration.options);
      this.bulkheadStates.set(declaration, created);
      return created;
    }
    let instances = existing instanceof WeakMap ? existing : undefined;
    if (instances === undefined) this.bulkheadStates.set(declaration, (instances = new WeakMap()));
    let bulkhead = instances.get(thisArg as object);
    if (bulkhead === undefined)
      instances.set(
        thisArg as object,
        (bulkhead = new Bulkhead(declaration.name, declaration.options)),
      );
    return bulkhead;
  }

  private readonly bulkheadStates = new Map<
    BulkheadDeclaration,
    Bulkhead | WeakMap<object, Bulkhead>
  >();

  /**
   * Tells `tracer` of every attempt of every decorated method, and runs each attempt's body inside
   * what it gives (steadfast/opentelemetry's attempt spans use it). One tracer at a time; returns the
   * function that removes it.
   */
  traceAttempts(tracer: AttemptTracer): () => void {
    if (this.attemptTracer !== undefined)
      throw new ConfigError(
        'traceAttempts(): a tracer is already installed; remove it first',
        'tracer',
      );
    const checker: OptionChecker = new OptionChecker('traceAttempts()', undefined);
    for (const method of ['start', 'run', 'end'] as const) {
      if (typeof (tracer as unknown as Record<string, unknown> | null)?.[method] !== 'function')
        checker.fail(method, 'must be a function', tracer);
    }
    this.attemptTracer = tracer;
    this.version++;
    return () => {
      if (this.attemptTracer !== tracer) return;
      this.attemptTracer = undefined;
      this.version++;
    };
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends EngineEventName>(event: E, listener: EngineListener<E>): () => void {
    return this.events.on(event, listener);
  }

  off<E extends EngineEventName>(event: E, listener: EngineListener<E>): void {
    this.events.off(event, listener);
  }
}

function checkStore(value: unknown, checker: OptionChecker): IdempotencyStore {
  const methods = ['claim', 'complete', 'release', 'read'];
  if (!isStore(value) || !methods.every((name) => hasMethod(value, name)))
    checker.fail(
      'store',
      'must be an IdempotencyStore, with claim(), complete(), release() and read() (MemoryStore, RedisStore, MemoryFleetStore); a store that shares breakers is one too, and also has exchangeBreakers()',
      value,
    );
  return value;
}

function checkDefaults(value: unknown, checker: OptionChecker): EngineDefaults {
  const defaults = checker.object('defaults', value, ['retry', 'circuitBreaker']);
  // Named here, where the section's path is known; its own checker names options within it.
  for (const section of ['retry', 'circuitBreaker'] as const) {
    const given = defaults[section];
    const isObject = typeof given === 'object' && given !== null && !Array.isArray(given);
    if (given !== undefined && !isObject)
      checker.fail(`defaults.${section}`, 'must be an object', given);
  }
  return {
    retry:
      defaults.retry === undefined
        ? undefined
        : checkRetryOptions(
            defaults.retry,
            new OptionChecker('configure() defaults.retry', undefined),
          ),
    circuitBreaker:
      defaults.circuitBreaker === undefined
        ? undefined
        : checkBreakerDefaults(defaults.circuitBreaker),
  };
}

function checkBreakerDefaults(value: unknown): CircuitBreakerOptions {
  const checker = new OptionChecker('configure() defaults.circuitBreaker', undefined);
  const options = checkBreakerOptions(value, checker);
  if (options.name !== undefined)
    checker.fail('name', 'is per method and cannot be a default', options.name);
  if (options.scope !== undefined)
    checker.fail('scope', 'is per method and cannot be a default', options.scope);
  return options;
}

function checkLogger(value: unknown, checker: OptionChecker): LoggerLike | false {
  if (value === false) return false;
  if (
    typeof value !== 'object' ||
    value === null ||
    !hasMethod(value, 'warn') ||
    !hasMethod(value, 'error')
  ) {
    checker.fail(
      'logger',
      'must be false or an object with warn() and error() (console, pino, NestJS Logger)',
      value,
    );
  }
  return value as LoggerLike;
}

function checkClock(value: unknown, checker: OptionChecker): Clock {
  if (
    typeof value !== 'object' ||
    value === null ||
    !hasMethod(value, 'now') ||
    !hasMethod(value, 'sleep')
  ) {
    checker.fail('clock', 'must be an object with now() and sleep(ms, signal)', value);
  }
  return value as Clock;
}

/** The engine every decorator uses. */
export const defaultEngine = new ResilienceEngine();

/** Sets up `defaultEngine`. Works after classes are defined: decorators look the engine up per call. */
export function configure(options: EngineOptions): ResilienceEngine {
  return defaultEngine.configure(options);
}
