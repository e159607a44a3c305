// A tour of steadfast against a flaky in-process service: run with `npm run demo`.
import {
  attemptSignal,
  Bulkhead,
  CircuitBreaker,
  CircuitOpenError,
  configure,
  defaultEngine,
  Fallback,
  Idempotent,
  NotIdempotentError,
  Retryable,
  Timeout,
} from '../../src';
import { FlakyInventory } from './flaky-inventory';

const started = Date.now();
const stamp = (): string => `+${String(Date.now() - started).padStart(4)} ms`;

// Any logger with warn/error works (console, pino, NestJS's Logger); this one prints one line each.
configure({
  logger: {
    warn: (message: string) => console.log(`${stamp()}  WARN   ${message}`),
    error: (message: string) => console.log(`${stamp()}  ERROR  ${message}`),
  },
});

class CatalogService {
  constructor(private readonly inventory: FlakyInventory) {}

  // Reading is safe to repeat: marked @Idempotent, so @Retryable may retry it.
  @Idempotent()
  @Retryable({ maxAttempts: 4, initialDelay: 100, maxDelay: 1_000, jitter: 'none' })
  async stock(sku: string, options?: { signal?: AbortSignal }): Promise<number> {
    void options;
    return this.inventory.stockOf(sku);
  }

  // Charging is not: without @Idempotent the retry is refused before the body runs.
  @Retryable(3, 100, 1_000)
  async charge(amountCents: number): Promise<string> {
    return `charged ${amountCents}`;
  }
}

interface ChargeRequest {
  readonly requestId: string;
  readonly cents: number;
}

class PaymentService {
  charges = 0;

  // Charging twice would be wrong, so it is made safe by a key: within 24 h the body runs once per
  // requestId, retries included; a duplicate request gets the recorded receipt.
  @Idempotent({ key: (request: ChargeRequest) => request.requestId })
  @Retryable({ maxAttempts: 3, initialDelay: 50, jitter: 'none' })
  async charge(request: ChargeRequest): Promise<{ receipt: string; cents: number }> {
    this.charges++;
    if (this.charges === 1) throw new Error('payment gateway timed out');
    return { receipt: `rcpt-${this.charges}`, cents: request.cents };
  }
}

class PricingService {
  constructor(private readonly inventory: FlakyInventory) {}

  // Three failures in a row open the breaker for 300 ms; then one trial call decides.
  @CircuitBreaker({ name: 'pricing', consecutiveFailures: 3, openDuration: 300 })
  async price(sku: string): Promise<number> {
    return (await this.inventory.stockOf(sku)) * 2;
  }
}

/** A dependency that hangs: its answers never come, until it is told to recover. */
class HangingQuotes {
  calls = 0;
  abandoned = 0;
  healthy = false;

  quote(sku: string, signal: AbortSignal | undefined): Promise<number> {
    this.calls++;
    if (this.healthy) return Promise.resolve(sku.length * 10);
    // A real client (fetch, axios, got) given the signal stops here; this one counts that it was told.
    return new Promise<number>(() => signal?.addEventListener('abort', () => this.abandoned++));
  }
}

class QuoteService {
  constructor(private readonly quotes: HangingQuotes) {}

  // Every attempt gets 200 ms; two hung attempts open the breaker; while it is open (or the
  // attempts time out) the last known price answers instead of an error.
  @Fallback((error: unknown, sku: string) =>
    error instanceof CircuitOpenError
      ? `cached price of ${sku} (breaker open)`
      : `cached price of ${sku} (timed out)`,
  )
  @Idempotent()
  @Retryable({ maxAttempts: 2, initialDelay: 50, jitter: 'none' })
  @CircuitBreaker({ name: 'quotes', consecutiveFailures: 2, openDuration: 500 })
  @Bulkhead(5)
  @Timeout(200)
  async quote(sku: string): Promise<string> {
    return `live price of ${sku}: ${await this.quotes.quote(sku, attemptSignal())}`;
  }
}

