import type { RetryOptions } from './retry/retry-options';
import type { CircuitBreakerOptions } from './breaker/breaker-options';
import type { BreakerDeclaration } from './breaker/breaker-declarations';
import type { KeyedSettings } from './idempotency/idempotency-options';
import type { TimeoutOptions } from './timeout/timeout-options';
import type { HedgeSettings } from './hedge/hedge-options';
import type { FallbackSettings } from './fallback/fallback-options';
import type { BulkheadOptions } from './bulkhead/bulkhead-options';
import type { BulkheadDeclaration } from './bulkhead/bulkhead-declarations';

/** A decorated method's function, as the decorators received it. */
export type MethodBody = (this: unknown, ...args: unknown[]) => unknown;

/**
 * What the decorators declared on one method. It is reachable only through the module-private
 * registry below, keyed by the wrapper function: the idempotency mark cannot be forged by setting
 * a property or a reflect-metadata key, and a subclass override has a policy only if decorated.
 * A policy is complete once its decorator has run: a later decorator derives a new one (with a new
 * wrapper) instead of changing it.
 */
export interface MethodPolicy {
  readonly methodName: string;
  /** The declaring class, where the decorator mode tells it at definition (legacy does). */
  className: string | undefined;
  /** the method's own body: every wrapper of the method calls it directly */
  readonly original: MethodBody;
  readonly wrapper: MethodBody;
  retry: RetryOptions | undefined;
  /** Set once the class that declared the method is defined: no decorator may build on it after. */
  sealed: boolean;
  /** The breaker's options; its declaration is made at definition where the name is known, else at first call. */
  breaker:
    | { readonly options: CircuitBreakerOptions; declaration: BreakerDeclaration | undefined }
    | undefined;
  /** @Idempotent({ key }): deduplication by key. */
  keyed: KeyedSettings | undefined;
  timeout: TimeoutOptions | undefined;
  fallback: FallbackSettings | undefined;
  /** The bulkhead's options; its declaration is made at definition where the name is known, else at first call. */
  bulkhead:
    { readonly options: BulkheadOptions; declaration: BulkheadDeclaration | undefined } | undefined;
  /**
   * What the body returns: known at definition from type metadata (legacy decorators with
   * emitDecoratorMetadata) or an async function, else learnt at the first call.
   */
  returns: 'promise' | 'observable' | undefined;
  /** @Hedge: further attempts racing a slow one. */
  hedge: HedgeSettings | undefined;
  /** The engine's compiled plan for this method (see pipeline.ts), rebuilt when the engine is reconfigured. */
  plan: CompiledPlan | undefined;
}

/** What the policy keeps of its compiled plan: enough to tell whether it is still current. */
export interface CompiledPlan {
  readonly engine: object;
  readonly version: number;
}

const policies = new WeakMap<object, MethodPolicy>();
// The idempotency mark: outside the policy object, so that holding a policy is not enough to mark it.
const marked = new WeakSet<MethodPolicy>();

/** Marks a method idempotent. Only @Idempotent calls this, on the policy it has just derived. */
export function markIdempotent(policy: MethodPolicy): void {
  marked.add(policy);
}

export function isMarkedIdempotent(policy: MethodPolicy): boolean {
  return marked.has(policy);
}

export function policyOf(fn: unknown): MethodPolicy | undefined {
  return typeof fn === 'function' ? policies.get(fn) : undefined;
}

/** The policy of a method's first steadfast decorator. */
export function newPolicy(
  original: MethodBody,
  wrapper: MethodBody,
  methodName: string,
  className: string | undefined,
): MethodPolicy {
  const policy: MethodPolicy = {
    methodName,
    className,
    original,
    wrapper,
    retry: undefined,
    breaker: undefined,
    sealed: false,
    keyed: undefined,
    timeout: undefined,
    fallback: undefined,
    bulkhead: undefined,
    returns: undefined,
    hedge: undefined,
    plan: undefined,
  };
  policies.set(wrapper, policy);
  return policy;
}

