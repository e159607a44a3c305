import type { INestApplication, ModuleMetadata, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { NotIdempotentError } from 'steadfast';
import { ResilienceModule } from 'steadfast/nestjs';
import { RecordingLogger } from 'steadfast/testing';
import { AppModule } from '../../../../examples/nest-app/src/app.module';
import {
  bodyRuns,
  InheritsMarkedModule,
  Payments,
  PerRequestBreakerModule,
  TwoUnmarkedModule,
  UnmarkedControllerModule,
  UnmarkedFactoryModule,
  UnmarkedHedgeModule,
  UnmarkedOverrideModule,
  UnmarkedProviderModule,
  UnmarkedRequestScopedModule,
  UnmarkedTransientModule,
  UnmarkedValueModule,
} from '../fixtures/unmarked';
import { requireBuild } from '../support/built-package';
import { RecordingNestLogger } from '../support/recording-nest-logger';

requireBuild();

describe('the boot check: an application with a @Retryable method lacking @Idempotent does not start', () => {
  const apps: INestApplication[] = [];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close().catch(() => undefined)));
    bodyRuns.count = 0;
  });

  async function appWith(
    metadata: ModuleMetadata,
    logger = new RecordingLogger(),
  ): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ logger }), ...(metadata.imports ?? [])],
      providers: metadata.providers,
    })
      .setLogger(new RecordingNestLogger())
      .compile();
    const app = moduleRef.createNestApplication();
    apps.push(app);
    return app;
  }

  async function refusal(module: Type<unknown>): Promise<unknown> {
    const app = await appWith({ imports: [module] });
    return app.init().then(
      () => new Error('app.init() resolved'),
      (error: unknown) => error,
    );
  }

  it.each([
    ['a provider', UnmarkedProviderModule, 'Payments.charge'],
    ['a controller', UnmarkedControllerModule, 'RefundsController.refund'],
    [
      'a request-scoped provider (checked by its class: no instance exists at boot)',
      UnmarkedRequestScopedModule,
      'RequestScopedPayments.charge',
    ],
    ['a transient provider', UnmarkedTransientModule, 'TransientPayments.charge'],
    ['a factory provider (checked by its instance)', UnmarkedFactoryModule, 'LegacyGateway.send'],
    ['a value provider', UnmarkedValueModule, 'LegacyGateway.send'],
    ['an unmarked override of a marked method', UnmarkedOverrideModule, 'UnmarkedOverride.sync'],
    [
      'a @Hedge method (a hedge runs the body again, as a retry does)',
      UnmarkedHedgeModule,
      'Quotes.quote',
    ],
  ])('refuses %s: app.init() rejects with NotIdempotentError', async (_what, module, method) => {
    const error = await refusal(module);

    expect(error).toBeInstanceOf(NotIdempotentError);
    expect(error).toMatchObject({ code: 'STEADFAST_NOT_IDEMPOTENT', method });
    expect(bodyRuns.count).toBe(0);
  });

  it('accepts a subclass that inherits a marked method', async () => {
    const app = await appWith({ imports: [InheritsMarkedModule] });
    await expect(app.init()).resolves.toBe(app);
  });

  it('refuses the example application with one unmarked provider added, and never listens', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule, UnmarkedProviderModule],
    })
      .setLogger(new RecordingNestLogger())
      .compile();
    const app = moduleRef.createNestApplication();
    apps.push(app);

    await expect(app.listen(0, '127.0.0.1')).rejects.toBeInstanceOf(NotIdempotentError);
    expect(app.getHttpServer().listening).toBe(false);
  });

  it('runs before any other module initialises, so no onModuleInit can call the method first', async () => {
    const app = await appWith({ imports: [UnmarkedProviderModule] });
    const payments = app.get(Payments);
    const onModuleInit = jest.fn();
    Object.assign(payments, { onModuleInit });

    await expect(app.init()).rejects.toBeInstanceOf(NotIdempotentError);
    expect(onModuleInit).not.toHaveBeenCalled();
  });

  it('logs every unmarked method at error level and throws for the first', async () => {
    const logger = new RecordingLogger();
    const app = await appWith({ imports: [TwoUnmarkedModule] }, logger);

    await expect(app.init()).rejects.toMatchObject({ method: 'Ledger.post' });
    expect(logger.at('error').map((entry) => entry.message)).toEqual([
      'Ledger.post is @Retryable but not @Idempotent: the application refuses to start',
      'Ledger.reverse is @Retryable but not @Idempotent: the application refuses to start',
    ]);
  });

  it('names the decorator that needs the mark: @Hedge', async () => {
    const logger = new RecordingLogger();
    const app = await appWith({ imports: [UnmarkedHedgeModule] }, logger);

    await expect(app.init()).rejects.toMatchObject({ method: 'Quotes.quote' });
    expect(logger.at('error').map((entry) => entry.message)).toEqual([
      'Quotes.quote is @Hedge but not @Idempotent: the application refuses to start',
    ]);
    expect(bodyRuns.count).toBe(0);
  });

  it("warns of a breaker with scope 'instance' on a request-scoped provider, which would never open", async () => {
    const logger = new RecordingLogger();
    const app = await appWith({ imports: [PerRequestBreakerModule] }, logger);

    await app.init();

    expect(logger.at('warn').map((entry) => entry.message)).toEqual([
      expect.stringMatching(
        /^PerRequestBreaker\.call: @CircuitBreaker\(\{ scope: 'instance' \}\) on a request-scoped provider/,
      ),
    ]);
  });

  it('without ResilienceModule there is no boot check: the method is refused at its first call, before its body runs', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [UnmarkedProviderModule] })
      .setLogger(new RecordingNestLogger())
      .compile();
    const app = moduleRef.createNestApplication();
    apps.push(app);
    await app.init();

    await expect(app.get(Payments).charge(100)).rejects.toBeInstanceOf(NotIdempotentError);
    expect(bodyRuns.count).toBe(0);
  });
});
