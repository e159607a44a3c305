import { Idempotent, Retryable } from '../../src';
import { useHarness, decoratorMode } from '../support/harness';
import { rejectionOf, resultOf } from './support/services';

describe(`a decorated method's call (${decoratorMode})`, () => {
  describe('always returns a Promise', () => {
    it('rejects, rather than throws, when the body throws synchronously, and retries that failure', async () => {
      const h = useHarness();
      const error = new Error('thrown before any await');
      let runs = 0;
      class Sync {
        @Idempotent()
        @Retryable({ maxAttempts: 3 })
        load(): Promise<string> {
          runs++;
          throw error;
        }
      }
      const service = new Sync();

      let call: Promise<string> | undefined;
      expect(() => {
        call = service.load();
      }).not.toThrow();

      expect(call).toBeInstanceOf(Promise);
      expect(await rejectionOf(h.clock, call as Promise<string>)).toBe(error);
      expect(runs).toBe(3);
    });

    it('resolves with the value when the body returns a non-promise', async () => {
      const h = useHarness();
      const value = { plain: true };
      class Plain {
        @Idempotent()
        @Retryable({ maxAttempts: 3 })
        load(): Promise<{ plain: boolean }> {
          return value as unknown as Promise<{ plain: boolean }>;
        }
      }

      const call = new Plain().load();

      expect(call).toBeInstanceOf(Promise);
      expect(await resultOf(h.clock, call)).toBe(value);
    });

    it('resolves with the resolved value of a thenable the body returns', async () => {
      const h = useHarness();
      class Thenable {
        @Idempotent()
        @Retryable({ maxAttempts: 3 })
        load(): Promise<number> {
          const thenable = { then: (resolve: (value: number) => void) => resolve(42) };
          return thenable as unknown as Promise<number>;
        }
      }

      const call = new Thenable().load();

      expect(call).toBeInstanceOf(Promise);
      expect(await resultOf(h.clock, call)).toBe(42);
    });

    it('rejects, rather than throws, for an @Idempotent method without @Retryable', async () => {
      const error = new Error('sync');
      class OnlyIdempotent {
        @Idempotent()
        load(): Promise<void> {
          throw error;
        }
      }

      let call: Promise<void> | undefined;
      expect(() => {
        call = new OnlyIdempotent().load();
      }).not.toThrow();
      await expect(call).rejects.toBe(error);
    });
  });

  describe('passes this and the arguments to the body unchanged', () => {
    it('on every attempt, with the same instance and the same argument objects', async () => {
      const h = useHarness();
      const seen: { self: unknown; args: unknown[] }[] = [];
      class Orders {
        readonly region = 'eu';

        @Idempotent()
        @Retryable({ maxAttempts: 3 })
        async find(
          ...args: [string, { limit: number }, number[], undefined, null]
        ): Promise<string> {
          seen.push({ self: this, args });
          if (seen.length < 3) throw new Error('retry me');
          return `${this.region}:${args[0]}`;
        }
      }
      const orders = new Orders();
      const filter = { limit: 10 };
      const ids = [1, 2, 3];

      expect(await resultOf(h.clock, orders.find('o-1', filter, ids, undefined, null))).toBe(
        'eu:o-1',
      );

      expect(seen).toHaveLength(3);
      for (const { self, args } of seen) {
        expect(self).toBe(orders);
        expect(args).toHaveLength(5);
        expect(args[0]).toBe('o-1');
        expect(args[1]).toBe(filter);
        expect(args[2]).toBe(ids);
        expect(args[3]).toBeUndefined();
        expect(args[4]).toBeNull();
      }
    });

    it('keeps the number of arguments given, fewer than declared', async () => {
      const h = useHarness();
      const counts: number[] = [];
      class Counter {
        @Idempotent()
        @Retryable({ maxAttempts: 2 })
        async count(a?: number, b?: number, c?: number): Promise<number> {
          counts.push(arguments.length);
          return (a ?? 0) + (b ?? 0) + (c ?? 0);
        }
      }

      expect(await resultOf(h.clock, new Counter().count(1, 2))).toBe(3);
      expect(counts).toEqual([2]);
    });

    it('binds this to the instance it is called on, not the one that declared it', async () => {
      const h = useHarness();
      class Greeter {
        constructor(readonly name: string) {}

        @Idempotent()
        @Retryable({ maxAttempts: 2 })
        async greet(): Promise<string> {
          return `hello from ${this.name}`;
        }
      }
      const ada = new Greeter('ada');
      const bob = new Greeter('bob');

      expect(await resultOf(h.clock, ada.greet())).toBe('hello from ada');
      expect(await resultOf(h.clock, bob.greet())).toBe('hello from bob');
      expect(await resultOf(h.clock, ada.greet.call(bob))).toBe('hello from bob');
    });

    it('binds this to the class for a static method', async () => {
      const h = useHarness();
      let self: unknown;
      class Registry {
        @Idempotent()
        @Retryable({ maxAttempts: 2 })
        static async lookup(key: string): Promise<string> {
          self = this;
          return key.toUpperCase();
        }
      }

      expect(await resultOf(h.clock, Registry.lookup('k'))).toBe('K');
      expect(self).toBe(Registry);
    });

    it('resolves with the body’s value itself, not a copy', async () => {
      const h = useHarness();
      const record = { id: 1 };
      class Store {
        @Idempotent()
        @Retryable({ maxAttempts: 2 })
        async get(): Promise<{ id: number }> {
          return record;
        }
      }

      expect(await resultOf(h.clock, new Store().get())).toBe(record);
    });
  });
});
