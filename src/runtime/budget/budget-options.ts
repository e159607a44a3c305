import type { OptionChecker } from '../validation';

/** A retry budget: retries (and hedges) started in a window stay under ratio × calls + a floor. */
export interface RetryBudgetOptions {
  /** budgets are shared by name (a method's own budget without one); on a RedisStore, by the fleet */
  readonly name?: string;
  /** retries allowed per call started, in [0, 1] (default 0.1) */
  readonly ratio?: number;
  /** retries allowed per second whatever the traffic, so that a quiet service can still retry (default 10) */
  readonly minPerSecond?: number;
  /** ms the budget looks back over (default 10 000) */
  readonly window?: number;
}

/** A budget with its defaults filled in. */
export interface RetryBudgetSettings {
  readonly name: string | undefined;
  readonly ratio: number;
  readonly minPerSecond: number;
  readonly window: number;
}

export const BUDGET_DEFAULTS = { ratio: 0.1, minPerSecond: 10, window: 10_000 } as const;

const KEYS = ['name', 'ratio', 'minPerSecond', 'window'] as const;

/** Checks a budget's options (`configure({ retryBudget })` gives no name: it is the engine's). */
export function checkBudgetOptions(
  raw: unknown,
  option: string,
  checker: OptionChecker,
  named: boolean,
): RetryBudgetSettings {
  const options = checker.object(option, raw, named ? KEYS : KEYS.filter((key) => key !== 'name'));
  const path = (key: string): string => `${option}.${key}`;
  let ratio: number = BUDGET_DEFAULTS.ratio;
  if (options.ratio !== undefined) {
    const value = options.ratio;
    if (typeof value !== 'number' || !(value >= 0 && value <= 1))
      checker.fail(path('ratio'), 'must be a number in [0, 1]', value);
    ratio = value;
  }
  const minPerSecond =
    options.minPerSecond === undefined
      ? BUDGET_DEFAULTS.minPerSecond
      : checker.atLeast(path('minPerSecond'), options.minPerSecond, 0);
  let window: number = BUDGET_DEFAULTS.window;
  if (options.window !== undefined) {
    window = checker.duration(path('window'), options.window);
    if (window < 10 || window > 86_400_000)
      checker.fail(path('window'), 'must be between 10 and 86400000 ms', options.window);
  }
  const name = options.name === undefined ? undefined : checker.text(path('name'), options.name);
  return Object.freeze({ name, ratio, minPerSecond, window });
}
