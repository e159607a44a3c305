// The example application itself (examples/nest-app), as its main.ts runs it, driven over HTTP.
import request from 'supertest';
import { AppModule } from '../../../../examples/nest-app/src/app.module';
import { FlakyWarehouse } from '../../../../examples/nest-app/src/warehouse/flaky-warehouse';
import { requireBuild } from '../support/built-package';
import { startApp, type RunningApp } from '../support/start-app';

requireBuild();

describe('the example order service', () => {
  let running: RunningApp;
  let warehouse: FlakyWarehouse;

  beforeEach(async () => {
    running = await startApp({ imports: [AppModule] });
    warehouse = running.app.get(FlakyWarehouse);
    warehouse.setMode('healthy');
    running.engine.breaker('warehouse').reset();
  });

  afterEach(async () => {
    await running.app.close();
  });

  const api = () => request(running.url);
  const placeOrder = (key: string, body: object) =>
    api().post('/orders').set('Idempotency-Key', key).send(body);

  describe('GET /stock/:sku, through a retried warehouse client', () => {
    it('answers while the warehouse fails every third call: the failed call is retried', async () => {
      warehouse.setMode('flaky');

      for (let i = 0; i < 3; i++)
        await api().get('/stock/kettle').expect(200, { sku: 'kettle', available: 12 });

      expect(warehouse.calls).toBe(4);
      expect(running.clock.sleeps).toEqual([50]); // full jitter of 100 ms with random() = 0.5
    });

    it("logs each failed attempt through NestJS's Logger, with the context 'steadfast'", async () => {
      warehouse.setMode('flaky');
      for (let i = 0; i < 3; i++) await api().get('/stock/kettle').expect(200);

      // exactly (message, context): a context given twice would print 'steadfast' as a message of its own
      expect(running.logger.inContext('steadfast')).toEqual([
        {
          level: 'warn',
          params: [
            'WarehouseClient.stockOf attempt 1/3 failed (GatewayTimeoutException: warehouse timed out (call 3)); retrying in 50 ms',
            'steadfast',
          ],
        },
      ]);
    });
  });

  describe('an outage of the warehouse', () => {
    it('opens the breaker: 504 while retrying, then 503 with Retry-After, and the warehouse is left alone', async () => {
      warehouse.setMode('down');

      await api().get('/stock/kettle').expect(504); // 3 attempts, 3 failures
      expect(warehouse.calls).toBe(3);

      const opening = await api().get('/stock/kettle'); // the 5th failure in a row opens it: the 3rd attempt is refused
      expect(opening.status).toBe(503);
      expect(opening.headers['retry-after']).toBe('10');
      expect(opening.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'A service this request depends on is unavailable; retry later.',
        code: 'STEADFAST_CIRCUIT_OPEN',
      });
      expect(warehouse.calls).toBe(5);

      running.clock.advance(4_000);
      const refused = await api().get('/stock/kettle').expect(503);
      expect(refused.headers['retry-after']).toBe('6');
      await api()
        .post('/orders')
        .set('Idempotency-Key', 'during-outage')
        .send({ sku: 'kettle', quantity: 1 })
        .expect(503);
      expect(warehouse.calls).toBe(5);
      expect(running.engine.breaker('warehouse').state).toBe('open');
    });

    it('recovers: once openDuration has passed, a trial call goes through and closes the breaker', async () => {
      warehouse.setMode('down');
      await api().get('/stock/kettle').expect(504);
      await api().get('/stock/kettle').expect(503);
      await api()
        .get('/health')
        .expect(503, { circuits: { status: 'down', circuits: { warehouse: 'open' } } });

      warehouse.setMode('healthy');
      running.clock.advance(5_000);
      await api().get('/stock/kettle').expect(503);
      expect(warehouse.calls).toBe(5);
      running.clock.advance(5_000);
      await api().get('/stock/kettle').expect(200, { sku: 'kettle', available: 12 });

      expect(running.engine.breaker('warehouse').state).toBe('closed');
      await api()
        .get('/health')
        .expect(200, { circuits: { status: 'up', circuits: { warehouse: 'closed' } } });
      expect(running.logger.inContext('steadfast').map((entry) => entry.params[0])).toEqual(
        expect.arrayContaining([
          "circuit 'warehouse' closed -> open: 5 consecutive failures",
          expect.stringMatching(/^circuit 'warehouse' open -> half-open/),
          expect.stringMatching(/^circuit 'warehouse' half-open -> closed/),
        ]),
      );
    });
  });

  describe('POST /orders with an Idempotency-Key', () => {
    const kettle = { sku: 'kettle', quantity: 1 };

    it('places one order for two requests with the same key: the second gets the first answer', async () => {
      const first = await placeOrder('order-1', kettle).expect(201);
      const second = await placeOrder('order-1', kettle).expect(201);

      expect(first.body).toEqual({ id: 'ord_1', sku: 'kettle', quantity: 1, status: 'placed' });
      expect(second.body).toEqual(first.body);
      await api().get('/orders').expect(200, [first.body]);
      expect(warehouse.calls).toBe(1);
    });

    it('places one order for duplicates sent at the same time', async () => {
      const answers = await Promise.all([
        placeOrder('order-2', kettle),
        placeOrder('order-2', kettle),
        placeOrder('order-2', kettle),
      ]);

      expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201]);
      expect(new Set(answers.map((answer) => answer.body.id))).toEqual(new Set(['ord_1']));
      expect((await api().get('/orders')).body).toHaveLength(1);
    });

    it('answers 409 to the same key with a different body, and places nothing more', async () => {
      await placeOrder('order-3', kettle).expect(201);

      const conflict = await placeOrder('order-3', { sku: 'kettle', quantity: 2 }).expect(409);

      expect(conflict.body).toEqual({
        statusCode: 409,
        error: 'Conflict',
        message: 'This idempotency key was already used with a different request.',
        code: 'STEADFAST_IDEMPOTENCY_CONFLICT',
      });
      expect((await api().get('/orders')).body).toHaveLength(1);
    });

    it('places different orders for different keys', async () => {
      await placeOrder('order-4', kettle).expect(201);
      await placeOrder('order-5', kettle).expect(201);

      expect((await api().get('/orders')).body.map((order: { id: string }) => order.id)).toEqual([
        'ord_1',
        'ord_2',
      ]);
    });

    it('records nothing for a request that failed: the same key places the order once the warehouse is back', async () => {
      warehouse.setMode('down');
      await placeOrder('order-6', kettle).expect(504);

      warehouse.setMode('healthy');
      const retried = await placeOrder('order-6', kettle).expect(201);

      expect(retried.body.id).toBe('ord_1');
      expect((await api().get('/orders')).body).toHaveLength(1);
    });

    it('answers 400, before the handler runs, to a missing key or a body the pipe refuses', async () => {
      await api().post('/orders').send(kettle).expect(400);
      await placeOrder('order-7', { sku: 'kettle', quantity: 0 }).expect(400);
      await placeOrder('order-7', { sku: 'kettle', quantity: 1, coupon: 'x' }).expect(400);

      expect(warehouse.calls).toBe(0);
      await placeOrder('order-7', kettle).expect(201);
    });

    it('answers 422 when the stock is short, and the key may be used again', async () => {
      await placeOrder('order-8', { sku: 'grinder', quantity: 4 }).expect(422);
      await placeOrder('order-8', { sku: 'grinder', quantity: 4 }).expect(422);
      expect(warehouse.calls).toBe(2);
    });
  });

  it('keeps the guard of the warehouse switch and the 204 of its @HttpCode', async () => {
    await api().put('/warehouse/mode').send({ mode: 'flaky' }).expect(204);
    expect(warehouse.currentMode()).toBe('flaky');
    await api().put('/warehouse/mode').send({ mode: 'sideways' }).expect(400);
  });
});
