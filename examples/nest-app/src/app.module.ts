import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ResilienceExceptionFilter, ResilienceModule } from 'steadfast/nestjs';
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
  // Open breaker → 503 with Retry-After; idempotency key reused with another body → 409.
  providers: [{ provide: APP_FILTER, useClass: ResilienceExceptionFilter }],
})
export class AppModule {}
