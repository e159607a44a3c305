import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ResilienceExceptionFilter, ResilienceModule } from 'steadfast/nestjs';
import { DependencyErrorFilter } from './dependency-error.filter';
import { HealthController } from './health/health.controller';
import { OrdersModule } from './orders/orders.module';

@Module({
  imports: [
    // Global: configures steadfast (NestJS's Logger by default), makes ResilienceEngine injectable,
    // and refuses to start if a @Retryable method anywhere lacks @Idempotent.
    ResilienceModule.forRoot({ defaults: { circuitBreaker: { openDuration: 10_000 } } }),
    OrdersModule,
  ],
  controllers: [HealthController],
  providers: [
    // Open breaker → 503 with Retry-After; timed out → 504; idempotency key reused with another body → 409.
    { provide: APP_FILTER, useClass: ResilienceExceptionFilter },
    // The warehouse answered an error (or could not be reached) on every attempt → 502.
    { provide: APP_FILTER, useClass: DependencyErrorFilter },
  ],
})
export class AppModule {}
