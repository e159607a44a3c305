import 'reflect-metadata';
import { decoratorMode } from '../support/harness';

type AnyMethod = (...args: never[]) => unknown;

/**
 * A method decorator usable in both decorator modes, like the ones NestJS and other libraries
 * put next to steadfast's: standard mode calls it with `(value, context)`, legacy mode with
 * `(target, key, descriptor)`.
 */
export interface BothModesMethodDecorator {
  <F extends AnyMethod>(value: F, context: ClassMethodDecoratorContext): F | void;
  (target: object, key: string | symbol, descriptor: PropertyDescriptor): PropertyDescriptor | void;
}

/** The method function a decorator received, whichever mode called it. */
function methodOf(params: unknown[]): AnyMethod {
  return (
    decoratorMode === 'standard' ? params[0] : (params[2] as PropertyDescriptor).value
  ) as AnyMethod;
}

/** Puts a reflect-metadata entry on the method function itself (as NestJS's @Get, @UseGuards… do). */
export function onFunction(key: string, value: unknown): BothModesMethodDecorator {
  return ((...params: unknown[]) => {
    Reflect.defineMetadata(key, value, methodOf(params));
  }) as BothModesMethodDecorator;
}

/**
 * Legacy only: puts a reflect-metadata entry on (prototype, key), as legacy-mode libraries also do.
 * Standard decorators are not given the prototype, so in standard mode this decorator does nothing.
 */
export function onPrototypeKey(metadataKey: string, value: unknown): BothModesMethodDecorator {
  return ((...params: unknown[]) => {
    if (decoratorMode === 'legacy')
      Reflect.defineMetadata(metadataKey, value, params[0] as object, params[1] as string);
  }) as BothModesMethodDecorator;
}

/** Records every method function it is applied to, so a test can see what a decorator was given. */
export function spyDecorator(seen: AnyMethod[]): BothModesMethodDecorator {
  return ((...params: unknown[]) => {
    seen.push(methodOf(params));
  }) as BothModesMethodDecorator;
}

/** Replaces the method with `replacement(original)`, as a wrapping (logging, tracing) decorator does. */
export function replaceWith(
  replacement: (original: AnyMethod) => AnyMethod,
): BothModesMethodDecorator {
  return ((...params: unknown[]) => {
    const next = replacement(methodOf(params));
    if (decoratorMode === 'standard') return next;
    const descriptor = params[2] as PropertyDescriptor;
    descriptor.value = next;
    return descriptor;
  }) as BothModesMethodDecorator;
}

/** Bypasses the decorator types, to reach the runtime checks the types already rule out. */
export function untyped(decorator: unknown): (...params: unknown[]) => void {
  return decorator as (...params: unknown[]) => void;
}

/** Observes a promise's outcome without leaving a rejection unhandled while the clock runs. */
export function settle<T>(
  promise: Promise<T>,
): Promise<{ value?: T; error?: unknown; rejected: boolean }> {
  return promise.then(
    (value) => ({ value, rejected: false }),
    (error: unknown) => ({ error, rejected: true }),
  );
}

/** Runs `define` (a function holding a class statement) and returns what it threw. */
export function thrownBy(define: () => unknown): unknown {
  try {
    define();
  } catch (error) {
    return error;
  }
  throw new Error('expected the class definition to throw, but it did not');
}

/** How the decorators name a method at class definition: `Class.method` in legacy mode, `method` in standard. */
export function definitionLabel(className: string, methodName: string): string {
  return decoratorMode === 'legacy' ? `${className}.${methodName}` : methodName;
}

/** Runs only in legacy mode: for what standard decorators cannot do by design (the reason is in the title, printed when skipped). */
export const itInLegacyMode: jest.It =
  decoratorMode === 'legacy'
    ? it
    : (Object.assign((title: string, ...rest: unknown[]) => {
        console.log(`skipped in the 'standard' jest project (legacy decorators only): ${title}`);
        return (it.skip as (title: string, ...rest: unknown[]) => void)(title, ...rest);
      }, it) as unknown as jest.It);
