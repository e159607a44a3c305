import type { BackoffInput, JitterStrategy } from './jitter';

/** Uniform in [d/2, d]: keeps at least half of the exponential delay. */
export const equalJitter: JitterStrategy = {
  nextDelay: ({ ceiling, random }: BackoffInput) => ceiling / 2 + (ceiling / 2) * random(),
};
