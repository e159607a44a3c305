import { Global, Logger, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { configure, ResilienceEngine } from '../runtime/engine';
import { ResilienceExplorer } from './resilience-explorer';
import { CircuitBreakerHealthIndicator } from './circuit-breaker-health-indicator';
import {
  RESILIENCE_MODULE_OPTIONS,
  type ResilienceModuleAsyncOptions,
  type ResilienceModuleOptions,
} from './resilience-module-options';

/**
 * Configures steadfast's engine from Nest's DI, makes `ResilienceEngine` injectable everywhere
 * (the module is global), and refuses to start an application in which a provider or a controller
 * has a `@Retryable` method without `@Idempotent`.
 */
export class ResilienceModule {
  static forRoot(options: ResilienceModuleOptions = {}): DynamicModule {
    return resilienceModule([], { provide: RESILIENCE_MODULE_OPTIONS, useValue: options });
  }

  static forRootAsync(options: ResilienceModuleAsyncOptions): DynamicModule {
    return resilienceModule(options.imports ?? [], {
      provide: RESILIENCE_MODULE_OPTIONS,
      useFactory: options.useFactory as (
        ...dependencies: unknown[]
      ) => ResilienceModuleOptions | Promise<ResilienceModuleOptions>,
      inject: options.inject ?? [],
    });
  }
}

// steadfast is compiled with standard decorators and Nest's are legacy ones: they are applied by call.
Global()(ResilienceModule);
Module({})(ResilienceModule);

function resilienceModule(
  imports: NonNullable<ResilienceModuleAsyncOptions['imports']>,
  optionsProvider: Provider,
): DynamicModule {
  return {
    module: ResilienceModule,
    global: true,
    imports: [DiscoveryModule, ...imports],
    providers: [
      optionsProvider,
      {
        provide: ResilienceEngine,
        useFactory: configureEngine,
        inject: [RESILIENCE_MODULE_OPTIONS],
      },
      ResilienceExplorer,
      CircuitBreakerHealthIndicator,
    ],
    exports: [ResilienceEngine, CircuitBreakerHealthIndicator, RESILIENCE_MODULE_OPTIONS],
  };
}

/** Configures the engine every decorator uses (decorators find it at call time, so this may come late). */
function configureEngine(options: ResilienceModuleOptions | undefined): ResilienceEngine {
  const given = options ?? {};
  return configure({
    ...given,
    logger: given.logger === undefined ? new Logger('steadfast') : given.logger,
  });
}
