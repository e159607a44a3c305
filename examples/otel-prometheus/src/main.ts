// The order service of examples/nest-app, reporting to Prometheus through OpenTelemetry:
// `npm run example:otel` (from the repository root), then try the requests it prints.
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../../nest-app/src/app.module';
import { FlakyWarehouseServer } from '../../nest-app/src/warehouse/flaky-warehouse-server';
import { startTelemetry } from './telemetry';

async function bootstrap(): Promise<void> {
  const telemetry = await startTelemetry({ port: Number(process.env.METRICS_PORT ?? 9464) });
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  const url = await app.getUrl();
  process.once('beforeExit', () => void telemetry.stop());
  new Logger('example').log(
    [
      `order service on ${url} (its warehouse on ${app.get(FlakyWarehouseServer).url}), metrics on ${telemetry.metricsUrl}. Try:`,
      `  curl -s ${url}/stock/kettle                 # every third warehouse request fails: retried`,
      `  curl -s ${telemetry.metricsUrl} | grep -E 'steadfast_(retries|calls)_total'`,
      `  curl -s -X PUT ${url}/warehouse/mode -H 'Content-Type: application/json' -d '{"mode":"down"}'`,
      `  for i in 1 2 3; do curl -s -o /dev/null ${url}/stock/kettle; done   # the breaker opens`,
      `  curl -s ${telemetry.metricsUrl} | grep steadfast_circuit_breaker_state`,
      `      # circuitbreaker_name="warehouse",circuitbreaker_state="open" 1, the other states 0`,
    ].join('\n'),
  );
}

bootstrap().catch((error: unknown) => {
  new Logger('example').error(
    error instanceof Error ? (error.stack ?? error.message) : String(error),
  );
  process.exitCode = 1;
});
