import type { ErrorClass } from '../retry/retry-options';
import type { OptionChecker } from '../validation';

/** A fallback handler: called with the final error and the call's arguments, `this` being the instance. */
export type FallbackHandler = (this: unknown, error: unknown, ...args: never[]) => unknown;

/** The options of `@Fallback`. */
export interface FallbackOptions {
  /** error classes, or `(error) => boolean`: the failures the fallback answers (default: all but ConfigError and NotIdempotentError) */
  readonly on?: readonly ErrorClass[] | ((error: unknown) => boolean);
}

/** A checked @Fallback. */
export interface FallbackSettings {
  /** the handler, or the name of a method of the same class */
  readonly handler: FallbackHandler | string;
  readonly on: readonly ErrorClass[] | ((error: unknown) => boolean) | undefined;
}

export function checkFallback(
  handler: unknown,
  raw: unknown,
  methodName: string,
  checker: OptionChecker,
): FallbackSettings {
  if (typeof handler !== 'function' && (typeof handler !== 'string' || handler.length === 0)) {
    checker.fail(
      'handler',
      'must be a function (error, ...args) => value, or the name of a method of the class',
      handler,
    );
  }
  if (handler === methodName)
    checker.fail('handler', 'cannot be the decorated method itself', handler);
  // Every class has one, and calling it as a method always throws.
  if (handler === 'constructor')
    checker.fail('handler', 'cannot be the constructor: name a method of the class', handler);
  const options = raw === undefined ? {} : checker.object('', raw, ['on']);
  let on: FallbackSettings['on'];
  if (options.on !== undefined) {
    const value = options.on;
    // Holes and arrow functions are refused with the classes: `instanceof` would throw on them.
    on =
      typeof value === 'function'
        ? (value as (error: unknown) => boolean)
        : checker.errorClasses<ErrorClass>('on', value, '(error) => boolean');
  }
  return Object.freeze({ handler: handler as FallbackHandler | string, on });
}
