import type { BackoffInput, JitterStrategy } from './jitter';

/** Exactly the capped exponential delay. */
export const noJitter: JitterStrategy = {
  nextDelay: ({ ceiling }: BackoffInput) => ceiling,
};
