import { ConfigError, configure, Idempotent, MemoryStore, type IdempotencyStore } from '../../src';
import { decoratorMode, useHarness } from '../support/harness';
import { processView, rejectionOf } from './support';
import { thrownBy } from '../decorators/helpers';

interface Billing {
  charge(orderId: string): Promise<string>;
  readonly runs: number;
}

/** A class named `Billing` as a module (or a tenant's service) defines it; each call defines a new one. */
function defineBilling(
  tag: string,
  options: { store?: IdempotencyStore; name?: string } = {},
): Billing {
  class Billing {
    runs = 0;

    @Idempotent({ key: (orderId: string) => orderId, ...options })
    async charge(orderId: string): Promise<string> {
      this.runs++;
      return `${orderId} charged by ${tag}`;
    }
  }
  return new Billing();
}

describe(`the records of keyed methods are kept apart by method (${decoratorMode} decorators)`, () => {
  beforeEach(() => {
    useHarness();
    configure({ store: new MemoryStore() });
  });
  afterAll(() => {
    configure({ store: new MemoryStore() });
  });

  it('never lets a second class that shares the name replay the first one’s record (the engine’s MemoryStore)', async () => {
    const first = defineBilling('module A');
    const second = defineBilling('module B');

    await expect(first.charge('order-1')).resolves.toBe('order-1 charged by module A');
    await expect(second.charge('order-1')).resolves.toBe('order-1 charged by module B');
    await expect(second.charge('order-1')).resolves.toBe('order-1 charged by module B');
    expect([first.runs, second.runs]).toEqual([1, 1]);
  });

  it('keeps apart two classes that a factory defines (one name, one method)', async () => {
    const define = (tag: string) => {
      class Lookup {
        runs = 0;
        @Idempotent({ key: (id: string) => id })
        async get(id: string): Promise<string> {
          this.runs++;
          return `${id} from ${tag}`;
        }
      }
      return new Lookup();
    };
    const [one, two] = [define('one'), define('two')];

    await expect(one.get('x')).resolves.toBe('x from one');
    await expect(two.get('x')).resolves.toBe('x from two');
    expect([one.runs, two.runs]).toEqual([1, 1]);
  });

  it('refuses, before the body runs, a second class of the same name keeping records in one shared store', async () => {
    const shared = processView(new MemoryStore());
    const first = defineBilling('module A', { store: shared });
    const second = defineBilling('module B', { store: shared });

    await expect(first.charge('order-1')).resolves.toBe('order-1 charged by module A');
    const error = await rejectionOf(second.charge('order-1'));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ option: 'name', method: 'Billing.charge' });
    expect((error as Error).message).toMatch(
      /give each @Idempotent\(\{ key, name \}\) a name of its own/,
    );
    expect(second.runs).toBe(0);
  });

  it('keeps them apart in a shared store once each has a name of its own', async () => {
    const shared = processView(new MemoryStore());
    const first = defineBilling('module A', { store: shared, name: 'tenant-a.billing.charge' });
    const second = defineBilling('module B', { store: shared, name: 'tenant-b.billing.charge' });

    await expect(first.charge('order-1')).resolves.toBe('order-1 charged by module A');
    await expect(second.charge('order-1')).resolves.toBe('order-1 charged by module B');
    expect([first.runs, second.runs]).toEqual([1, 1]);
  });

  it('shares records between definitions of one method that give the same name (the user says so)', async () => {
    const first = defineBilling('first load', { name: 'billing.charge' });
    const second = defineBilling('second load', { name: 'billing.charge' });

    await expect(first.charge('order-1')).resolves.toBe('order-1 charged by first load');
    await expect(second.charge('order-1')).resolves.toBe('order-1 charged by first load');
    expect([first.runs, second.runs]).toEqual([1, 0]);
  });

  it('shares records across processes: one name is one operation for the fleet', async () => {
    const shared = new MemoryStore();
    // Two processes run the same code, each with its own connection to the shared store.
    const processA = defineBilling('process A', { store: processView(shared) });
    const processB = defineBilling('process B', { store: processView(shared) });

    await expect(processA.charge('order-1')).resolves.toBe('order-1 charged by process A');
    await expect(processB.charge('order-1')).resolves.toBe('order-1 charged by process A');
    expect([processA.runs, processB.runs]).toEqual([1, 0]);
  });

  it('refuses a name that another method already uses: at definition in legacy mode, else at the first call', async () => {
    class Invoices {
      @Idempotent({ key: (id: string) => id, name: 'billing.documents' })
      async issue(id: string): Promise<string> {
        return id;
      }
    }
    await expect(new Invoices().issue('i-1')).resolves.toBe('i-1');

    let runs = 0;
    const defineCredits = () => {
      class Credits {
        @Idempotent({ key: (id: string) => id, name: 'billing.documents' })
        async issue(id: string): Promise<string> {
          runs++;
          return id;
        }
      }
      return new Credits();
    };
    const refusal =
      decoratorMode === 'legacy'
        ? thrownBy(defineCredits)
        : await rejectionOf(defineCredits().issue('c-1'));
    expect(refusal).toBeInstanceOf(ConfigError);
    expect(refusal).toMatchObject({ option: 'name' });
    expect((refusal as Error).message).toMatch(/already named by Invoices\.issue/);
    expect(runs).toBe(0);
  });

  it('refuses a name that is not a non-empty string, at definition', () => {
    for (const name of ['', 42, null]) {
      const error = thrownBy(() => {
        class Bad {
          @Idempotent({ key: (id: string) => id, name: name as string })
          async run(id: string): Promise<string> {
            return id;
          }
        }
        return Bad;
      });
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ option: 'name' });
    }
  });
});
