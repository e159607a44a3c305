import type { BackoffInput, JitterStrategy } from './jitter';

/** Uniform in [0, d]: spreads a herd of retrying clients the most (AWS "full jitter"). */
export const fullJitter: JitterStrategy = {
  nextDelay: ({ ceiling, random }: BackoffInput) => ceiling * random(),
};
