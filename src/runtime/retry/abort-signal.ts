import { isAbortSignal, type AbortSignalLike } from '../clock';
import type { RetrySettings } from './retry-options';

/** The call's AbortSignal: the `signal` option's pick, else an AbortSignal argument or an argument's `signal`. */
export function signalOf(settings: RetrySettings, args: readonly unknown[]): AbortSignalLike | undefined {
  if (settings.signal !== undefined) return settings.signal(args);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg !== 'object' || arg === null) continue;
    if (isAbortSignal(arg)) return arg;
    const nested = (arg as { signal?: unknown }).signal;
    if (isAbortSignal(nested)) return nested;
  }
  return undefined;
}
