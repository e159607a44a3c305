// The order service: `npm run example:nest` (from the repository root), then try the requests it prints.
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { FlakyWarehouseServer } from './warehouse/flaky-warehouse-server';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, '127.0.0.1');
  const url = await app.getUrl();
  new Logger('example').log(
    [
      `order service listening on ${url}, its simulated warehouse on ${app.get(FlakyWarehouseServer).url}. Try:`,
      `  curl -i ${url}/stock/kettle                 # every third warehouse request fails (503): see the retries logged`,
      `  curl -i -X POST ${url}/orders -H 'Idempotency-Key: k-1' -H 'Content-Type: application/json' -d '{"sku":"kettle","quantity":1}'`,
      `      # send it twice: the same order comes back, one order exists (curl ${url}/orders)`,
      `      # the same key with "quantity":2 -> 409 Conflict; no Idempotency-Key header -> 400`,
      `  curl -i -X PUT ${url}/warehouse/mode -H 'Content-Type: application/json' -d '{"mode":"down"}'`,
      `      # then GET /stock/kettle a few times: 502, then 503 with Retry-After once the breaker opens;`,
      `      # set "healthy" and wait 10 s: the next call is a trial, and the breaker closes`,
      `  curl -i -X PUT ${url}/warehouse/mode -H 'Content-Type: application/json' -d '{"mode":"hung"}'`,
      `      # then GET /stock/kettle: each attempt is cut at 2 s and its request closed; 504 after 3`,
      `  curl -i ${url}/health                       # breaker states`,
    ].join('\n'),
  );
}

bootstrap().catch((error: unknown) => {
  // A @Retryable method without @Idempotent ends up here: the app refuses to start.
  new Logger('example').error(
    error instanceof Error ? (error.stack ?? error.message) : String(error),
  );
  process.exitCode = 1;
});
