import { defaultEngine } from './engine';
import { callMethod } from './pipeline';
import { derivePolicy, newPolicy, type MethodBody, type MethodPolicy } from './policy';

interface MetadataReflect {
  getOwnMetadataKeys?(target: object): unknown[];
  getOwnMetadata?(key: unknown, target: object): unknown;
  defineMetadata?(key: unknown, value: unknown, target: object): void;
}

/**
 * Wraps a method for one steadfast decorator. The first decorator on a method wraps its function;
 * each later one wraps again, deriving a new policy from the one it was given, which is never
 * changed: a wrapper installed on a class keeps the policy it was installed with, so decorating a
 * copy of it elsewhere cannot mark it. Every wrapper calls the original body directly.
 *
 * The wrapper keeps the `name`, `length` and every own reflect-metadata entry of the function it
 * replaces (NestJS route, guard and pipe metadata), and runs each call through the engine that is
 * current at call time.
 */
export function wrapMethod(
  replaced: MethodBody,
  from: MethodPolicy | undefined,
  methodName: string,
  className: string | undefined,
): MethodPolicy {
  const wrapper: MethodBody = function (this: unknown, ...args: unknown[]): unknown {
    return callMethod(defaultEngine, policy, this, args);
  };
  const policy =
    from === undefined
      ? newPolicy(replaced, wrapper, methodName, className)
      : derivePolicy(from, wrapper);
  Object.defineProperty(wrapper, 'name', { value: replaced.name, configurable: true });
  Object.defineProperty(wrapper, 'length', { value: replaced.length, configurable: true });
  copyOwnMetadata(replaced, wrapper);
  // Decorators of one class all run while the class is defined, synchronously: once that is over,
  // no decorator may build on this policy, so one called by hand later cannot mark the method.
  queueMicrotask(() => (policy.sealed = true));
  return policy;
}

function copyOwnMetadata(from: object, to: object): void {
  const reflect = Reflect as typeof Reflect & MetadataReflect;
  if (
    reflect.getOwnMetadataKeys === undefined ||
    reflect.getOwnMetadata === undefined ||
    reflect.defineMetadata === undefined
  )
    return;
  for (const key of reflect.getOwnMetadataKeys(from)) {
    reflect.defineMetadata(key, reflect.getOwnMetadata(key, from), to);
  }
}
