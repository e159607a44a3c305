import { Logger, type ArgumentsHost, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  CircuitOpenError,
  ConfigError,
  configure,
  defaultEngine,
  IdempotencyConflictError,
  IdempotencyInProgressError,
  IdempotencyStoreError,
  ResilienceEngine,
} from 'steadfast';
import {
  CircuitBreakerHealthIndicator,
  RESILIENCE_MODULE_OPTIONS,
  ResilienceExceptionFilter,
  ResilienceModule,
} from 'steadfast/nestjs';
import { RecordingLogger } from 'steadfast/testing';
import {
  BreakerReport,
  Catalog,
  CatalogModule,
  Downstream,
  ReportModule,
  SETTINGS,
  Settings,
  SettingsModule,
} from '../fixtures/module-fixtures';
import { requireBuild } from '../support/built-package';
import { RecordingNestLogger } from '../support/recording-nest-logger';
import { SteppingClock } from '../support/stepping-clock';

requireBuild();

describe('ResilienceModule', () => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    configure({ logger: console, defaults: {} });
  });

  async function start(
    imports: NonNullable<Parameters<typeof Test.createTestingModule>[0]['imports']>,
    filter?: ResilienceExceptionFilter,
  ): Promise<{ app: INestApplication; url: string; clock: SteppingClock }> {
    const moduleRef = await Test.createTestingModule({ imports })
      .setLogger(new RecordingNestLogger())
      .compile();
    const app = moduleRef.createNestApplication();
    apps.push(app);
    if (filter !== undefined) app.useGlobalFilters(filter);
    const clock = new SteppingClock();
    app.get(ResilienceEngine).configure({ clock });
    await app.listen(0, '127.0.0.1');
    return { app, url: await app.getUrl(), clock };
  }

  describe('forRoot(options)', () => {
    it("passes configure()'s options through: defaults.retry applies to the app's methods", async () => {
      const logger = new RecordingLogger();
      const { app, url } = await start([
        ResilienceModule.forRoot({ logger, defaults: { retry: { maxAttempts: 2 } } }),
        CatalogModule,
      ]);
      app.get(Downstream).failing = true;

      await request(url).get('/catalog/7').expect(500);

      expect(app.get(Downstream).calls).toBe(2);
      expect(logger.at('error').map((entry) => entry.message)).toEqual([
        'Catalog.item failed after 2/2 attempts: Error: downstream failed for 7',
      ]);
    });

    it('provides the engine every decorator uses, to any module, without importing ResilienceModule there', async () => {
      const { app } = await start([
        ResilienceModule.forRoot({ logger: false }),
        CatalogModule,
        ReportModule,
      ]);

      expect(app.get(ResilienceEngine)).toBe(defaultEngine);
      expect(app.get(Catalog).engine).toBe(defaultEngine);
      expect(app.get(BreakerReport).states()).toEqual(expect.any(Object));
      expect(app.get(RESILIENCE_MODULE_OPTIONS)).toEqual({ logger: false });
    });

    it("logs through NestJS's Logger by default, with the context 'steadfast'", async () => {
      const { app } = await start([ResilienceModule.forRoot(), CatalogModule]);

      const nestLogger = new RecordingNestLogger();
      Logger.overrideLogger(nestLogger);
      app.get(Downstream).failing = true;
      await expect(app.get(Catalog).item('9')).rejects.toThrow('downstream failed for 9');

      expect(
        nestLogger.inContext('steadfast').map((entry) => [entry.level, entry.params[0]]),
      ).toEqual([
        [
          'warn',
          'Catalog.item attempt 1/3 failed (Error: downstream failed for 9); retrying in 10 ms',
        ],
        [
          'warn',
          'Catalog.item attempt 2/3 failed (Error: downstream failed for 9); retrying in 10 ms',
        ],
        ['error', 'Catalog.item failed after 3/3 attempts: Error: downstream failed for 9'],
      ]);
    });

    it('keeps logger: false', async () => {
      const { app } = await start([ResilienceModule.forRoot({ logger: false }), CatalogModule]);
      const nestLogger = new RecordingNestLogger();
      Logger.overrideLogger(nestLogger);
      app.get(Downstream).failing = true;

      await expect(app.get(Catalog).item('9')).rejects.toThrow();

      expect(nestLogger.entries).toEqual([]);
    });

    it('fails module compilation with ConfigError on an invalid option', async () => {
      const compiling = Test.createTestingModule({
        imports: [ResilienceModule.forRoot({ defaults: { retry: { maxAttempts: 0 } } })],
      })
        .setLogger(new RecordingNestLogger())
        .compile();

      await expect(compiling).rejects.toBeInstanceOf(ConfigError);
    });
  });

  describe('forRootAsync({ imports, useFactory, inject })', () => {
    it('builds the options from injected providers, also asynchronously', async () => {
      const logger = new RecordingLogger();
      const { app, url } = await start([
        ResilienceModule.forRootAsync({
          imports: [SettingsModule],
          inject: [SETTINGS],
          useFactory: async (settings: Settings) => ({
            logger,
            defaults: { retry: { maxAttempts: settings.retryAttempts } },
          }),
        }),
        CatalogModule,
      ]);
      app.get(Downstream).failing = true;

      await request(url).get('/catalog/3').expect(500);

      expect(app.get(Downstream).calls).toBe(4);
    });
  });

  describe('request-scoped providers', () => {
    it("share one breaker across requests with the default scope 'class'", async () => {
      const { app, url } = await start(
        [ResilienceModule.forRoot({ logger: false }), CatalogModule],
        new ResilienceExceptionFilter(),
      );
      const downstream = app.get(Downstream);
      downstream.failing = true;

      await request(url).get('/catalog/per-request/1').expect(500);
      await request(url).get('/catalog/per-request/2').expect(500);
      await request(url).get('/catalog/per-request/3').expect(503);

      expect(downstream.calls).toBe(2);
      expect(app.get(ResilienceEngine).breaker('per-request-catalog').state).toBe('open');
    });
  });
});

