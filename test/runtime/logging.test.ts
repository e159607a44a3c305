import { configure, Idempotent, Retryable, type LoggerLike } from '../../src';
import { createLogSink } from '../../src/runtime/log';
import { useHarness, decoratorMode } from '../support/harness';
import { flakyService, rejectionOf, resultOf } from './support/services';

/** The shape pino's loggers have: `child()` and `levels.values`, and fields before the message. */
function fakePino() {
  return {
    levels: {
      values: { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 },
      labels: {},
    },
    child() {
      return this;
    },
    warn: jest.fn(),
    error: jest.fn(),
  };
}

/** The shape of NestJS's Logger: a class with a static `overrideLogger`, called (message, context) / (message, stack, context). */
class FakeNestLogger {
  static overrideLogger(): void {}
  readonly warn = jest.fn();
  readonly error = jest.fn();
}

/** A NestJS LoggerService recognised by its instance method `setLogLevels`. */
function fakeNestService() {
  return { setLogLevels: jest.fn(), log: jest.fn(), warn: jest.fn(), error: jest.fn() };
}

function throwingLogger(): LoggerLike {
  return {
    warn: () => {
      throw new Error('log transport down');
    },
    error: () => {
      throw new Error('log transport down');
    },
  };
}

describe(`logging (${decoratorMode})`, () => {
  describe('of a retried call', () => {
    it('writes one warn entry per failed attempt that will be retried, naming method, attempt, delay and error', async () => {
      const h = useHarness();
      const service = flakyService({ maxAttempts: 3, jitter: 'none' }, 2);

      await resultOf(h.clock, service.fetch());

      const warnings = h.logger.at('warn');
      expect(warnings).toHaveLength(2);
      expect(h.logger.at('error')).toHaveLength(0);
      warnings.forEach((entry, index) => {
        const attempt = index + 1;
        const delay = 100 * 2 ** index;
        expect(entry.message).toContain('Flaky.fetch');
        expect(entry.message).toContain(`attempt ${attempt}/3`);
        expect(entry.message).toContain(`${delay} ms`);
        expect(entry.message).toContain(`attempt ${attempt} failed`);
        expect(entry.fields.method).toBe('Flaky.fetch');
        expect(entry.fields.attempt).toBe(attempt);
        expect(entry.fields.maxAttempts).toBe(3);
        expect(entry.fields.delay).toBe(delay);
        expect(entry.fields.error).toBe(service.errors[index]);
      });
    });

    it('writes one error entry for the final failure, after the warnings', async () => {
      const h = useHarness();
      const service = flakyService({ maxAttempts: 3, jitter: 'none' });

      const error = await rejectionOf(h.clock, service.fetch());

      expect(h.logger.entries.map((entry) => entry.level)).toEqual(['warn', 'warn', 'error']);
      const [final] = h.logger.at('error');
      expect(final?.message).toContain('Flaky.fetch');
      expect(final?.message).toContain('attempt 3 failed');
      expect(final?.fields.method).toBe('Flaky.fetch');
      expect(final?.fields.attempt).toBe(3);
      expect(final?.fields.maxAttempts).toBe(3);
      expect(final?.fields.error).toBe(error);
    });

    it('writes only the error entry when the error is not retried', async () => {
      const h = useHarness();
      const service = flakyService({ maxAttempts: 3, retryOn: () => false });

      await rejectionOf(h.clock, service.fetch());

      expect(h.logger.at('warn')).toHaveLength(0);
      expect(h.logger.at('error')).toHaveLength(1);
      expect(h.logger.at('error')[0]?.fields.error).toBe(service.errors[0]);
    });

    it('writes nothing for a call that succeeds at once', async () => {
      const h = useHarness();
      const service = flakyService({ maxAttempts: 3 }, 0);

      await resultOf(h.clock, service.fetch());

      expect(h.logger.entries).toEqual([]);
    });

    it('rounds the delay in the message and keeps it exact in the fields', async () => {
      const h = useHarness();
      h.randomValues(0.123456);
      const service = flakyService({ maxAttempts: 2, initialDelay: 1_000, jitter: 'full' }, 1);

      await resultOf(h.clock, service.fetch());

      const [warning] = h.logger.at('warn');
      expect(warning?.fields.delay).toBeCloseTo(123.456, 9);
      expect(warning?.message).toContain('123 ms');
    });

    it('names a thrown non-error value in the message', async () => {
      const h = useHarness();
      class Legacy {
        @Idempotent()
        @Retryable({ maxAttempts: 2 })
        async call(): Promise<void> {
          throw { code: 'E_OLD' };
        }
      }

      await rejectionOf(h.clock, new Legacy().call());

      expect(h.logger.at('warn')[0]?.message).toContain('E_OLD');
      expect(h.logger.at('error')[0]?.message).toContain('E_OLD');
    });
  });

  describe('configure({ logger: false })', () => {
    it('silences every entry, console included', async () => {
      const h = useHarness();
      const consoleWarn = jest.spyOn(console, 'warn').mockImplementation(() => {});
      const consoleError = jest.spyOn(console, 'error').mockImplementation(() => {});
      try {
        configure({ logger: false });
        const service = flakyService({ maxAttempts: 3 });

        await rejectionOf(h.clock, service.fetch());

        expect(service.runs).toBe(3);
        expect(h.logger.entries).toEqual([]);
        expect(consoleWarn).not.toHaveBeenCalled();
        expect(consoleError).not.toHaveBeenCalled();
      } finally {
        consoleWarn.mockRestore();
        consoleError.mockRestore();
      }
    });

    it('lasts until a logger is configured again', async () => {
      const h = useHarness();
      configure({ logger: false });
      await rejectionOf(h.clock, flakyService({ maxAttempts: 2 }).fetch());
      configure({ logger: h.logger });
      await rejectionOf(h.clock, flakyService({ maxAttempts: 2 }).fetch());

      expect(h.logger.entries.map((entry) => entry.level)).toEqual(['warn', 'error']);
    });
  });

  describe('the logger adapter', () => {
    const error = new Error('boom');
    const fields = { method: 'Svc.get', attempt: 1, maxAttempts: 3, delay: 100, error };

    describe('a console-like logger', () => {
      it('is called with (message, fields)', () => {
        const logger = { warn: jest.fn(), error: jest.fn() };
        const sink = createLogSink(logger);

        sink.warn('retrying', fields);
        sink.error('gave up', fields);

        expect(logger.warn).toHaveBeenCalledWith('retrying', fields);
        expect(logger.warn.mock.calls[0]?.[1]).toBe(fields);
        expect(logger.error).toHaveBeenCalledWith('gave up', fields);
      });

      it('receives console-style calls from a decorated method, console itself included', async () => {
        const h = useHarness();
        const consoleWarn = jest.spyOn(console, 'warn').mockImplementation(() => {});
        const consoleError = jest.spyOn(console, 'error').mockImplementation(() => {});
        try {
          configure({ logger: console });
          const service = flakyService({ maxAttempts: 2, jitter: 'none' });

          await rejectionOf(h.clock, service.fetch());

          expect(consoleWarn).toHaveBeenCalledTimes(1);
          expect(consoleWarn.mock.calls[0]?.[0]).toEqual(
            expect.stringContaining('Flaky.fetch attempt 1/2'),
          );
          expect(consoleWarn.mock.calls[0]?.[1]).toMatchObject({
            method: 'Flaky.fetch',
            attempt: 1,
            delay: 100,
            error: service.errors[0],
          });
          expect(consoleError).toHaveBeenCalledTimes(1);
          expect(consoleError.mock.calls[0]?.[1]).toMatchObject({
            method: 'Flaky.fetch',
            error: service.errors[1],
          });
        } finally {
          consoleWarn.mockRestore();
          consoleError.mockRestore();
        }
      });
    });

    describe('a pino-like logger (child() and levels.values)', () => {
      it('is called with (fields, message), the error under err', () => {
        const logger = fakePino();
        const sink = createLogSink(logger);

        sink.warn('retrying', fields);
        sink.error('gave up', fields);

        expect(logger.warn).toHaveBeenCalledWith(
          { method: 'Svc.get', attempt: 1, maxAttempts: 3, delay: 100, err: error },
          'retrying',
        );
        expect(logger.error).toHaveBeenCalledWith(
          { method: 'Svc.get', attempt: 1, maxAttempts: 3, delay: 100, err: error },
          'gave up',
        );
        const logged = logger.warn.mock.calls[0]?.[0] as Record<string, unknown>;
        expect(logged.err).toBe(error);
        expect('error' in logged).toBe(false);
      });

      it('wraps a thrown non-error value as err.value, and omits err when there is no error', () => {
        const logger = fakePino();
        const sink = createLogSink(logger);

        sink.warn('retrying', { method: 'Svc.get', error: 'a string' });
        sink.warn('retrying', { method: 'Svc.get', error: undefined });

        expect(logger.warn.mock.calls[0]?.[0]).toEqual({
          method: 'Svc.get',
          err: { value: 'a string' },
        });
        expect(logger.warn.mock.calls[1]?.[0]).toEqual({ method: 'Svc.get' });
      });

      it('receives pino-style calls from a decorated method', async () => {
        const h = useHarness();
        const logger = fakePino();
        configure({ logger });
        const service = flakyService({ maxAttempts: 2, jitter: 'none' });

        await rejectionOf(h.clock, service.fetch());

        expect(logger.warn).toHaveBeenCalledTimes(1);
        const [warnFields, warnMessage] = logger.warn.mock.calls[0] as [
          Record<string, unknown>,
          string,
        ];
        expect(warnFields).toMatchObject({
          method: 'Flaky.fetch',
          attempt: 1,
          maxAttempts: 2,
          delay: 100,
        });
        expect(warnFields.err).toBe(service.errors[0]);
        expect(warnMessage).toContain('Flaky.fetch attempt 1/2');
        expect(logger.error).toHaveBeenCalledTimes(1);
        const [errorFields, errorMessage] = logger.error.mock.calls[0] as [
          Record<string, unknown>,
          string,
        ];
        expect(errorFields.err).toBe(service.errors[1]);
        expect(errorMessage).toContain('Flaky.fetch');
        expect(h.logger.entries).toEqual([]);
      });

      it('is not taken for pino without levels.values: it is called console-style', () => {
        const logger = { child: jest.fn(), warn: jest.fn(), error: jest.fn() };
        createLogSink(logger).warn('retrying', fields);

        expect(logger.warn).toHaveBeenCalledWith('retrying', fields);
      });
    });

    describe('a NestJS-like logger', () => {
      /** An error as NestJS's HttpException is: getStatus() and getResponse(). */
      class FakeHttpException extends Error {
        getStatus(): number {
          return 503;
        }
        getResponse(): unknown {
          return { statusCode: 503 };
        }
      }

      it('recognised by its class’s static overrideLogger, is called warn(message, context) and error(message, context)', () => {
        const logger = new FakeNestLogger();
        const sink = createLogSink(logger);

        sink.warn('retrying', fields);
        sink.error('gave up', fields);

        expect(logger.warn).toHaveBeenCalledWith('retrying', 'steadfast');
        // NestJS's exception handler logs the stack of such an error when it reaches it: not twice.
        expect(logger.error).toHaveBeenCalledWith('gave up', 'steadfast');
      });

      it('is given the stack of a final failure that is an HttpException, which NestJS does not log', () => {
        const logger = new FakeNestLogger();
        const httpError = new FakeHttpException('upstream unavailable');

        createLogSink(logger).error('gave up', { method: 'Svc.get', error: httpError });

        expect(logger.error).toHaveBeenCalledWith('gave up', httpError.stack, 'steadfast');
      });

      it('recognised through a subclass of the Logger class too', () => {
        class AppLogger extends FakeNestLogger {}
        const logger = new AppLogger();

        createLogSink(logger).warn('retrying', fields);

        expect(logger.warn).toHaveBeenCalledWith('retrying', 'steadfast');
      });

      it('recognised by an instance setLogLevels method, is called the same way', () => {
        const logger = fakeNestService();
        const sink = createLogSink(logger);

        sink.warn('retrying', fields);
        sink.error('gave up', fields);

        expect(logger.warn).toHaveBeenCalledWith('retrying', 'steadfast');
        expect(logger.error).toHaveBeenCalledWith('gave up', 'steadfast');
      });

      it('in JSON mode (a ConsoleLogger with json: true), gets one object with the message and the fields', () => {
        const logger = Object.assign(fakeNestService(), { options: { json: true } });

        createLogSink(logger).warn('retrying', fields);
        createLogSink(logger).error('gave up', fields);

        const entry = { ...fields, error: { name: error.name, message: error.message } };
        expect(logger.warn).toHaveBeenCalledWith({ message: 'retrying', ...entry }, 'steadfast');
        expect(logger.error).toHaveBeenCalledWith({ message: 'gave up', ...entry }, 'steadfast');
      });

      it('behind a Nest Logger facade, follows the logger the app uses: JSON mode there gives the object', () => {
        const appLogger = Object.assign(fakeNestService(), { options: { json: true } });
        const facade = Object.assign(new FakeNestLogger(), { localInstance: appLogger });

        createLogSink(facade).warn('retrying', fields);

        expect(facade.warn).toHaveBeenCalledWith(
          expect.objectContaining({ message: 'retrying', method: fields.method }),
          'steadfast',
        );
      });

      it('behind nestjs-pino, gets one object whose msg pino shows as the message', () => {
        const pinoBacked = Object.assign(fakeNestService(), { contextName: 'context', logger: {} });

        createLogSink(pinoBacked).warn('retrying', fields);

        expect(pinoBacked.warn).toHaveBeenCalledWith(
          expect.objectContaining({
            msg: 'retrying',
            method: fields.method,
            attempt: fields.attempt,
          }),
          'steadfast',
        );
      });

      it('gives a thrown non-error value as a field, never a stack', () => {
        const logger = Object.assign(fakeNestService(), { options: { json: true } });

        createLogSink(logger).error('gave up', { method: 'Svc.get', error: 42 });

        expect(logger.error).toHaveBeenCalledWith(
          { message: 'gave up', method: 'Svc.get', error: { value: 42 } },
          'steadfast',
        );
      });

      it('receives Nest-style calls from a decorated method', async () => {
        const h = useHarness();
        const logger = new FakeNestLogger();
        configure({ logger });
        const service = flakyService({ maxAttempts: 2, jitter: 'none' });

        await rejectionOf(h.clock, service.fetch());

        expect(logger.warn).toHaveBeenCalledTimes(1);
        expect(logger.warn.mock.calls[0]?.[0]).toEqual(
          expect.stringContaining('Flaky.fetch attempt 1/2'),
        );
        expect(logger.warn.mock.calls[0]?.[1]).toBe('steadfast');
        expect(logger.error).toHaveBeenCalledTimes(1);
        expect(logger.error.mock.calls[0]).toEqual([
          expect.stringContaining('Flaky.fetch'),
          'steadfast',
        ]);
      });
    });

    it('createLogSink(false) writes nothing and throws nothing', () => {
      const sink = createLogSink(false);

      expect(() => sink.warn('retrying', fields)).not.toThrow();
      expect(() => sink.error('gave up', fields)).not.toThrow();
    });
  });

  describe('a logger that throws', () => {
    const throwingLoggers: [string, () => LoggerLike][] = [
      ['console-like', throwingLogger],
      ['pino-like', () => ({ ...fakePino(), ...throwingLogger() })],
      ['NestJS-like', () => Object.assign(new FakeNestLogger(), throwingLogger())],
    ];

    it.each(throwingLoggers)('never breaks a failing call (%s)', async (_kind, make) => {
      const h = useHarness();
      configure({ logger: make() });
      const service = flakyService({ maxAttempts: 3 });

      const error = await rejectionOf(h.clock, service.fetch());

      expect(error).toBe(service.errors[2]);
      expect(service.runs).toBe(3);
    });

    it.each(throwingLoggers)('never breaks a call that recovers (%s)', async (_kind, make) => {
      const h = useHarness();
      configure({ logger: make() });
      const service = flakyService({ maxAttempts: 3 }, 2);

      expect(await resultOf(h.clock, service.fetch())).toBe('ok');
      expect(service.runs).toBe(3);
    });
  });
});
