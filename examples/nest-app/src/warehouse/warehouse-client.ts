import { HttpService } from '@nestjs/axios';
import { Injectable } from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { CircuitBreaker, Idempotent, Retryable, Timeout } from 'steadfast';

/** What the warehouse answers to `GET /stock/:sku`. */
export interface StockLevel {
  readonly sku: string;
  readonly available: number;
}

/** How long one attempt at the warehouse may take, in ms. */
export const WAREHOUSE_ATTEMPT_TIMEOUT = 2_000;

/** The app's client of the warehouse API: every call is retried, timed, and stopped by a breaker during an outage. */
@Injectable()
export class WarehouseClient {
  constructor(private readonly http: HttpService) {}

  // Reading stock is safe to repeat. HttpService's Observable sends its request when subscribed to,
  // and cancels it when unsubscribed: so each attempt is one request, a retry is a new one, and an
  // attempt past its 2 s deadline is aborted (its socket closed), not left running. Five failed
  // attempts in a row open the breaker for 10 s: calls are then refused at once (503 with
  // Retry-After) instead of waiting on a warehouse that is down.
  @Idempotent()
  @Retryable({ maxAttempts: 3, initialDelay: 100, maxDelay: 1_000 })
  @CircuitBreaker({
    name: 'warehouse',
    consecutiveFailures: 5,
    openDuration: 10_000,
    halfOpenMaxCalls: 1,
  })
  @Timeout(WAREHOUSE_ATTEMPT_TIMEOUT)
  stockOf(sku: string): Observable<number> {
    return this.http
      .get<StockLevel>(`/stock/${encodeURIComponent(sku)}`)
      .pipe(map((response) => response.data.available));
  }
}
