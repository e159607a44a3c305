import type { BackoffInput, JitterStrategy } from './jitter';

/** Uniform in [initialDelay, min(maxDelay, 3 · previous)]: grows from the last delay, not the attempt number. */
export const decorrelatedJitter: JitterStrategy = {
  nextDelay: ({ initialDelay, maxDelay, previous, random }: BackoffInput) => {
    const upper = Math.min(maxDelay, 3 * previous);
    return initialDelay + (upper - initialDelay) * random();
  },
};
