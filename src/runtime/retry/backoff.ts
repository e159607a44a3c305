import type { JitterKind, RetrySettings } from './retry-options';
import type { JitterStrategy } from './jitter/jitter';
import { noJitter } from './jitter/no-jitter';
import { fullJitter } from './jitter/full-jitter';
import { equalJitter } from './jitter/equal-jitter';
import { decorrelatedJitter } from './jitter/decorrelated-jitter';

const strategies: Record<JitterKind, JitterStrategy> = {
  none: noJitter,
  full: fullJitter,
  equal: equalJitter,
  decorrelated: decorrelatedJitter,
};

/** The n-th delay (n = 1 before the second attempt); `previous` is the last delay picked. */
export function nextDelay(
  settings: RetrySettings,
  n: number,
  previous: number,
  random: () => number,
): number {
  const { initialDelay, maxDelay, multiplier } = settings;
  const ceiling = Math.min(maxDelay, initialDelay * multiplier ** (n - 1));
  return strategies[settings.jitter].nextDelay({
    initialDelay,
    maxDelay,
    ceiling,
    previous,
    random,
  });
}
