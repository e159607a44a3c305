import { Idempotent, MemoryStore, type IdempotencyStore } from '../../src';
import { RedisStore } from '../../src/redis';
import type { Operation } from '../harness/operations';
import { benchRedisUrl } from '../harness/redis-server';
import type { SetupContext, Variant } from '../harness/types';

/**
 * @Idempotent({ key }) on the same operation. `first`: every call brings a new key, so the body runs
 * and its result is recorded; `replay`: every call repeats one key whose result is recorded, so the
 * body never runs. The store is given per method, so each variant has its own.
 */
export function steadfastKeyed(storeKind: 'memory' | 'redis', mode: 'first' | 'replay'): Variant {
  return {
    name: `steadfast @Idempotent({ key }) ${mode === 'first' ? 'first call' : 'replay'}, ${storeKind === 'memory' ? 'MemoryStore' : 'RedisStore'}`,
    library: 'steadfast',
    config:
      `@Idempotent({ key: (id) => id, store }) with a ${storeKind === 'memory' ? 'MemoryStore (default 10 000 entries)' : 'RedisStore on a local redis-server (127.0.0.1, no persistence)'}; ` +
      (mode === 'first' ? 'a new key every call' : 'one key, recorded before measuring'),
    async setup(op: Operation, context: SetupContext) {
      const store: IdempotencyStore & { close?(): Promise<void> } =
        storeKind === 'memory'
          ? new MemoryStore()
          : new RedisStore(await benchRedisUrl(), { prefix: `bench:${context.key}` });
      class Service {
        @Idempotent({ key: (id: string) => id, store })
        call(_id: string): Promise<number> {
          return op();
        }
      }
      let n = 0;
      return {
        target: { service: new Service(), next: () => `k${n++}` },
        invoke: mode === 'first' ? 't.service.call(t.next())' : "t.service.call('recorded')",
        dispose: () => store.close?.(),
      };
    },
  };
}
