import type { FactoryProvider, ModuleMetadata } from '@nestjs/common';
import type { EngineOptions } from '../runtime/engine';

/**
 * What `ResilienceModule.forRoot()` takes: `configure()`'s options. Without `logger`, steadfast logs
 * through NestJS's `Logger` with the context `steadfast`; `logger: false` silences it.
 */
export type ResilienceModuleOptions = EngineOptions;

/** What `ResilienceModule.forRootAsync()` takes: the options come from a factory run by Nest's DI. */
export interface ResilienceModuleAsyncOptions {
  /** modules that export what `inject` names (a ConfigModule, a module providing a store) */
  readonly imports?: ModuleMetadata['imports'];
  /** builds the options; it receives the providers named in `inject`, in that order */
  readonly useFactory: (
    ...dependencies: never[]
  ) => ResilienceModuleOptions | Promise<ResilienceModuleOptions>;
  readonly inject?: FactoryProvider['inject'];
}

/** The injection token of the options the module was given (after `forRootAsync`'s factory ran). */
export const RESILIENCE_MODULE_OPTIONS = Symbol.for('steadfast.nestjs.options');
