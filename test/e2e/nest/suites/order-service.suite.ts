// The example application itself (examples/nest-app), as its main.ts runs it, driven over HTTP: its
// WarehouseClient calls the simulated warehouse, a real HTTP server on 127.0.0.1, through HttpService.
import { once } from 'node:events';
import request from 'supertest';
import type { FailureEvent } from 'steadfast';
import { AppModule } from '../../../../examples/nest-app/src/app.module';
import { OrdersService } from '../../../../examples/nest-app/src/orders/orders.service';
import { FlakyWarehouseServer } from '../../../../examples/nest-app/src/warehouse/flaky-warehouse-server';
import {
  WAREHOUSE_ATTEMPT_TIMEOUT,
  WarehouseClient,
} from '../../../../examples/nest-app/src/warehouse/warehouse-client';
import { requireBuild } from '../support/built-package';
import { startApp, type RunningApp } from '../support/start-app';
import { SteppingClock } from '../support/stepping-clock';

requireBuild();

describe('the example order service', () => {
  let running: RunningApp;
  let warehouse: FlakyWarehouseServer;

  beforeEach(async () => {
    // Retry delays (the client's maxDelay is 1 s) end at once; the 2 s attempt deadlines wait for
    // the test to move the clock, so a real round trip to the warehouse is never cut short.
    const clock = new SteppingClock({ holdSleepsLongerThan: 1_000 });
    running = await startApp({ imports: [AppModule] }, { clock });
    warehouse = running.app.get(FlakyWarehouseServer);
    warehouse.setMode('healthy');
    running.engine.breaker('warehouse').reset();
  });

  afterEach(async () => {
    await running.app.close();
  });

  const api = () => request(running.url);
  const placeOrder = (key: string, body: object) =>
    api().post('/orders').set('Idempotency-Key', key).send(body);
  const badGateway = {
    statusCode: 502,
    error: 'Bad Gateway',
    message: 'A service this request depends on answered 503.',
  };

  describe('GET /stock/:sku, through a retried warehouse client', () => {
    it('answers while the warehouse fails every third request: the failed request is retried', async () => {
      warehouse.setMode('flaky');

      for (let i = 0; i < 3; i++)
        await api().get('/stock/kettle').expect(200, { sku: 'kettle', available: 12 });

      expect(warehouse.requests).toBe(4);
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
            'WarehouseClient.stockOf attempt 1/3 failed (AxiosError: Request failed with status code 503); retrying in 50 ms',
            'steadfast',
          ],
        },
      ]);
    });
  });

  describe('a hung warehouse', () => {
    it('is cut by @Timeout: each attempt ends at its deadline with its request closed, and the answer is 504', async () => {
      warehouse.setMode('hung');
      let held = once(warehouse, 'held');
      const answer = api()
        .get('/stock/kettle')
        .then((response) => response);

      for (let attempt = 1; attempt <= 3; attempt++) {
        await held;
        const abandoned = once(warehouse, 'abandoned');
        if (attempt < 3) held = once(warehouse, 'held');
        running.clock.advance(WAREHOUSE_ATTEMPT_TIMEOUT - 1);
        expect(running.clock.heldSleeps).toBe(1); // the attempt's deadline has not passed yet
        running.clock.advance(1);
        await abandoned; // the server saw the client close the request's connection
        expect(warehouse.abandoned).toBe(attempt);
      }

      const response = await answer;
      expect(response.status).toBe(504);
      expect(response.body).toEqual({
        statusCode: 504,
        error: 'Gateway Timeout',
        message: 'A service this request depends on did not answer in time.',
        code: 'STEADFAST_TIMEOUT',
      });
      expect(warehouse.requests).toBe(3);
      expect(running.clock.sleeps).toEqual([50, 100]);
      expect(running.engine.breaker('warehouse').state).toBe('closed'); // 3 failures of the 5 that open it
    });

    it("aborts the HTTP request when the client's Observable is unsubscribed, and makes no further attempt", async () => {
      warehouse.setMode('hung');
      const failures: FailureEvent[] = [];
      const stopListening = running.engine.on('failure', (event) => failures.push(event));
      const held = once(warehouse, 'held');
      const subscription = running.app.get(WarehouseClient).stockOf('kettle').subscribe();
      await held;

      const abandoned = once(warehouse, 'abandoned');
      subscription.unsubscribe();
      await abandoned;
      stopListening();

      expect(failures).toEqual([
        expect.objectContaining({ method: 'WarehouseClient.stockOf', reason: 'aborted' }),
      ]);
      expect([warehouse.requests, warehouse.abandoned]).toEqual([1, 1]);
    });
  });

  describe('an outage of the warehouse', () => {
    it('opens the breaker: 502 while retrying, then 503 with Retry-After, and the warehouse is left alone', async () => {
      warehouse.setMode('down');

      await api().get('/stock/kettle').expect(502, badGateway); // 3 attempts, 3 failures
      expect(warehouse.requests).toBe(3);

      const opening = await api().get('/stock/kettle'); // the 5th failure in a row opens it: the 3rd attempt is refused
      expect(opening.status).toBe(503);
      expect(opening.headers['retry-after']).toBe('10');
      expect(opening.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'A service this request depends on is unavailable; retry later.',
        code: 'STEADFAST_CIRCUIT_OPEN',
      });
      expect(warehouse.requests).toBe(5);

      running.clock.advance(4_000);
      const refused = await api().get('/stock/kettle').expect(503);
      expect(refused.headers['retry-after']).toBe('6');
      await placeOrder('during-outage', { sku: 'kettle', quantity: 1 }).expect(503);
      expect(warehouse.requests).toBe(5);
      expect(running.engine.breaker('warehouse').state).toBe('open');
    });

    it('answers 502 when the warehouse cannot be reached at all: a refused connection is retried like a 503', async () => {
      await warehouse.close();

      await api()
        .get('/stock/kettle')
        .expect(502, {
          ...badGateway,
          message: 'A service this request depends on could not be reached.',
        });
      expect(running.logger.inContext('steadfast').map((entry) => entry.params[0])).toEqual([
        expect.stringMatching(/^WarehouseClient\.stockOf attempt 1\/3 failed \(.*ECONNREFUSED/),
        expect.stringMatching(/^WarehouseClient\.stockOf attempt 2\/3 failed/),
        expect.stringMatching(/^WarehouseClient\.stockOf failed after 3\/3 attempts/),
      ]);
    });

    it('recovers: once openDuration has passed, a trial call goes through and closes the breaker', async () => {
      warehouse.setMode('down');
      await api().get('/stock/kettle').expect(502);
      await api().get('/stock/kettle').expect(503);
      await api()
        .get('/health')
        .expect(503, { circuits: { status: 'down', circuits: { warehouse: 'open' } } });

      warehouse.setMode('healthy');
      running.clock.advance(5_000);
      await api().get('/stock/kettle').expect(503);
      expect(warehouse.requests).toBe(5);
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
    let placed: jest.SpyInstance;
    beforeEach(() => {
      // The handler's body calls OrdersService.place once each time it runs (a replay does not run it).
      placed = jest.spyOn(running.app.get(OrdersService), 'place');
    });

    const keyRefusal = (message: string) => ({
      statusCode: 400,
      error: 'Bad Request',
      message,
      code: 'STEADFAST_IDEMPOTENCY_KEY',
    });

    it('places one order for two requests with the same key: the second gets the first answer', async () => {
      const first = await placeOrder('order-1', kettle).expect(201);
      const second = await placeOrder('order-1', kettle).expect(201);

      expect(first.body).toEqual({ id: 'ord_1', sku: 'kettle', quantity: 1, status: 'placed' });
      expect(second.body).toEqual(first.body);
      expect(placed).toHaveBeenCalledTimes(1);
      await api().get('/orders').expect(200, [first.body]);
      expect(warehouse.requests).toBe(1);
    });

    it('places one order for duplicates sent at the same time', async () => {
      const answers = await Promise.all([
        placeOrder('order-2', kettle),
        placeOrder('order-2', kettle),
        placeOrder('order-2', kettle),
      ]);

      expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201]);
      expect(new Set(answers.map((answer) => answer.body.id))).toEqual(new Set(['ord_1']));
      expect(placed).toHaveBeenCalledTimes(1);
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
      await placeOrder('order-6', kettle).expect(502, badGateway);

      warehouse.setMode('healthy');
      const retried = await placeOrder('order-6', kettle).expect(201);

      expect(retried.body.id).toBe('ord_1');
      expect((await api().get('/orders')).body).toHaveLength(1);
    });

    it('answers 400 with the code STEADFAST_IDEMPOTENCY_KEY to a request without the header, and the handler does not run', async () => {
      const response = await api().post('/orders').send(kettle).expect(400);

      expect(response.body).toEqual(
        keyRefusal(
          'The idempotency-key header is required: send a key that names this operation, the same for every retry of it.',
        ),
      );
      expect(placed).not.toHaveBeenCalled();
      expect(warehouse.requests).toBe(0);
    });

    it('answers 400 to an empty key, a blank one and one of 256 characters; 255 characters are a key', async () => {
      const empty = await placeOrder('', kettle).expect(400);
      const blank = await placeOrder('   ', kettle).expect(400);
      const long = await placeOrder('k'.repeat(256), kettle).expect(400);

      expect(empty.body).toEqual(keyRefusal('The idempotency-key header is empty.'));
      expect(blank.body).toEqual(empty.body);
      expect(long.body).toEqual(
        keyRefusal('The idempotency-key header is longer than 255 characters.'),
      );
      expect(placed).not.toHaveBeenCalled();

      await placeOrder('k'.repeat(255), kettle).expect(201);
      expect(placed).toHaveBeenCalledTimes(1);
    });

    it('answers 400, before the handler runs, to a body the pipe refuses', async () => {
      await placeOrder('order-7', { sku: 'kettle', quantity: 0 }).expect(400);
      await placeOrder('order-7', { sku: 'kettle', quantity: 1, coupon: 'x' }).expect(400);

      expect(placed).not.toHaveBeenCalled();
      expect(warehouse.requests).toBe(0);
      await placeOrder('order-7', kettle).expect(201);
    });

    it('answers 422 when the stock is short, and the key may be used again', async () => {
      await placeOrder('order-8', { sku: 'grinder', quantity: 4 }).expect(422);
      await placeOrder('order-8', { sku: 'grinder', quantity: 4 }).expect(422);
      expect(warehouse.requests).toBe(2);
    });
  });

  it('keeps the guard of the warehouse switch and the 204 of its @HttpCode', async () => {
    await api().put('/warehouse/mode').send({ mode: 'hung' }).expect(204);
    expect(warehouse.currentMode()).toBe('hung');
    await api().put('/warehouse/mode').send({ mode: 'sideways' }).expect(400);
  });
});
