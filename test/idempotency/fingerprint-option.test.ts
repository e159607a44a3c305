import {
  ConfigError,
  configure,
  Idempotent,
  IdempotencyConflictError,
  MemoryStore,
} from '../../src';
import { decoratorMode, useHarness } from '../support/harness';
import { rejectionOf, thrownBy } from './support';

interface Transfer {
  readonly requestId: string;
  readonly cents: number;
  /** changes between retries of one logical request (a client timestamp, a trace id) */
  readonly sentAt: number;
}

describe(`@Idempotent({ fingerprint }) (${decoratorMode} decorators)`, () => {
  beforeEach(() => {
    useHarness();
    configure({ store: new MemoryStore() });
  });

  function defineTransfers() {
    const runs: Transfer[] = [];
    class Transfers {
      @Idempotent({
        key: (t: Transfer) => t.requestId,
        fingerprint: (t: Transfer) => ({ cents: t.cents }),
      })
      async send(transfer: Transfer): Promise<string> {
        runs.push(transfer);
        return `sent ${transfer.cents}`;
      }
    }
    return { transfers: new Transfers(), runs };
  }

  it('compares what it returns instead of the arguments: a changed field it leaves out is the same call', async () => {
    const { transfers, runs } = defineTransfers();

    await expect(transfers.send({ requestId: 't-1', cents: 500, sentAt: 1 })).resolves.toBe(
      'sent 500',
    );
    await expect(transfers.send({ requestId: 't-1', cents: 500, sentAt: 2 })).resolves.toBe(
      'sent 500',
    );
    expect(runs).toHaveLength(1);
  });

  it('still refuses the same key with a different fingerprint', async () => {
    const { transfers, runs } = defineTransfers();
    await transfers.send({ requestId: 't-1', cents: 500, sentAt: 1 });

    expect(
      await rejectionOf(transfers.send({ requestId: 't-1', cents: 700, sentAt: 1 })),
    ).toBeInstanceOf(IdempotencyConflictError);
    expect(runs).toHaveLength(1);
  });

  it('rejects the call before the body runs when the fingerprint function throws', async () => {
    let runs = 0;
    class Broken {
      @Idempotent({
        key: (id: string) => id,
        fingerprint: () => {
          throw new Error('no fingerprint');
        },
      })
      async run(id: string): Promise<string> {
        runs++;
        return id;
      }
    }

    expect(await rejectionOf(new Broken().run('b-1'))).toMatchObject({ message: 'no fingerprint' });
    expect(runs).toBe(0);
  });

  it('must be a function, and only applies with a key', () => {
    const notAFunction = thrownBy(() => {
      class Bad {
        @Idempotent({ key: (id: string) => id, fingerprint: 'cents' as never })
        async run(id: string): Promise<string> {
          return id;
        }
      }
      return Bad;
    });
    expect(notAFunction).toBeInstanceOf(ConfigError);
    expect(notAFunction).toMatchObject({ option: 'fingerprint' });

    const withoutKey = thrownBy(() => {
      class Bad {
        @Idempotent({ fingerprint: () => 1 } as never)
        async run(): Promise<string> {
          return 'x';
        }
      }
      return Bad;
    });
    expect(withoutKey).toBeInstanceOf(ConfigError);
    expect(withoutKey).toMatchObject({ option: 'fingerprint' });
  });
});
