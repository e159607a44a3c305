import { defaultEngine, runCall } from './engine';
import { registerPolicy, type MethodBody, type MethodPolicy } from './policy';

interface MetadataReflect {
  getOwnMetadataKeys?(target: object): unknown[];
  getOwnMetadata?(key: unknown, target: object): unknown;
  defineMetadata?(key: unknown, value: unknown, target: object): void;
}

/**
 * Wraps a method once, for every steadfast decorator on it. The wrapper keeps the original's
 * `name`, `length` and every own reflect-metadata entry (NestJS route, guard and pipe metadata),
 * and runs each call through the engine that is current at call time.
 */
export function wrapMethod(original: MethodBody, methodName: string, className: string | undefined): MethodPolicy {
  const wrapper: MethodBody = function (this: unknown, ...args: unknown[]): Promise<unknown> {
    return runCall(defaultEngine, policy, this, args);
  };
  const policy: MethodPolicy = {
    methodName,
    className,
    original,
    wrapper,
    retry: undefined,
    breaker: undefined,
    sealed: false,
    keyed: undefined,
    plan: undefined,
  };
  Object.defineProperty(wrapper, 'name', { value: original.name, configurable: true });
  Object.defineProperty(wrapper, 'length', { value: original.length, configurable: true });
  copyOwnMetadata(original, wrapper);
  registerPolicy(policy);
  // Decorators of one class all run while the class is defined, synchronously: once that is over,
  // the policy is closed, so a decorator called by hand later cannot mark a defined method.
  queueMicrotask(() => (policy.sealed = true));
  return policy;
}

function copyOwnMetadata(from: object, to: object): void {
  const reflect = Reflect as typeof Reflect & MetadataReflect;
  if (reflect.getOwnMetadataKeys === undefined || reflect.getOwnMetadata === undefined || reflect.defineMetadata === undefined) return;
  for (const key of reflect.getOwnMetadataKeys(from)) {
    reflect.defineMetadata(key, reflect.getOwnMetadata(key, from), to);
  }
}
