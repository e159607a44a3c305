import type { OptionChecker } from '../validation';

/** The delay of an adaptive hedge: a percentile of recent successful attempts' latencies, clamped. */
export interface AdaptiveHedgeDelay {
  /** in (0, 1): 0.95 hedges an attempt slower than 95 % of recent ones */
  readonly percentile: number;
  /** ms; the delay is never shorter */
  readonly min: number;
  /** ms; the delay is never longer, and is this until enough latencies are known */
  readonly max: number;
}

/** The options of `@Hedge`. */
export interface HedgeOptions {
  /** ms an attempt may run before another joins it, or an adaptive delay */
  readonly delay: number | AdaptiveHedgeDelay;
  /** extra attempts at most, 1 to 4 (default 1) */
  readonly maxHedged?: number;
  /** hedged attempts stay under this fraction of the method's calls in a recent window, in (0, 1] (default 0.1) */
  readonly maxExtraLoad?: number;
}

/** Checked @Hedge options, defaults filled in. */
export interface HedgeSettings {
  readonly delay: number | AdaptiveHedgeDelay;
  readonly maxHedged: number;
  readonly maxExtraLoad: number;
}

const KEYS = ['delay', 'maxHedged', 'maxExtraLoad'] as const;

/** The longest timer Node keeps: a longer hedge delay would fire after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/** A delay the hedge sleeps for: ms >= 0 that a timer can hold. */
function hedgeDelay(checker: OptionChecker, option: string, value: unknown): number {
  const ms = checker.duration(option, value);
  if (ms > MAX_TIMER_MS) checker.fail(option, `must be at most ${MAX_TIMER_MS} ms`, value);
  return ms;
}

export function checkHedgeOptions(raw: unknown, checker: OptionChecker): HedgeSettings {
  const options = checker.object('', raw, KEYS);
  if (options.delay === undefined)
    checker.fail('delay', 'is required: ms, or { percentile, min, max }', undefined);
  let delay: number | AdaptiveHedgeDelay;
  if (typeof options.delay === 'number') {
    delay = hedgeDelay(checker, 'delay', options.delay);
  } else {
    const adaptive = checker.object('delay', options.delay, ['percentile', 'min', 'max']);
    for (const key of ['percentile', 'min', 'max'] as const) {
      if (adaptive[key] === undefined) checker.fail(`delay.${key}`, 'is required', undefined);
    }
    const percentile = adaptive.percentile;
    if (typeof percentile !== 'number' || !(percentile > 0 && percentile < 1)) {
      checker.fail('delay.percentile', 'must be a number in (0, 1)', percentile);
    }
    const min = hedgeDelay(checker, 'delay.min', adaptive.min);
    const max = hedgeDelay(checker, 'delay.max', adaptive.max);
    if (max < min) checker.fail('delay.max', `must be >= delay.min (${min})`, max);
    delay = Object.freeze({ percentile, min, max });
  }
  let maxHedged = 1;
  if (options.maxHedged !== undefined) {
    maxHedged = checker.integer('maxHedged', options.maxHedged, 1);
    if (maxHedged > 4)
      checker.fail('maxHedged', 'must be an integer from 1 to 4', options.maxHedged);
  }
  const maxExtraLoad =
    options.maxExtraLoad === undefined ? 0.1 : checker.ratio('maxExtraLoad', options.maxExtraLoad);
  return Object.freeze({ delay, maxHedged, maxExtraLoad });
}
