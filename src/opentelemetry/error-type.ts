/** `error.type` for an error nothing more specific can be said of (the semantic conventions' fallback). */
export const OTHER_ERROR_TYPE = '_OTHER';

/**
 * `error.type`, by the stable semantic conventions' rules, low in cardinality: the error's `code`
 * when it is a non-empty string (steadfast's own errors, Node's system errors such as
 * `ECONNREFUSED`), else its class name (`constructor.name`), else `_OTHER` (a thrown primitive, an
 * object without a class, or no error at all: a result `retryOnResult` rejected).
 */
export function errorType(error: unknown): string {
  if ((typeof error !== 'object' && typeof error !== 'function') || error === null) {
    return OTHER_ERROR_TYPE;
  }
  try {
    const { code } = error as { code?: unknown };
    if (typeof code === 'string' && code !== '') return code;
    const constructor = (error as { constructor?: unknown }).constructor;
    const name = typeof constructor === 'function' ? constructor.name : undefined;
    return typeof name === 'string' && name !== '' ? name : OTHER_ERROR_TYPE;
  } catch {
    // A getter that throws (a revoked Proxy, say) tells nothing more.
    return OTHER_ERROR_TYPE;
  }
}
