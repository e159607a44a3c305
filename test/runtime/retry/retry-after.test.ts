import { ConfigError, Idempotent, Retryable } from '../../../src';
import { retryAfterOf } from '../../../src/runtime/retry/retry-after';
import { decoratorMode, useHarness } from '../../support/harness';
import { thrownBy } from '../../decorators/helpers';
import { resultOf } from '../support/services';

const NOW = Date.parse('2026-12-01T12:00:00Z');

/** A Fetch-style Headers: only get() answers, case-insensitively. */
function fetchHeaders(entries: Record<string, string>): { get(name: string): string | null } {
  const lower = new Map(Object.entries(entries).map(([key, value]) => [key.toLowerCase(), value]));
  return { get: (name: string) => lower.get(name.toLowerCase()) ?? null };
}

class HttpError extends Error {
  constructor(readonly response: unknown) {
    super('upstream answered 503');
  }
}

describe(`server hints: how long a failure asks to wait (${decoratorMode})`, () => {
  describe('the shapes that are read', () => {
    it.each([
      ['a numeric retryAfter in ms', Object.assign(new Error('x'), { retryAfter: 1_500 }), 1_500],
      [
        'a fetch Response kept on error.response (Retry-After seconds)',
        new HttpError({ status: 503, headers: fetchHeaders({ 'Retry-After': '3' }) }),
        3_000,
      ],
      [
        'a fetch Response kept on error.cause',
        new Error('x', { cause: { status: 429, headers: fetchHeaders({ 'retry-after': '2' }) } }),
        2_000,
      ],
      [
        'axios-style plain headers',
        new HttpError({ status: 503, headers: { 'retry-after': '4' } }),
        4_000,
      ],
      [
        'got-style headers with an array value',
        new HttpError({ statusCode: 503, headers: { 'retry-after': ['5'] } }),
        5_000,
      ],
      [
        'a header of another case in a plain object',
        new HttpError({ headers: { 'Retry-After': '1' } }),
        1_000,
      ],
      [
        'an HTTP-date, against the engine clock',
        new HttpError({ headers: { 'retry-after': new Date(NOW + 7_000).toUTCString() } }),
        7_000,
      ],
      [
        'x-amz-retry-after in ms, before Retry-After',
        new HttpError({
          headers: fetchHeaders({ 'x-amz-retry-after': '250', 'retry-after': '9' }),
        }),
        250,
      ],
      [
        'a NestJS HttpException whose response says retryAfter (seconds)',
        Object.assign(new Error('x'), { getResponse: () => ({ statusCode: 429, retryAfter: 6 }) }),
        6_000,
      ],
    ])('reads %s', (_what, error, expected) => {
      expect(retryAfterOf(error, NOW)).toBe(expected);
    });

    it.each([
      ['no hint at all', new Error('x')],
      [
        'a date in the past',
        new HttpError({ headers: { 'retry-after': new Date(NOW - 1_000).toUTCString() } }),
      ],
      [
        'a header that is neither seconds nor a date',
        new HttpError({ headers: { 'retry-after': 'soon' } }),
      ],
      ['a negative retryAfter', Object.assign(new Error('x'), { retryAfter: -5 })],
      ['a NaN retryAfter', Object.assign(new Error('x'), { retryAfter: Number.NaN })],
      ['a non-error value', 'boom'],
      [
        'a getResponse that throws',
        Object.assign(new Error('x'), {
          getResponse: () => {
            throw new Error('no');
          },
        }),
      ],
    ])('asks for no wait given %s', (_what, error) => {
      expect(retryAfterOf(error, NOW)).toBe(0);
    });
  });

  describe('through @Retryable', () => {
    function defineClient(options: { maxRetryAfter?: number }, hint: string) {
      class Client {
        runs = 0;
        @Idempotent()
        @Retryable({ maxAttempts: 2, initialDelay: 10, maxDelay: 10, jitter: 'none', ...options })
        async fetch(): Promise<string> {
          if (++this.runs === 1)
            throw new HttpError({ status: 503, headers: fetchHeaders({ 'retry-after': hint }) });
          return 'ok';
        }
      }
      return new Client();
    }

    it('waits at least what Retry-After asks, even beyond maxDelay', async () => {
      const h = useHarness();
      await expect(resultOf(h.clock, defineClient({}, '2').fetch())).resolves.toBe('ok');
      expect(h.clock.sleeps).toEqual([2_000]);
    });

    it('caps the wait at maxRetryAfter', async () => {
      const h = useHarness();
      await expect(
        resultOf(h.clock, defineClient({ maxRetryAfter: 500 }, '120').fetch()),
      ).resolves.toBe('ok');
      expect(h.clock.sleeps).toEqual([500]);
    });

    it('keeps the computed delay when it is longer than the capped hint', async () => {
      const h = useHarness();
      await expect(
        resultOf(h.clock, defineClient({ maxRetryAfter: 5 }, '120').fetch()),
      ).resolves.toBe('ok');
      expect(h.clock.sleeps).toEqual([10]);
    });

    it('refuses a maxRetryAfter that is not a duration, at definition', () => {
      const error = thrownBy(() => defineClient({ maxRetryAfter: -1 }, '1'));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ option: 'maxRetryAfter' });
    });
  });
});
