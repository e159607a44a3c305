import { systemClock, type Clock } from './clock';
import { createLogSink, type LoggerLike, type LogSink } from './log';
import { EventHub, type EngineEventName, type EngineListener } from './events';
import { checkRetryOptions, type RetryOptions } from './retry/retry-options';
import { compilePlan } from './pipeline';
import type { MethodPolicy } from './policy';
import { OptionChecker } from './validation';

/** Defaults that apply to every decorated method unless its decorator says otherwise. */
export interface EngineDefaults {
  readonly retry?: RetryOptions;
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
}

const ENGINE_OPTION_KEYS = ['logger', 'clock', 'random', 'defaults'] as const;

/** Runs every call of every decorated method. Decorators find it at call time, so it can be configured late. */
export class ResilienceEngine {
  /** @internal */ clock: Clock = systemClock;
  /** @internal */ random: () => number = Math.random;
  /** @internal */ log: LogSink = createLogSink(console);
  /** @internal */ defaults: EngineDefaults = {};
  /** @internal Bumped by configure(), so compiled plans know they are stale. */
  version = 0;
  /** @internal */ readonly events = new EventHub();

  constructor(options: EngineOptions = {}) {
    this.configure(options);
  }

  /** Replaces the settings given; the others stay as they are. */
  configure(options: EngineOptions): this {
    const checker = new OptionChecker('configure()', undefined);
    const given = checker.object('', options, ENGINE_OPTION_KEYS);
    if (given.logger !== undefined) this.log = createLogSink(checkLogger(given.logger, checker));
    if (given.clock !== undefined) this.clock = checkClock(given.clock, checker);
    if (given.random !== undefined) this.random = checker.func('random', given.random);
    if (given.defaults !== undefined) {
      const defaults = checker.object('defaults', given.defaults, ['retry']);
      this.defaults = {
        retry: defaults.retry === undefined ? undefined : checkRetryOptions(defaults.retry, new OptionChecker('configure() defaults.retry', undefined)),
      };
    }
    this.version++;
    return this;
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends EngineEventName>(event: E, listener: EngineListener<E>): () => void {
    return this.events.on(event, listener);
  }

  off<E extends EngineEventName>(event: E, listener: EngineListener<E>): void {
    this.events.off(event, listener);
  }

  /** @internal Runs one call of a decorated method. */
  run(policy: MethodPolicy, thisArg: unknown, args: unknown[]): Promise<unknown> {
    let plan = policy.plan;
    if (plan === undefined || plan.engine !== this || plan.version !== this.version) {
      try {
        plan = compilePlan(this, policy, thisArg);
      } catch (error) {
        return Promise.reject(error);
      }
      policy.plan = plan;
    }
    return plan.run(plan, thisArg, args);
  }
}

function checkLogger(value: unknown, checker: OptionChecker): LoggerLike | false {
  if (value === false) return false;
  const logger = value as Partial<LoggerLike> | null;
  if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function' || typeof logger.error !== 'function') {
    checker.fail('logger', 'must be false or an object with warn() and error() (console, pino, NestJS Logger)', value);
  }
  return logger as LoggerLike;
}

function checkClock(value: unknown, checker: OptionChecker): Clock {
  const clock = value as Partial<Clock> | null;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function' || typeof clock.sleep !== 'function') {
    checker.fail('clock', 'must be an object with now() and sleep(ms, signal)', value);
  }
  return clock as Clock;
}

/** The engine every decorator uses. */
export const defaultEngine = new ResilienceEngine();

/** Sets up `defaultEngine`. Works after classes are defined: decorators look the engine up per call. */
export function configure(options: EngineOptions): ResilienceEngine {
  return defaultEngine.configure(options);
}
