import { isAbortSignal, type AbortSignalLike } from '../clock';
import { signalProperty } from '../retry/abort-signal';

/** Where the caller's AbortSignal sits among a call's arguments: `args[index]`, or `args[index].signal`. */
export interface ArgumentSignal {
  readonly index: number;
  readonly nested: boolean;
}

/** Finds the caller's AbortSignal argument (or an argument's `signal`), as the retry loop does. */
export function findArgumentSignal(args: readonly unknown[]): ArgumentSignal | undefined {
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (typeof arg !== 'object' || arg === null) continue;
    if (isAbortSignal(arg)) return { index, nested: false };
    if (signalProperty(arg) !== undefined) return { index, nested: true };
  }
  return undefined;
}

/**
 * A copy of `args` with the attempt's signal where the caller's was. An options object is copied
 * (own properties, same prototype) rather than changed: the caller's object stays as it was.
 */
export function withSignal(
  args: readonly unknown[],
  at: ArgumentSignal,
  signal: AbortSignalLike,
): unknown[] {
  const copy = args.slice();
  if (!at.nested) {
    copy[at.index] = signal;
  } else {
    const original = args[at.index] as object;
    copy[at.index] = Object.assign(
      Object.create(Object.getPrototypeOf(original) as object | null) as object,
      original,
      { signal },
    );
  }
  return copy;
}
