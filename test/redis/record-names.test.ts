import { ConfigError, configure, Idempotent, MemoryStore, type IdempotencyStore } from '../../src';
import { RedisStore } from '../../src/redis';
import { decoratorMode, useHarness } from '../support/harness';
import { RedisServer } from '../support/redis-server';
import { describeWithRedis } from '../support/describe-with-redis';
import { rejectionOf } from '../idempotency/support';

function defineBilling(tag: string, store: IdempotencyStore, name?: string) {
  const body = { runs: 0 };
  class Billing {
    @Idempotent({
      key: (orderId: string) => orderId,
      store,
      ...(name === undefined ? {} : { name }),
    })
    async charge(orderId: string): Promise<string> {
      body.runs++;
      return `${orderId} charged by ${tag}`;
    }
  }
  return { billing: new Billing(), body };
}

describeWithRedis(
  `keyed methods of the same name on one Redis (${decoratorMode} decorators)`,
  () => {
    let server: RedisServer;
    const stores: RedisStore[] = [];
    const storeOn = (prefix = 'steadfast'): RedisStore => {
      const store = new RedisStore(server.url, { prefix });
      stores.push(store);
      return store;
    };

    beforeAll(async () => {
      server = await RedisServer.start();
    });
    afterAll(async () => {
      await Promise.all(stores.map((store) => store.close()));
      configure({ store: new MemoryStore() });
      await server.stop();
    });
    beforeEach(() => useHarness());

    it('refuses a second class of the same name in one process, before its body runs', async () => {
      const store = storeOn('names-1');
      const first = defineBilling('module A', store);
      const second = defineBilling('module B', store);

      await expect(first.billing.charge('order-1')).resolves.toBe('order-1 charged by module A');
      const error = await rejectionOf(second.billing.charge('order-1'));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ option: 'name' });
      expect(second.body.runs).toBe(0);
    });

    it('keeps two services apart by name, and one operation of two processes together', async () => {
      const processA = storeOn('names-2');
      const processB = storeOn('names-2');
      const tenantA = defineBilling('tenant A', processA, 'tenant-a/Billing.charge');
      const tenantB = defineBilling('tenant B', processA, 'tenant-b/Billing.charge');
      const tenantAElsewhere = defineBilling(
        'tenant A, process B',
        processB,
        'tenant-a/Billing.charge',
      );

      await expect(tenantA.billing.charge('order-1')).resolves.toBe('order-1 charged by tenant A');
      await expect(tenantB.billing.charge('order-1')).resolves.toBe('order-1 charged by tenant B');
      await expect(tenantAElsewhere.billing.charge('order-1')).resolves.toBe(
        'order-1 charged by tenant A',
      );
      expect([tenantA.body.runs, tenantB.body.runs, tenantAElsewhere.body.runs]).toEqual([1, 1, 0]);
    });

    it('keeps two services apart by prefix: records under one prefix are invisible under another', async () => {
      const serviceA = defineBilling('service A', storeOn('service-a'));
      const serviceB = defineBilling('service B', storeOn('service-b'));

      await expect(serviceA.billing.charge('order-1')).resolves.toBe(
        'order-1 charged by service A',
      );
      await expect(serviceB.billing.charge('order-1')).resolves.toBe(
        'order-1 charged by service B',
      );
    });
  },
);
