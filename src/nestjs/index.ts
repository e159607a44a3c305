// steadfast/nestjs: the NestJS integration. Only this entry point loads @nestjs/common and @nestjs/core.
export { ResilienceModule } from './resilience-module';
export {
  RESILIENCE_MODULE_OPTIONS,
  type ResilienceModuleOptions,
  type ResilienceModuleAsyncOptions,
} from './resilience-module-options';
export { ResilienceExceptionFilter } from './resilience-exception-filter';
export {
  CircuitBreakerHealthIndicator,
  type CircuitHealthOptions,
  type CircuitHealthResult,
} from './circuit-breaker-health-indicator';
export { IdempotencyKey, type IdempotencyKeyOptions } from './idempotency-key';
