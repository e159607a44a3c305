import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { ResilienceEngine } from '../runtime/engine';
import { NotIdempotentError } from '../runtime/errors';
import { policyOf, unmarkedRetryables } from '../runtime/policy';

/** The part of Nest's InstanceWrapper the boot check reads. */
interface DiscoveredWrapper {
  readonly metatype: unknown;
  readonly instance: unknown;
  readonly isFactory: boolean;
  readonly isTransient: boolean;
  isDependencyTreeStatic(): boolean;
}

/**
 * The boot check. When the application initialises (before any other module's `onModuleInit`: the
 * module is global, and Nest runs global modules' hooks first), it reads the policy of every
 * decorated method of every provider and controller, and refuses to start if one is `@Retryable`
 * without `@Idempotent`: `app.init()` (and so `app.listen()`) rejects with `NotIdempotentError`.
 * Classes are checked, not only instances, so request-scoped and transient providers are covered.
 */
export class ResilienceExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly engine: ResilienceEngine,
  ) {}

  onModuleInit(): void {
    const wrappers = [
      ...this.discovery.getProviders(),
      ...this.discovery.getControllers(),
    ] as unknown as DiscoveredWrapper[];
    const refused = new Map<string, '@Retryable' | '@Hedge'>();
    for (const wrapper of wrappers) {
      for (const target of checkedTargets(wrapper))
        for (const [method, decorator] of unmarkedRetryables(target))
          refused.set(method, decorator);
      if (isRequestScoped(wrapper)) this.warnOfInstanceBreakers(wrapper.metatype as Function);
    }
    if (refused.size === 0) return;
    for (const [method, decorator] of refused) {
      this.engine.log.error(
        `${method} is ${decorator} but not @Idempotent: the application refuses to start`,
        {
          method,
        },
      );
    }
    const [method, decorator] = refused.entries().next().value as [string, '@Retryable' | '@Hedge'];
    throw new NotIdempotentError(method, decorator);
  }

  /** A breaker with `scope: 'instance'` on a request-scoped provider sees one request, so it never opens. */
  private warnOfInstanceBreakers(klass: Function): void {
    for (
      let proto: unknown = klass.prototype;
      proto && proto !== Object.prototype;
      proto = Object.getPrototypeOf(proto)
    ) {
      for (const key of Reflect.ownKeys(proto as object)) {
        const breaker = policyOf(Object.getOwnPropertyDescriptor(proto, key)?.value)?.breaker;
        if (breaker?.options.scope !== 'instance') continue;
        const method = `${klass.name}.${String(key)}`;
        this.engine.log.warn(
          `${method}: @CircuitBreaker({ scope: 'instance' }) on a request-scoped provider gives every request a breaker of its own, which never opens; use the default scope 'class' (or a name)`,
          { method },
        );
      }
    }
  }
}

// steadfast is compiled with standard decorators and Nest's are legacy ones: they are applied by call.
Injectable()(ResilienceExplorer);
Inject(DiscoveryService)(ResilienceExplorer, undefined, 0);
Inject(ResilienceEngine)(ResilienceExplorer, undefined, 1);

/** A class provider or controller is checked by its class; a value or factory provider by its instance. */
function checkedTargets(wrapper: DiscoveredWrapper): object[] {
  const targets: object[] = [];
  if (typeof wrapper.metatype === 'function' && !wrapper.isFactory) targets.push(wrapper.metatype);
  const instance = wrapper.instance;
  if (typeof instance === 'object' && instance !== null && wrapper.isDependencyTreeStatic())
    targets.push(instance);
  return targets;
}

function isRequestScoped(wrapper: DiscoveredWrapper): boolean {
  return (
    typeof wrapper.metatype === 'function' &&
    !wrapper.isFactory &&
    !wrapper.isTransient &&
    !wrapper.isDependencyTreeStatic()
  );
}
