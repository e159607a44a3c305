// A tour of steadfast against a flaky in-process service: run with `npm run demo`.
import { CircuitBreaker, CircuitOpenError, configure, defaultEngine, Idempotent, NotIdempotentError, Retryable } from '../../src';
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

class PricingService {
  constructor(private readonly inventory: FlakyInventory) {}

  // Three failures in a row open the breaker for 300 ms; then one trial call decides.
  @CircuitBreaker({ name: 'pricing', consecutiveFailures: 3, openDuration: 300 })
  async price(sku: string): Promise<number> {
    return (await this.inventory.stockOf(sku)) * 2;
  }
}

async function main(): Promise<void> {
  console.log('1. A read that fails twice, then succeeds (delays 100 ms, then 200 ms):');
  const recovering = new CatalogService(new FlakyInventory(2));
  const stock = await recovering.stock('sku-42');
  console.log(`${stamp()}  OK     stock = ${stock}\n`);

  console.log('2. A read against a service that stays down: 4 attempts, then the last error:');
  const down = new CatalogService(new FlakyInventory(Infinity));
  await down.stock('sku-42').catch((error: Error) => console.log(`${stamp()}  CALLER got: ${error.message}\n`));

  console.log('3. A charge marked @Retryable but not @Idempotent is refused, the body never runs:');
  await recovering.charge(1_000).catch((error: unknown) => {
    if (error instanceof NotIdempotentError) console.log(`${stamp()}  CALLER got NotIdempotentError (${error.code})\n`);
  });

  console.log('4. An AbortSignal stops the retries at once, even mid-sleep:');
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('user navigated away')), 150);
  const aborting = new CatalogService(new FlakyInventory(Infinity));
  await aborting
    .stock('sku-42', { signal: controller.signal })
    .catch((error: Error) => console.log(`${stamp()}  CALLER got: ${error.message} (no attempt after the abort)\n`));

  console.log('5. A circuit breaker: opens after 3 failures, refuses fast, half-opens after 300 ms, closes:');
  const inventory = new FlakyInventory(3);
  const pricing = new PricingService(inventory);
  for (let call = 1; call <= 5; call++) {
    await pricing.price('sku-42').catch((error: unknown) => {
      const how = error instanceof CircuitOpenError ? `refused (${error.state}, retry after ${Math.ceil(error.retryAfter)} ms)` : 'failed';
      console.log(`${stamp()}  CALLER call ${call} ${how}`);
    });
  }
  console.log(`${stamp()}  the inventory saw ${inventory.callCount} calls; breaker is ${defaultEngine.breaker('pricing').state}`);
  await new Promise((resolve) => setTimeout(resolve, 320));
  const price = await pricing.price('sku-42');
  console.log(`${stamp()}  OK     trial call succeeded, price = ${price}; breaker is ${defaultEngine.breaker('pricing').state}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
