import {
  Controller,
  Get,
  Injectable,
  Module,
  Param,
  Post,
  Body,
  Headers,
  HttpCode,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CircuitBreaker, Idempotent, Retryable } from 'steadfast';
import { ResilienceExceptionFilter } from 'steadfast/nestjs';

/** A downstream that fails every first attempt of a request while `flaky`, and always while `down`. */
@Injectable()
export class Warehouse {
  mode: 'flaky' | 'down' | 'healthy' = 'flaky';
  calls = 0;

  async stockOf(sku: string): Promise<number> {
    this.calls++;
    if (this.mode === 'down' || (this.mode === 'flaky' && this.calls % 2 === 1))
      throw new Error(`warehouse timed out (call ${this.calls})`);
    return sku.length;
  }
}

@Injectable()
export class WarehouseClient {
  constructor(private readonly warehouse: Warehouse) {}

  @Idempotent()
  @Retryable({ maxAttempts: 3, initialDelay: 100, maxDelay: 1_000, jitter: 'none' })
  @CircuitBreaker({ name: 'warehouse', consecutiveFailures: 4, openDuration: 10_000 })
  async stockOf(sku: string): Promise<number> {
    return this.warehouse.stockOf(sku);
  }
}

@Controller()
export class StockController {
  private orders = 0;

  constructor(private readonly client: WarehouseClient) {}

  @Get('stock/:sku')
  async stock(@Param('sku') sku: string): Promise<{ sku: string; available: number }> {
    return { sku, available: await this.client.stockOf(sku) };
  }

  // steadfast's decorators above the route decorator, on a controller handler
  @Idempotent()
  @Retryable({ maxAttempts: 2, initialDelay: 10, maxDelay: 10, jitter: 'none' })
  @Get('direct/:sku')
  async direct(@Param('sku') sku: string): Promise<{ sku: string; bound: boolean }> {
    return { sku, bound: this instanceof StockController && (await this.client.stockOf(sku)) >= 0 };
  }

  @Post('orders')
  @HttpCode(201)
  @Idempotent({ key: (key: string) => key })
  async order(
    @Headers('idempotency-key') key: string,
    @Body() body: { sku: string },
  ): Promise<{ id: number; sku: string }> {
    void key;
    return { id: ++this.orders, sku: body.sku };
  }
}

@Module({
  controllers: [StockController],
  providers: [
    Warehouse,
    WarehouseClient,
    { provide: APP_FILTER, useClass: ResilienceExceptionFilter },
  ],
})
export class StockModule {}
