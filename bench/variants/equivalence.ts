/*
 * The one configuration every variant approximates, so that rows compare like with like.
 * Libraries that count retries rather than attempts get RETRIES.
 */

/** attempts in all, the first included */
export const ATTEMPTS = 3;
/** the same, counted as retries after the first attempt */
export const RETRIES = ATTEMPTS - 1;
/** consecutive failures that open a breaker */
export const FAILURES_TO_OPEN = 5;
/** a failure count no bench run reaches: the breaker records every failure and stays closed */
export const NEVER_OPENS = 1_000_000_000;
/** ms a breaker stays open before it admits a trial call; longer than any scenario */
export const OPEN_MS = 30_000;
