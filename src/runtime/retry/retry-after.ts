/**
 * The wait a failed call's error asks for, in ms, read from the shapes real clients give:
 * - `error.retryAfter`: a number of ms (steadfast's own errors, and any error that sets it);
 * - an HTTP response on `error.response` (axios, got, ky, fetch wrappers that keep the Response)
 *   or `error.cause` (errors of fetch wrappers that put the Response there), whose headers are a
 *   Fetch `Headers` (`get()`), axios's `AxiosHeaders` or a plain object of lower-case names;
 * - NestJS's HttpException: the object its `getResponse()` gives, with `headers` or `retryAfter`
 *   (seconds, as the header).
 * Headers read: `Retry-After` (delay-seconds, or an HTTP-date, against `now`) and
 * `x-amz-retry-after` (ms). 0 when the error asks for nothing readable.
 */
export function retryAfterOf(error: unknown, now: number): number {
  if (typeof error !== 'object' || error === null) return 0;
  const own = notFromObjectPrototype(error, 'retryAfter')
    ? (error as { retryAfter?: unknown }).retryAfter
    : undefined;
  if (typeof own === 'number') return positive(own);
  const fromResponse =
    hintOfResponse((error as { response?: unknown }).response, now) ??
    hintOfResponse((error as { cause?: unknown }).cause, now);
  if (fromResponse !== undefined) return fromResponse;
  const getResponse = (error as { getResponse?: unknown }).getResponse;
  if (typeof getResponse === 'function') {
    let body: unknown;
    try {
      body = (getResponse as () => unknown).call(error);
    } catch {
      return 0;
    }
    if (typeof body === 'object' && body !== null) {
      const seconds = (body as { retryAfter?: unknown }).retryAfter;
      if (typeof seconds === 'number' || typeof seconds === 'string')
        return fromRetryAfter(String(seconds), now) ?? 0;
      return hintOfResponse(body, now) ?? 0;
    }
  }
  return 0;
}

function hintOfResponse(response: unknown, now: number): number | undefined {
  if (typeof response !== 'object' || response === null) return undefined;
  const headers = (response as { headers?: unknown }).headers;
  if (typeof headers !== 'object' || headers === null) return undefined;
  const amz = header(headers, 'x-amz-retry-after');
  if (amz !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(amz)) return positive(Number(amz));
  const retryAfter = header(headers, 'retry-after');
  return retryAfter === undefined ? undefined : fromRetryAfter(retryAfter, now);
}

/** A header's value from a Fetch Headers, AxiosHeaders or plain object (first value of an array). */
function header(headers: object, name: string): string | undefined {
  const get = (headers as { get?: unknown }).get;
  let value: unknown;
  if (typeof get === 'function') {
    try {
      value = (get as (name: string) => unknown).call(headers, name);
    } catch {
      value = undefined;
    }
  }
  if (value === undefined || value === null) {
    value = (headers as Record<string, unknown>)[name];
    if (value === undefined) {
      const found = Object.keys(headers).find((key) => key.toLowerCase() === name);
      value = found === undefined ? undefined : (headers as Record<string, unknown>)[found];
    }
  }
  if (Array.isArray(value)) value = value[0];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** `Retry-After`: delay-seconds, or an HTTP-date. */
function fromRetryAfter(value: string, now: number): number | undefined {
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return positive(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : positive(at - now);
}

function positive(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/** Whether `key` is found on `object` or its class chain before Object.prototype (which other code may have polluted). */
function notFromObjectPrototype(object: object, key: string): boolean {
  for (
    let owner: object | null = object;
    owner !== null && owner !== Object.prototype;
    owner = Object.getPrototypeOf(owner) as object | null
  ) {
    if (Object.prototype.hasOwnProperty.call(owner, key)) return true;
  }
  return false;
}