async function main(): Promise<void> {
  console.log('1. A read that fails twice, then succeeds (delays 100 ms, then 200 ms):');
  const recovering = new CatalogService(new FlakyInventory(2));
  const stock = await recovering.stock('sku-42');
  console.log(`${stamp()}  OK     stock = ${stock}\n`);

  console.log('2. A read against a service that stays down: 4 attempts, then the last error:');
  const down = new CatalogService(new FlakyInventory(Infinity));
  await down
    .stock('sku-42')
    .catch((error: Error) => console.log(`${stamp()}  CALLER got: ${error.message}\n`));

  console.log('3. A charge marked @Retryable but not @Idempotent is refused, the body never runs:');
  await recovering.charge(1_000).catch((error: unknown) => {
    if (error instanceof NotIdempotentError)
      console.log(`${stamp()}  CALLER got NotIdempotentError (${error.code})\n`);
  });

  console.log('4. An AbortSignal stops the retries at once, even mid-sleep:');
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('user navigated away')), 150);
  const aborting = new CatalogService(new FlakyInventory(Infinity));
  await aborting
    .stock('sku-42', { signal: controller.signal })
    .catch((error: Error) =>
      console.log(`${stamp()}  CALLER got: ${error.message} (no attempt after the abort)\n`),
    );

  console.log(
    '5. A circuit breaker: opens after 3 failures, refuses fast, half-opens after 300 ms, closes:',
  );
  const inventory = new FlakyInventory(3);
  const pricing = new PricingService(inventory);
  for (let call = 1; call <= 5; call++) {
    await pricing.price('sku-42').catch((error: unknown) => {
      const how =
        error instanceof CircuitOpenError
          ? `refused (${error.state}, retry after ${Math.ceil(error.retryAfter)} ms)`
          : 'failed';
      console.log(`${stamp()}  CALLER call ${call} ${how}`);
    });
  }
  console.log(
    `${stamp()}  the inventory saw ${inventory.callCount} calls; breaker is ${defaultEngine.breaker('pricing').state}`,
  );
  await new Promise((resolve) => setTimeout(resolve, 320));
  const price = await pricing.price('sku-42');
  console.log(
    `${stamp()}  OK     trial call succeeded, price = ${price}; breaker is ${defaultEngine.breaker('pricing').state}\n`,
  );

  console.log(
    '6. A charge made safe by an idempotency key: retried inside one claim, the duplicate replayed:',
  );
  const payments = new PaymentService();
  const first = await payments.charge({ requestId: 'req-7', cents: 1_000 });
  console.log(`${stamp()}  OK     first request:  ${JSON.stringify(first)}`);
  const again = await payments.charge({ cents: 1_000, requestId: 'req-7' });
  console.log(
    `${stamp()}  OK     same request again: ${JSON.stringify(again)} (the gateway saw ${payments.charges} charges: one failed, one succeeded)`,
  );
  await payments
    .charge({ requestId: 'req-7', cents: 2_000 })
    .catch((error: Error) =>
      console.log(`${stamp()}  CALLER same key, other amount: ${error.name}\n`),
    );

  console.log(
    '7. A dependency that hangs: @Timeout cuts each attempt at 200 ms, the breaker opens, a fallback answers:',
  );
  const quotes = new HangingQuotes();
  const quoting = new QuoteService(quotes);
  const timedOut = await quoting.quote('kettle');
  console.log(`${stamp()}  CALLER got: ${timedOut}`);
  const whileOpen = await quoting.quote('kettle');
  console.log(
    `${stamp()}  CALLER got: ${whileOpen} (no attempt made: the dependency is left alone)`,
  );
  console.log(
    `${stamp()}  the dependency saw ${quotes.calls} calls; ${quotes.abandoned} were told to stop (attemptSignal()); breaker is ${defaultEngine.breaker('quotes').state}`,
  );
  quotes.healthy = true;
  await new Promise((resolve) => setTimeout(resolve, 520));
  const recovered = await quoting.quote('kettle');
  console.log(
    `${stamp()}  CALLER got: ${recovered} (the trial call succeeded; breaker is ${defaultEngine.breaker('quotes').state})`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
