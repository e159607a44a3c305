// IdempotencyKey()'s options over HTTP; its default (the Idempotency-Key header, required) is
// driven through the example's POST /orders in order-service.suite.ts.
import request from 'supertest';
import { handlerRuns, KeyOptionsModule } from '../fixtures/idempotency-key-fixtures';
import { requireBuild } from '../support/built-package';
import { startApp, type RunningApp } from '../support/start-app';

requireBuild();

const refusal = (message: string) => ({
  statusCode: 400,
  error: 'Bad Request',
  message,
  code: 'STEADFAST_IDEMPOTENCY_KEY',
});

describe("IdempotencyKey()'s options", () => {
  let running: RunningApp;

  beforeEach(async () => {
    running = await startApp({ imports: [KeyOptionsModule] });
    handlerRuns.payments = handlerRuns.notes = 0;
  });

  afterEach(async () => {
    await running.app.close();
  });

  const api = () => request(running.url);

  describe("{ header: 'X-Request-Id' }", () => {
    it('reads the key from that header, matched case-insensitively, and a repeated request gets the first answer', async () => {
      const first = await api()
        .post('/payments')
        .set('X-Request-Id', 'pay-1')
        .send({ amount: 5 })
        .expect(201);
      const again = await api()
        .post('/payments')
        .set('x-request-id', 'pay-1')
        .send({ amount: 5 })
        .expect(201);

      expect(first.body).toEqual({ payment: 1, requestId: 'pay-1', amount: 5 });
      expect(again.body).toEqual(first.body);
      expect(handlerRuns.payments).toBe(1);
    });

    it('answers 400 naming that header when only Idempotency-Key is sent, and the handler does not run', async () => {
      const response = await api()
        .post('/payments')
        .set('Idempotency-Key', 'pay-2')
        .send({ amount: 5 })
        .expect(400);

      expect(response.body).toEqual(
        refusal(
          'The x-request-id header is required: send a key that names this operation, the same for every retry of it.',
        ),
      );
      expect(handlerRuns.payments).toBe(0);
    });
  });

  describe('{ required: false }', () => {
    it('lets a request without the header through: the handler runs and its parameter is undefined', async () => {
      await api().post('/notes').expect(201, { key: null });
      await api().post('/notes').expect(201, { key: null });

      expect(handlerRuns.notes).toBe(2);
    });

    it('gives the handler a key that is sent, trimmed', async () => {
      await api().post('/notes').set('Idempotency-Key', '  note-1 ').expect(201, { key: 'note-1' });
    });

    it('still refuses a key that is sent but empty, or too long, before the handler runs', async () => {
      const empty = await api().post('/notes').set('Idempotency-Key', ' ').expect(400);
      const long = await api().post('/notes').set('Idempotency-Key', 'k'.repeat(256)).expect(400);

      expect(empty.body).toEqual(refusal('The idempotency-key header is empty.'));
      expect(long.body).toEqual(
        refusal('The idempotency-key header is longer than 255 characters.'),
      );
      expect(handlerRuns.notes).toBe(0);
    });
  });
});
