import {
  configure,
  Idempotent,
  IdempotencyStoreError,
  MemoryStore,
  type IdempotencyStore,
} from '../../src';
import { decoratorMode, useHarness, type Harness } from '../support/harness';
import { RecordingStore, rejectionOf } from './support';

/** A store whose operations fail as a store that lost its database would. */
class BrokenStore extends RecordingStore {
  readonly failure = new Error('ECONNREFUSED 127.0.0.1:6379');
  broken: Partial<Record<'claim' | 'complete' | 'release', boolean>> = { claim: true };

  override claim(
    ...args: Parameters<IdempotencyStore['claim']>
  ): ReturnType<IdempotencyStore['claim']> {
    const result = super.claim(...args);
    return this.broken.claim ? Promise.reject(this.failure) : result;
  }

  override complete(...args: Parameters<IdempotencyStore['complete']>): Promise<void> {
    const result = super.complete(...args);
    return this.broken.complete ? Promise.reject(this.failure) : result;
  }

  override release(...args: Parameters<IdempotencyStore['release']>): Promise<void> {
    const result = super.release(...args);
    return this.broken.release ? Promise.reject(this.failure) : result;
  }
}

describe(`keyed @Idempotent when its store fails (${decoratorMode} decorators)`, () => {
  let h: Harness;
  beforeEach(() => {
    h = useHarness();
    configure({ store: new MemoryStore() });
  });
  afterAll(() => {
    configure({ store: new MemoryStore() });
  });

  it("rejects by default with IdempotencyStoreError whose cause is the store's error, and never runs the body", async () => {
    const store = new BrokenStore();
    let runs = 0;
    class Payments {
      @Idempotent({ key: (id: string) => id, store })
      async charge(id: string): Promise<string> {
        runs++;
        return `charged ${id}`;
      }
    }
    const payments = new Payments();

    const error = await rejectionOf(payments.charge('c-1'));
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect(error).toMatchObject({ code: 'STEADFAST_IDEMPOTENCY_STORE', method: 'Payments.charge' });
    expect((error as IdempotencyStoreError).cause).toBe(store.failure);
    expect(await rejectionOf(payments.charge('c-1'))).toBeInstanceOf(IdempotencyStoreError);
    expect(runs).toBe(0);
    expect(
      h.logger.at('error').filter((entry) => entry.message.includes('Payments.charge')),
    ).toHaveLength(2);
  });

  it("also rejects through the engine's store (configure({ store }))", async () => {
    const store = new BrokenStore();
    configure({ store });
    let runs = 0;
    class Payments {
      @Idempotent({ key: (id: string) => id })
      async charge(id: string): Promise<string> {
        runs++;
        return `charged ${id}`;
      }
    }
    expect(await rejectionOf(new Payments().charge('c-2'))).toBeInstanceOf(IdempotencyStoreError);
    expect(runs).toBe(0);
    expect(store.of('claim')).toHaveLength(1);
  });

  it("with onStoreError 'proceed', runs the body without deduplication and logs a warning", async () => {
    const store = new BrokenStore();
    let runs = 0;
    class Payments {
      @Idempotent({ key: (id: string) => id, store, onStoreError: 'proceed' })
      async charge(id: string): Promise<string> {
        runs++;
        return `charged ${id} #${runs}`;
      }
    }
    const payments = new Payments();

    expect(await payments.charge('c-3')).toBe('charged c-3 #1');
    expect(await payments.charge('c-3')).toBe('charged c-3 #2');
    expect(runs).toBe(2);
    const warnings = h.logger
      .at('warn')
      .filter((entry) => entry.message.includes('Payments.charge'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0].message).toContain('proceed');
    expect(warnings[0].fields.error).toBe(store.failure);
  });

  it("returns the body's result when only recording it fails, and logs that at error", async () => {
    const store = new BrokenStore();
    store.broken = { complete: true };
    let runs = 0;
    class Payments {
      @Idempotent({ key: (id: string) => id, store })
      async charge(id: string): Promise<string> {
        runs++;
        return `charged ${id}`;
      }
    }
    expect(await new Payments().charge('c-5')).toBe('charged c-5');
    expect(runs).toBe(1);
    expect(
      h.logger.at('error').some((entry) => entry.message.includes('could not be recorded')),
    ).toBe(true);
  });

  it("rejects with the body's own error when releasing the claim fails, and logs that the claim will lapse", async () => {
    const store = new BrokenStore();
    store.broken = { release: true };
    const declined = new Error('card declined');
    class Payments {
      @Idempotent({ key: (id: string) => id, store, lease: 5_000 })
      async charge(_id: string): Promise<string> {
        throw declined;
      }
    }
    expect(await rejectionOf(new Payments().charge('c-6'))).toBe(declined);
    expect(
      h.logger.at('error').some((entry) => entry.message.includes('lapses after 5000 ms')),
    ).toBe(true);
  });
});
