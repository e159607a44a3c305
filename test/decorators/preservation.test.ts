import 'reflect-metadata';
import { Idempotent, NotIdempotentError, Retryable } from '../../src';
import { decoratorMode, useHarness } from '../support/harness';
import { itInLegacyMode, onFunction, onPrototypeKey, settle, spyDecorator } from './helpers';

class Flaky extends Error {}

describe(`a decorated method keeps what it was (${decoratorMode} decorators)`, () => {
  describe('name and length', () => {
    it('keeps its name and length, in either order and for statics', () => {
      class Orders {
        @Idempotent()
        @Retryable()
        async place(_customer: string, _items: string[], _note?: string): Promise<void> {}

        @Retryable()
        @Idempotent()
        async cancel(_orderId: string): Promise<void> {}

        @Idempotent()
        async list(): Promise<void> {}

        @Retryable()
        async unmarked(_a: number, _b: number): Promise<void> {}

        @Idempotent()
        @Retryable()
        static async purge(_before: Date, _dryRun = false): Promise<void> {}
      }

      expect([Orders.prototype.place.name, Orders.prototype.place.length]).toEqual(['place', 3]);
      expect([Orders.prototype.cancel.name, Orders.prototype.cancel.length]).toEqual(['cancel', 1]);
      expect([Orders.prototype.list.name, Orders.prototype.list.length]).toEqual(['list', 0]);
      expect([Orders.prototype.unmarked.name, Orders.prototype.unmarked.length]).toEqual([
        'unmarked',
        2,
      ]);
      expect([Orders.purge.name, Orders.purge.length]).toEqual(['purge', 1]);
    });

    it('shows a decorator written above it a function with the method name and length', () => {
      const seen: ((...args: never[]) => unknown)[] = [];
      class Orders {
        @spyDecorator(seen)
        @Idempotent()
        @Retryable()
        async place(_customer: string, _items: string[]): Promise<void> {}
      }

      expect(seen).toHaveLength(1);
      expect(seen[0]).toBe(Orders.prototype.place);
      expect([seen[0]?.name, seen[0]?.length]).toEqual(['place', 2]);
    });
  });

  describe('this, arguments and result', () => {
    it('calls every attempt with the instance as this and the very same arguments', async () => {
      const h = useHarness();
      const calls: { self: unknown; args: unknown[] }[] = [];
      const result = { id: 'order-1' };
      class Orders {
        readonly region = 'eu';

        @Idempotent()
        @Retryable({ maxAttempts: 3, jitter: 'none' })
        async place(...args: unknown[]): Promise<{ id: string }> {
          calls.push({ self: this, args });
          if (calls.length < 3) throw new Flaky('flaky');
          return result;
        }
      }
      const orders = new Orders();
      const customer = { name: 'Ada' };
      const items = ['book'];

      const outcome = settle(orders.place(customer, items, undefined));
      await h.clock.runAll();

      expect((await outcome).value).toBe(result);
      expect(calls).toHaveLength(3);
      for (const call of calls) {
        expect(call.self).toBe(orders);
        expect(call.args).toHaveLength(3);
        expect(call.args[0]).toBe(customer);
        expect(call.args[1]).toBe(items);
        expect(call.args[2]).toBeUndefined();
      }
    });

    it('calls a static method with the class as this, and an inherited one with the subclass', async () => {
      useHarness();
      const selves: unknown[] = [];
      class Jobs {
        @Idempotent()
        @Retryable()
        static async run(): Promise<string> {
          selves.push(this);
          return this.name;
        }
      }
      class NightlyJobs extends Jobs {}

      await expect(Jobs.run()).resolves.toBe('Jobs');
      await expect(NightlyJobs.run()).resolves.toBe('NightlyJobs');
      expect(selves).toEqual([Jobs, NightlyJobs]);
    });

    it('calls a method with an explicitly bound this, as with call and apply', async () => {
      useHarness();
      class Orders {
        constructor(readonly region: string) {}

        @Idempotent()
        @Retryable()
        async where(): Promise<string> {
          return this.region;
        }
      }
      const eu = new Orders('eu');
      const us = new Orders('us');

      await expect(eu.where.call(us)).resolves.toBe('us');
      await expect(Orders.prototype.where.apply(eu, [])).resolves.toBe('eu');
      await expect(eu.where.bind(us)()).resolves.toBe('us');
    });

    it('returns the very value the method resolves with, without copying it', async () => {
      useHarness();
      const value = { nested: { list: [1, 2, 3] } };
      class Store {
        @Idempotent()
        async plain(): Promise<typeof value> {
          return value;
        }

        @Idempotent()
        @Retryable()
        async retried(): Promise<typeof value> {
          return value;
        }
      }
      const store = new Store();

      await expect(store.plain()).resolves.toBe(value);
      await expect(store.retried()).resolves.toBe(value);
    });

    it('rejects with the very error the method throws', async () => {
      useHarness();
      const failure = new Flaky('not found');
      class Store {
        @Idempotent()
        async plain(): Promise<void> {
          throw failure;
        }
      }

      await expect(new Store().plain()).rejects.toBe(failure);
    });
  });

  describe('always a Promise', () => {
    it('returns a Promise from a marked, a retried and a refused method alike', async () => {
      useHarness();
      class Store {
        @Idempotent()
        async plain(): Promise<number> {
          return 1;
        }

        @Idempotent()
        @Retryable()
        async retried(): Promise<number> {
          return 2;
        }

        @Retryable()
        async refused(): Promise<number> {
          return 3;
        }
      }
      const store = new Store();

      const results = [store.plain(), store.retried(), store.refused()];

      for (const result of results) expect(result).toBeInstanceOf(Promise);
      await expect(results[0]).resolves.toBe(1);
      await expect(results[1]).resolves.toBe(2);
      await expect(results[2]).rejects.toBeInstanceOf(NotIdempotentError);
    });

    it('turns a body that throws synchronously into a rejection, never a throw', async () => {
      useHarness();
      const failure = new Flaky('sync');
      class Store {
        @Idempotent()
        plain(): Promise<number> {
          throw failure;
        }
      }
      const store = new Store();

      let returned: Promise<number> | undefined;
      expect(() => {
        returned = store.plain();
      }).not.toThrow();
      expect(returned).toBeInstanceOf(Promise);
      await expect(returned).rejects.toBe(failure);
    });

    it('retries a body that throws synchronously, then rejects with its last error', async () => {
      const h = useHarness();
      const failures = [new Flaky('first'), new Flaky('second')];
      let runs = 0;
      class Store {
        @Idempotent()
        @Retryable({ maxAttempts: 2, jitter: 'none' })
        retried(): Promise<number> {
          throw failures[runs++];
        }
      }
      const store = new Store();

      let returned: Promise<number> | undefined;
      expect(() => {
        returned = store.retried();
      }).not.toThrow();
      const outcome = settle(returned as Promise<number>);
      await h.clock.runAll();

      expect((await outcome).error).toBe(failures[1]);
      expect(runs).toBe(2);
    });

    it('wraps a plain value returned by a body that breaks its Promise type', async () => {
      useHarness();
      class Store {
        @Idempotent()
        plain(): Promise<number> {
          return 42 as unknown as Promise<number>;
        }

        @Idempotent()
        @Retryable()
        retried(): Promise<number> {
          return 43 as unknown as Promise<number>;
        }
      }
      const store = new Store();

      const plain = store.plain();
      const retried = store.retried();

      expect(plain).toBeInstanceOf(Promise);
      expect(retried).toBeInstanceOf(Promise);
      await expect(plain).resolves.toBe(42);
      await expect(retried).resolves.toBe(43);
    });
  });

  describe('reflect-metadata written by other decorators', () => {
    const guards = [class AuthGuard {}];

    it('survives on the method function whether written above, between or below, in either order', () => {
      class Controller {
        @onFunction('route:path', '/1')
        @onFunction('guards', guards)
        @Idempotent()
        @Retryable()
        async aboveBoth(): Promise<void> {}

        @Idempotent()
        @onFunction('route:path', '/2')
        @onFunction('guards', guards)
        @Retryable()
        async between(): Promise<void> {}

        @Idempotent()
        @Retryable()
        @onFunction('route:path', '/3')
        @onFunction('guards', guards)
        async belowBoth(): Promise<void> {}

        @onFunction('route:path', '/4')
        @onFunction('guards', guards)
        @Retryable()
        @Idempotent()
        async aboveBothReversed(): Promise<void> {}

        @Retryable()
        @onFunction('route:path', '/5')
        @onFunction('guards', guards)
        @Idempotent()
        async betweenReversed(): Promise<void> {}

        @Retryable()
        @Idempotent()
        @onFunction('route:path', '/6')
        @onFunction('guards', guards)
        async belowBothReversed(): Promise<void> {}

        @onFunction('route:path', '/7')
        @Idempotent()
        @onFunction('guards', guards)
        async idempotentOnly(): Promise<void> {}

        @Retryable()
        @onFunction('route:path', '/8')
        @onFunction('guards', guards)
        async unmarked(): Promise<void> {}

        @onFunction('route:path', '/9')
        @Idempotent()
        @Retryable()
        @onFunction('guards', guards)
        static async staticMethod(): Promise<void> {}
      }
      const proto = Controller.prototype;
      const methods = [
        proto.aboveBoth,
        proto.between,
        proto.belowBoth,
        proto.aboveBothReversed,
        proto.betweenReversed,
        proto.belowBothReversed,
        proto.idempotentOnly,
        proto.unmarked,
        Controller.staticMethod,
      ];

      expect(methods.map((method) => Reflect.getMetadata('route:path', method))).toEqual([
        '/1',
        '/2',
        '/3',
        '/4',
        '/5',
        '/6',
        '/7',
        '/8',
        '/9',
      ]);
      for (const method of methods) {
        expect(Reflect.getOwnMetadata('guards', method)).toBe(guards);
      }
    });

    it('survives alongside a working method: the metadata is on the very function that retries', async () => {
      const h = useHarness();
      let runs = 0;
      class Controller {
        @Idempotent()
        @Retryable({ maxAttempts: 2, jitter: 'none' })
        @onFunction('route:path', '/orders')
        async list(): Promise<string> {
          if (++runs < 2) throw new Flaky('flaky');
          return 'orders';
        }
      }
      const controller = new Controller();

      const outcome = settle(controller.list());
      await h.clock.runAll();

      expect((await outcome).value).toBe('orders');
      expect(runs).toBe(2);
      expect(Reflect.getMetadata('route:path', controller.list)).toBe('/orders');
    });

    itInLegacyMode(
      'survives on (prototype, key) whether written above, between or below (legacy only: standard decorators are not given the prototype)',
      () => {
        class Controller {
          @onPrototypeKey('pipes', 'above')
          @Idempotent()
          @Retryable()
          async above(): Promise<void> {}

          @Idempotent()
          @onPrototypeKey('pipes', 'between')
          @Retryable()
          async between(): Promise<void> {}

          @Retryable()
          @Idempotent()
          @onPrototypeKey('pipes', 'below')
          async below(): Promise<void> {}
        }

        expect(Reflect.getMetadata('pipes', Controller.prototype, 'above')).toBe('above');
        expect(Reflect.getMetadata('pipes', Controller.prototype, 'between')).toBe('between');
        expect(Reflect.getMetadata('pipes', Controller.prototype, 'below')).toBe('below');
      },
    );

    itInLegacyMode(
      'keeps design:paramtypes and design:returntype readable (legacy only: emitDecoratorMetadata exists only for legacy decorators)',
      () => {
        class Controller {
          @Idempotent()
          @Retryable()
          async find(_id: string, _limit: number, _deep: boolean): Promise<string> {
            return 'found';
          }

          @Retryable()
          @Idempotent()
          static async count(_filter: string): Promise<number> {
            return 0;
          }
        }

        expect(Reflect.getMetadata('design:paramtypes', Controller.prototype, 'find')).toEqual([
          String,
          Number,
          Boolean,
        ]);
        expect(Reflect.getMetadata('design:returntype', Controller.prototype, 'find')).toBe(
          Promise,
        );
        expect(Reflect.getMetadata('design:type', Controller.prototype, 'find')).toBe(Function);
        expect(Reflect.getMetadata('design:paramtypes', Controller, 'count')).toEqual([String]);
        expect(Reflect.getMetadata('design:returntype', Controller, 'count')).toBe(Promise);
      },
    );
  });
});