/** A copy of `from` (its mark included) for the wrapper of the next decorator on the same method. */
export function derivePolicy(from: MethodPolicy, wrapper: MethodBody): MethodPolicy {
  const policy: MethodPolicy = { ...from, wrapper, sealed: false, plan: undefined };
  if (marked.has(from)) marked.add(policy);
  policies.set(wrapper, policy);
  return policy;
}

/** `Class.method`: finds the class whose prototype (or which, for statics) owns the wrapper. */
export function methodLabel(policy: MethodPolicy, thisArg: unknown): string {
  if (policy.className === undefined) policy.className = declaringClassName(policy, thisArg);
  return policy.className === undefined
    ? policy.methodName
    : `${policy.className}.${policy.methodName}`;
}

function declaringClassName(policy: MethodPolicy, thisArg: unknown): string | undefined {
  let owner: unknown = thisArg;
  while (owner !== null && (typeof owner === 'object' || typeof owner === 'function')) {
    const descriptor = Object.getOwnPropertyDescriptor(owner, policy.methodName);
    if (descriptor?.value === policy.wrapper) {
      const ctor =
        typeof owner === 'function' ? owner : (owner as { constructor?: unknown }).constructor;
      return typeof ctor === 'function' && ctor.name !== '' ? ctor.name : undefined;
    }
    owner = Object.getPrototypeOf(owner);
  }
  // Private (#) methods live on no prototype: name the instance's class.
  if (typeof thisArg === 'function') return thisArg.name || undefined;
  const ctor = (thisArg as { constructor?: { name?: unknown } } | null | undefined)?.constructor;
  return typeof ctor?.name === 'string' && ctor.name !== '' && ctor !== Object
    ? ctor.name
    : undefined;
}

/** Whether a policy would be refused: @Retryable without @Idempotent. */
export function isRefused(policy: MethodPolicy): boolean {
  return (policy.retry !== undefined || policy.hedge !== undefined) && !marked.has(policy);
}

/** The decorator that would repeat a refused method's body: what its refusal names. */
export function repeatingDecorator(policy: MethodPolicy): '@Retryable' | '@Hedge' {
  return policy.retry !== undefined ? '@Retryable' : '@Hedge';
}

/**
 * `Class.method` of every @Retryable or @Hedge method without @Idempotent reachable from a class or an
 * instance: its prototype chain and its class's static methods. Lets an application refuse to
 * start (NestJS) instead of failing at the first call.
 */
export function unmarkedRetryables(
  target: object,
): [method: string, decorator: '@Retryable' | '@Hedge'][] {
  const found: [string, '@Retryable' | '@Hedge'][] = [];
  const seen = new Set<MethodPolicy>();
  const ctor =
    typeof target === 'function' ? target : (target as { constructor?: unknown }).constructor;
  const owners: unknown[] = [];
  for (
    let proto: unknown = typeof target === 'function' ? target.prototype : target;
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    owners.push(proto);
  }
  for (
    let klass: unknown = ctor;
    typeof klass === 'function' && klass !== Function.prototype;
    klass = Object.getPrototypeOf(klass)
  ) {
    owners.push(klass);
  }
  for (const owner of owners) {
    for (const key of Reflect.ownKeys(owner as object)) {
      const descriptor = Object.getOwnPropertyDescriptor(owner, key);
      const policy = policyOf(descriptor?.value);
      if (policy === undefined || seen.has(policy) || !isRefused(policy)) continue;
      seen.add(policy);
      const owningClass =
        typeof owner === 'function'
          ? owner
          : (owner as { constructor?: { name?: string } }).constructor;
      const className =
        policy.className ?? (typeof owningClass === 'function' ? owningClass.name : undefined);
      found.push([
        className ? `${className}.${policy.methodName}` : policy.methodName,
        repeatingDecorator(policy),
      ]);
    }
  }
  return found;
}
