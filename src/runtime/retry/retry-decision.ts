import { isBulkheadRejectedError, isNeverRetried } from '../errors';
import type { RetrySettings } from './retry-options';

/** Whether the failure of `attempt` is one `retryOn` retries. The library's own errors and aborts never are. */
export function isRetryable(settings: RetrySettings, error: unknown, attempt: number): boolean {
  if (isNeverRetried(error)) return false;
  const { retryOn } = settings;
  // The call never reached the service: retried only when retryOn asks for it.
  if (retryOn === undefined) return !isBulkheadRejectedError(error);
  if (typeof retryOn === 'function') {
    try {
      return retryOn(error, attempt) === true;
    } catch {
      // A predicate that throws retries nothing; the caller still gets the original error.
      return false;
    }
  }
  for (const errorClass of retryOn) if (error instanceof errorClass) return true;
  return false;
}