describe('ResilienceExceptionFilter', () => {
  /** A fake HTTP host whose response records what the filter did, in Express's and Fastify's shape. */
  function httpHost(type = 'http'): {
    host: ArgumentsHost;
    sent: { status?: number; headers: Record<string, string>; body?: unknown };
  } {
    const sent: { status?: number; headers: Record<string, string>; body?: unknown } = {
      headers: {},
    };
    const response = {
      status(code: number) {
        sent.status = code;
        return response;
      },
      header(name: string, value: string) {
        sent.headers[name] = value;
        return response;
      },
      send(body: unknown) {
        sent.body = body;
      },
    };
    const host = {
      getType: () => type,
      switchToHttp: () => ({ getResponse: () => response }),
    } as unknown as ArgumentsHost;
    return { host, sent };
  }

  it('answers an open circuit with 503 and Retry-After in whole seconds, rounded up', () => {
    const { host, sent } = httpHost();
    new ResilienceExceptionFilter().catch(new CircuitOpenError('payments', 'open', 1_200), host);

    expect(sent).toEqual({
      status: 503,
      headers: { 'Retry-After': '2' },
      body: {
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'A service this request depends on is unavailable; retry later.',
        code: 'STEADFAST_CIRCUIT_OPEN',
      },
    });
  });

  it('says Retry-After: 1 to a saturated half-open breaker, and gives no Retry-After for an isolated one', () => {
    const halfOpen = httpHost();
    new ResilienceExceptionFilter().catch(
      new CircuitOpenError('payments', 'half-open', 0),
      halfOpen.host,
    );
    const isolated = httpHost();
    new ResilienceExceptionFilter().catch(
      new CircuitOpenError('payments', 'isolated', Number.POSITIVE_INFINITY),
      isolated.host,
    );

    expect(halfOpen.sent.headers).toEqual({ 'Retry-After': '1' });
    expect(isolated.sent.status).toBe(503);
    expect(isolated.sent.headers).toEqual({});
  });

  it('answers an idempotency conflict, and a duplicate still in progress, with 409', () => {
    const conflict = httpHost();
    new ResilienceExceptionFilter().catch(
      new IdempotencyConflictError('Orders.place'),
      conflict.host,
    );
    const inProgress = httpHost();
    new ResilienceExceptionFilter().catch(
      new IdempotencyInProgressError('Orders.place', 10_000),
      inProgress.host,
    );

    expect(conflict.sent).toMatchObject({
      status: 409,
      body: { statusCode: 409, error: 'Conflict', code: 'STEADFAST_IDEMPOTENCY_CONFLICT' },
    });
    expect(inProgress.sent).toMatchObject({
      status: 409,
      body: { statusCode: 409, error: 'Conflict', code: 'STEADFAST_IDEMPOTENCY_IN_PROGRESS' },
    });
  });

  it('answers an unreachable idempotency store with 503, without Retry-After', () => {
    const { host, sent } = httpHost();
    new ResilienceExceptionFilter().catch(
      new IdempotencyStoreError('Orders.place', new Error('ECONNREFUSED')),
      host,
    );

    expect(sent).toEqual({
      status: 503,
      headers: {},
      body: {
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'Requests cannot be deduplicated right now; retry later.',
        code: 'STEADFAST_IDEMPOTENCY_STORE',
      },
    });
  });

  it('names no breaker and no method in the body', () => {
    const { host, sent } = httpHost();
    new ResilienceExceptionFilter().catch(
      new CircuitOpenError('internal-ledger-db', 'open', 1_000),
      host,
    );
    expect(JSON.stringify(sent.body)).not.toContain('internal-ledger-db');
  });

  it('lets the error go on outside HTTP (RPC, WebSockets)', () => {
    const error = new CircuitOpenError('payments', 'open', 1_000);
    expect(() => new ResilienceExceptionFilter().catch(error, httpHost('rpc').host)).toThrow(error);
  });
});

describe('CircuitBreakerHealthIndicator', () => {
  afterEach(() => configure({ logger: console }));

  it("reports every breaker in use in @nestjs/terminus's result shape, down while one is open", async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ logger: false }), CatalogModule],
    })
      .setLogger(new RecordingNestLogger())
      .compile();
    const indicator = moduleRef.get(CircuitBreakerHealthIndicator);
    const engine = moduleRef.get(ResilienceEngine);
    const breaker = engine.breaker('per-request-catalog');
    breaker.reset();

    await expect(indicator.isHealthy()).resolves.toEqual({
      circuits: {
        status: 'up',
        circuits: expect.objectContaining({ 'per-request-catalog': 'closed' }),
      },
    });
    breaker.isolate();
    await expect(
      indicator.isHealthy('breakers', { circuits: ['per-request-catalog'] }),
    ).resolves.toEqual({
      breakers: { status: 'down', circuits: { 'per-request-catalog': 'isolated' } },
    });
    await expect(
      indicator.isHealthy('breakers', { circuits: ['per-request-catalog'], downWhen: ['open'] }),
    ).resolves.toMatchObject({
      breakers: { status: 'up' },
    });
    breaker.reset();
    await moduleRef.close();
  });
});
