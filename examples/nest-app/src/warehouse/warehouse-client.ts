import { Injectable } from '@nestjs/common';
import { CircuitBreaker, Idempotent, Retryable } from 'steadfast';
import { FlakyWarehouse } from './flaky-warehouse';

/** The app's client of the warehouse: every call is retried, and a breaker stops calls during an outage. */
@Injectable()
export class WarehouseClient {
  constructor(private readonly warehouse: FlakyWarehouse) {}

  // Reading stock is safe to repeat. Five failed attempts in a row open the breaker for 10 s: calls
  // are then refused at once (503 with Retry-After) instead of waiting on a warehouse that is down.
  @Idempotent()
  @Retryable({ maxAttempts: 3, initialDelay: 100, maxDelay: 1_000 })
  @CircuitBreaker({
    name: 'warehouse',
    consecutiveFailures: 5,
    openDuration: 10_000,
    halfOpenMaxCalls: 1,
  })
  async stockOf(sku: string): Promise<number> {
    return this.warehouse.stockOf(sku);
  }
}
