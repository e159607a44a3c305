// Runs a real NestJS 12 application (ES modules) on the packed steadfast and prints one JSON
// report on stdout: test/e2e/nest/suites/nest12.suite.ts reads it. Only 127.0.0.1 is contacted.
import 'reflect-metadata';
import { createRequire } from 'node:module';
import { Logger, type INestApplication, type LoggerService } from '@nestjs/common';
import * as nestCommon from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { NotIdempotentError, ResilienceEngine, type Clock } from 'steadfast';
import { ResilienceModule } from 'steadfast/nestjs';
import { StockModule, Warehouse } from './stock.module.js';
import { bodyRuns, UnmarkedModule } from './unmarked.module.js';

interface Outcome {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: unknown;
}

class SteppingClock implements Clock {
  private time = 1_000_000;
  now(): number {
    return this.time;
  }
  sleep(ms: number): Promise<void> {
    this.time += ms;
    return new Promise((resolve) => setImmediate(resolve));
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

class RecordingLogger implements LoggerService {
  readonly entries: unknown[][] = [];
  log(...params: unknown[]): void {
    this.entries.push(['log', ...params]);
  }
  error(...params: unknown[]): void {
    this.entries.push(['error', ...params]);
  }
  warn(...params: unknown[]): void {
    this.entries.push(['warn', ...params]);
  }
}

async function outcome(
  name: string,
  check: () => Promise<{ ok: boolean; detail: unknown }>,
): Promise<Outcome> {
  try {
    return { name, ...(await check()) };
  } catch (error) {
    return {
      name,
      ok: false,
      detail: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  }
}

async function bootCheck(): Promise<{ ok: boolean; detail: unknown }> {
  const moduleRef = await Test.createTestingModule({
    imports: [ResilienceModule.forRoot({ logger: false }), UnmarkedModule],
  })
    .setLogger(new RecordingLogger())
    .compile();
  const app = moduleRef.createNestApplication();
  try {
    await app.init();
    return { ok: false, detail: 'app.init() resolved' };
  } catch (error) {
    const refused =
      error instanceof NotIdempotentError &&
      error.method === 'Payments.charge' &&
      bodyRuns.count === 0;
    return {
      ok: refused,
      detail: {
        name: (error as Error).name,
        method: (error as NotIdempotentError).method,
        bodyRuns: bodyRuns.count,
      },
    };
  } finally {
    await app.close();
  }
}

async function withStockApp<T>(
  run: (
    url: string,
    app: INestApplication,
    clock: SteppingClock,
    logger: RecordingLogger,
  ) => Promise<T>,
): Promise<T> {
  const logger = new RecordingLogger();
  const moduleRef = await Test.createTestingModule({
    imports: [ResilienceModule.forRoot(), StockModule],
  })
    .setLogger(logger)
    .compile();
  const app = moduleRef.createNestApplication();
  const clock = new SteppingClock();
  app.get(ResilienceEngine).configure({ clock });
  await app.listen(0, '127.0.0.1');
  try {
    return await run(await app.getUrl(), app, clock, logger);
  } finally {
    await app.close();
  }
}

async function routes(): Promise<{ ok: boolean; detail: unknown }> {
  return withStockApp(async (url, app, _clock, logger) => {
    const warehouse = app.get(Warehouse);
    const stock = await fetch(`${url}/stock/kettle`);
    const stockBody = await stock.json();
    const direct = await fetch(`${url}/direct/kettle`);
    const directBody = await direct.json();
    const steadfastLog = logger.entries.filter((entry) => entry[entry.length - 1] === 'steadfast');
    const ok =
      stock.status === 200 &&
      stockBody.available === 6 &&
      direct.status === 200 &&
      directBody.bound === true &&
      warehouse.calls === 4 &&
      steadfastLog.some(
        (entry) =>
          entry[0] === 'warn' &&
          String(entry[1]).startsWith('WarehouseClient.stockOf attempt 1/3 failed'),
      );
    return {
      ok,
      detail: {
        stock: [stock.status, stockBody],
        direct: [direct.status, directBody],
        calls: warehouse.calls,
        steadfastLog,
      },
    };
  });
}

async function circuitOpen(): Promise<{ ok: boolean; detail: unknown }> {
  return withStockApp(async (url, app, clock) => {
    const warehouse = app.get(Warehouse);
    warehouse.mode = 'down';
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${url}/stock/kettle`);
      statuses.push(response.status);
      if (response.status === 503) retryAfter = response.headers.get('retry-after');
    }
    const callsWhileOpen = warehouse.calls;
    warehouse.mode = 'healthy';
    clock.advance(10_000);
    const recovered = await fetch(`${url}/stock/kettle`);
    const ok =
      statuses.join() === '500,503,503' &&
      retryAfter === '10' &&
      callsWhileOpen === 4 &&
      recovered.status === 200;
    return { ok, detail: { statuses, retryAfter, callsWhileOpen, recovered: recovered.status } };
  });
}

async function keyedPost(): Promise<{ ok: boolean; detail: unknown }> {
  return withStockApp(async (url) => {
    const post = (key: string, sku: string) =>
      fetch(`${url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ sku }),
      });
    const first = await post('k-1', 'kettle');
    const firstBody = await first.json();
    const again = await post('k-1', 'kettle');
    const againBody = await again.json();
    const conflict = await post('k-1', 'grinder');
    const ok =
      first.status === 201 &&
      again.status === 201 &&
      againBody.id === firstBody.id &&
      conflict.status === 409;
    return {
      ok,
      detail: {
        first: [first.status, firstBody],
        again: [again.status, againBody],
        conflict: conflict.status,
      },
    };
  });
}

async function oneNest(): Promise<{ ok: boolean; detail: unknown }> {
  // steadfast/nestjs is CommonJS and require()s @nestjs/common: it must get this very module instance.
  const steadfastNest = createRequire(import.meta.url).resolve('steadfast/nestjs');
  const required = createRequire(steadfastNest)('@nestjs/common') as typeof nestCommon;
  return { ok: required.Logger === Logger, detail: { steadfastNest } };
}

const nestVersion = (
  createRequire(import.meta.url)('@nestjs/core/package.json') as { version: string }
).version;
const results = [
  await outcome('boot check', bootCheck),
  await outcome('routes through the decorators', routes),
  await outcome('503 with Retry-After from an open breaker, then recovery', circuitOpen),
  await outcome('keyed idempotent POST, 409 on conflict', keyedPost),
  await outcome('one @nestjs/common instance', oneNest),
];
process.stdout.write(`${JSON.stringify({ node: process.version, nest: nestVersion, results })}\n`);
