import { isAbortSignal, type AbortSignalLike } from '../clock';
import { ConfigError } from '../errors';
import type { RetrySettings } from './retry-options';

/**
 * The call's AbortSignal: the `signal` option's pick, else an AbortSignal argument or an argument's
 * own (or its class's) `signal`. A pick that is not a signal is a ConfigError, for the call to reject with.
 */
export function signalOf(
  settings: RetrySettings,
  args: readonly unknown[],
  label: string,
): AbortSignalLike | undefined {
  if (settings.signal !== undefined) {
    const picked = settings.signal(args);
    if (picked === undefined || isAbortSignal(picked)) return picked;
    throw new ConfigError(
      `@Retryable on ${label}: option 'signal' must return an AbortSignal or undefined, got ${typeof picked}`,
      'signal',
      label,
    );
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg !== 'object' || arg === null) continue;
    if (isAbortSignal(arg)) return arg;
    const nested = signalProperty(arg);
    if (nested !== undefined) return nested;
  }
  return undefined;
}

/** `arg.signal` when it is an AbortSignal that is not inherited from Object.prototype. */
export function signalProperty(arg: object): AbortSignalLike | undefined {
  const nested = (arg as { signal?: unknown }).signal;
  if (!isAbortSignal(nested)) return undefined;
  for (
    let owner: object | null = arg;
    owner !== null && owner !== Object.prototype;
    owner = Object.getPrototypeOf(owner) as object | null
  ) {
    if (Object.prototype.hasOwnProperty.call(owner, 'signal')) return nested;
  }
  return undefined;
}
