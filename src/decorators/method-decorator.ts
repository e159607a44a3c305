import 'reflect-metadata';
import { ConfigError } from '../runtime/errors';
import { policyOf, type MethodBody, type MethodPolicy } from '../runtime/policy';
import { wrapMethod } from '../runtime/method-wrapper';
import { OptionChecker } from '../runtime/validation';

/**
 * What an Observable-returning method returns, as far as the types go: RxJS's Observable (and any
 * with its subscribe()) fits, without the published types needing rxjs.
 */
export interface ObservableLike {
  subscribe(...args: never[]): { unsubscribe(): void };
}

/**
 * A steadfast decorator, typed for both of TypeScript's decorator modes: standard ECMAScript
 * decorators get `(value, context)`, legacy ones `(target, key, descriptor)`. Only methods that
 * return a Promise or an Observable are accepted; getters, setters, fields and methods that return
 * anything else are type errors. The decorated method keeps its type.
 */
export interface SteadfastMethodDecorator {
  // Declared void, though it returns the wrapper: a declared function type would not be assignable
  // to a generic method (`get<T>(): Promise<T>`), and TypeScript installs what is returned anyway.
  <This, Args extends unknown[], Return extends Promise<unknown> | ObservableLike>(
    value: (this: This, ...args: Args) => Return,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Return>,
  ): void;
  <Method extends (...args: never[]) => Promise<unknown> | ObservableLike>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<Method>,
  ): TypedPropertyDescriptor<Method>;
}

/**
 * What a decorator adds to a method's policy, given where it is written (for error messages) and,
 * in legacy mode, the object that holds the method (the prototype, or the class for a static).
 */
export type PolicyContribution = (
  policy: MethodPolicy,
  checker: OptionChecker,
  owner: object | undefined,
) => void;

interface StandardContext {
  kind: string;
  name: string | symbol;
  addInitializer?: unknown;
}

function isStandardContext(value: unknown): value is StandardContext {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as StandardContext).kind === 'string' &&
    'name' in value
  );
}

const noInitializer = (): void => {};

/**
 * Whether a standard decorator context belongs to a class definition still running: the language
 * makes `addInitializer` throw once the decoration it was given for is over, and a context written
 * by hand has none.
 */
function isLiveContext(context: StandardContext): boolean {
  if (typeof context.addInitializer !== 'function') return false;
  try {
    (context.addInitializer as (initializer: () => void) => void)(noInitializer);
    return true;
  } catch {
    return false;
  }
}

interface TypeMetadataReflect {
  getMetadata?(key: string, target: object, property: string): unknown;
}

/**
 * What a method returns, where the definition tells: the type TypeScript's emitDecoratorMetadata
 * records (legacy decorators), or a native async function (a Promise). Otherwise the first call does.
 */
function returnKindOf(
  fn: MethodBody,
  owner: object | undefined,
  methodName: string,
): 'promise' | 'observable' | undefined {
  if (fn.constructor?.name === 'AsyncFunction') return 'promise';
  const reflect = Reflect as typeof Reflect & TypeMetadataReflect;
  const declared =
    owner === undefined || reflect.getMetadata === undefined
      ? undefined
      : reflect.getMetadata('design:returntype', owner, methodName);
  if (typeof declared !== 'function') return undefined;
  if (declared === Promise) return 'promise';
  const prototype = (declared as { prototype?: { subscribe?: unknown; pipe?: unknown } }).prototype;
  return typeof prototype?.subscribe === 'function' && typeof prototype.pipe === 'function'
    ? 'observable'
    : undefined;
}

const ALREADY_DEFINED =
  'cannot be added to a method whose class is already defined (decorate it in the class body)';

/**
 * Builds a decorator that works in both modes. Each steadfast decorator applied to a method wraps
 * it: the first wraps the body, each later one derives a new policy (and wrapper) from the one below
 * it, so any order gives the same behaviour. Building on a steadfast wrapper is refused once its
 * class is defined: the wrapper is then installed (legacy), its context is over (standard), or at the
 * latest a microtask has passed.
 */
export function methodDecorator(
  decoratorName: string,
  contribute: PolicyContribution,
): SteadfastMethodDecorator {
  function decorate(...params: unknown[]): unknown {
    if (params.length === 2 && isStandardContext(params[1])) {
      const [value, context] = params as [unknown, StandardContext];
      const methodName = String(context.name);
      if (context.kind !== 'method' || typeof value !== 'function') {
        throw new ConfigError(
          `${decoratorName} on ${methodName}: only methods can be decorated, not a ${context.kind}`,
          undefined,
          methodName,
        );
      }
      return apply(
        value as MethodBody,
        methodName,
        undefined,
        () => isLiveContext(context),
        undefined,
      ).wrapper;
    }
    const [target, key, descriptor] = params as [unknown, unknown, PropertyDescriptor | undefined];
    const className =
      typeof target === 'function'
        ? target.name
        : (target as { constructor?: { name?: string } } | undefined)?.constructor?.name;
    const label = className ? `${className}.${String(key)}` : String(key);
    if (descriptor === undefined || typeof descriptor.value !== 'function') {
      const what =
        descriptor === undefined
          ? 'a field'
          : descriptor.get || descriptor.set
            ? 'an accessor'
            : 'a non-function';
      throw new ConfigError(
        `${decoratorName} on ${label}: only methods can be decorated, not ${what}`,
        undefined,
        label,
      );
    }
    const value = descriptor.value as MethodBody;
    // While a class is decorated, its prototype still holds the undecorated method: a wrapper already
    // installed there means the class is defined.
    const stillDefining = (): boolean =>
      (typeof target !== 'object' && typeof target !== 'function') ||
      target === null ||
      Object.getOwnPropertyDescriptor(target, key as PropertyKey)?.value !== value;
    const owner =
      typeof target === 'object' || typeof target === 'function'
        ? (target ?? undefined)
        : undefined;
    const policy = apply(value, String(key), className || undefined, stillDefining, owner);
    descriptor.value = policy.wrapper;
    return descriptor;
  }

  function apply(
    fn: MethodBody,
    methodName: string,
    className: string | undefined,
    stillDefining: () => boolean,
    owner: object | undefined,
  ): MethodPolicy {
    const below = policyOf(fn);
    const label = className ? `${className}.${methodName}` : methodName;
    const checker = new OptionChecker(decoratorName, label);
    if (
      below !== undefined &&
      (below.sealed || below.methodName !== methodName || !stillDefining())
    ) {
      checker.fail(decoratorName, ALREADY_DEFINED, 'a defined method');
    }
    const policy = wrapMethod(fn, below, methodName, className);
    policy.returns ??= returnKindOf(fn, owner, methodName);
    contribute(policy, checker, owner);
    return policy;
  }

  return decorate as SteadfastMethodDecorator;
}
