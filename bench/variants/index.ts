export { bare, bareRejection } from './bare';
export { handWrittenRetry, MinimalRetry } from './hand-written';
export {
  steadfastIdempotent,
  steadfastRetry,
  steadfastBreaker,
  steadfastAllThree,
} from './steadfast';
export {
  cockatielRetry,
  cockatielBreaker,
  cockatielWrap,
  cockatielTimeout,
  cockatielBulkhead,
  cockatielFallback,
  cockatielWrapAll,
} from './cockatiel';
export {
  steadfastRetryTimeout,
  steadfastAllSix,
  steadfastBulkhead,
  steadfastFallback,
  steadfastTimeout,
} from './steadfast-stages';
export { opossumFire, opossumNoTimeout } from './opossum';
export { pRetry } from './p-retry';
export { asyncRetry } from './async-retry';
export { typescriptRetryDecorator } from './typescript-retry-decorator';
export { ATTEMPTS, RETRIES, FAILURES_TO_OPEN, NEVER_OPENS, OPEN_MS } from './equivalence';
