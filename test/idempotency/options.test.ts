import {
  ConfigError,
  configure,
  Idempotent,
  IdempotencyKeyError,
  MemoryStore,
  type IdempotentOptions,
} from '../../src';
import { decoratorMode, useHarness } from '../support/harness';
import { rejectionOf, thrownBy } from './support';

/** How a method is named at class definition: `Class.method` in legacy mode, `method` in standard. */
const definedAs = (className: string, method: string): string =>
  decoratorMode === 'legacy' ? `${className}.${method}` : method;

function define(options: unknown): unknown {
  return thrownBy(() => {
    class Orders {
      @Idempotent(options as IdempotentOptions)
      async create(_id: string): Promise<string> {
        return 'created';
      }
    }
    return Orders;
  });
}

describe(`@Idempotent options (${decoratorMode} decorators)`, () => {
  beforeEach(() => {
    useHarness();
    configure({ store: new MemoryStore() });
  });
  afterAll(() => {
    configure({ store: new MemoryStore() });
  });

  const key = (id: string): string => id;
  const bad: [string, unknown, string][] = [
    ['ttl without a key', { ttl: 1_000 }, 'ttl'],
    ['lease without a key', { lease: 1_000 }, 'lease'],
    ['onStoreError without a key', { onStoreError: 'proceed' }, 'onStoreError'],
    ['ttl 0', { key, ttl: 0 }, 'ttl'],
    ['ttl -1', { key, ttl: -1 }, 'ttl'],
    ['ttl NaN', { key, ttl: Number.NaN }, 'ttl'],
    ['ttl as a string', { key, ttl: '1000' }, 'ttl'],
    ['lease 0', { key, lease: 0 }, 'lease'],
    ['lease NaN', { key, lease: Number.NaN }, 'lease'],
    ['wait -1', { key, wait: -1 }, 'wait'],
    ['wait NaN', { key, wait: Number.NaN }, 'wait'],
    ["onStoreError 'x'", { key, onStoreError: 'x' }, 'onStoreError'],
    ['store {}', { key, store: {} }, 'store'],
    ['store without release()', { key, store: { claim() {}, complete() {}, read() {} } }, 'store'],
    ['key not a function', { key: 'requestId' }, 'key'],
    ['an unknown option', { key, ttll: 5 }, 'ttll'],
    ['options that are not an object', 'requestId', ''],
  ];

  it.each(bad)(
    'refuses %s with a ConfigError when the class is defined',
    (_what, options, option) => {
      const error = define(options);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({
        code: 'STEADFAST_CONFIG',
        method: definedAs('Orders', 'create'),
      });
      if (option !== '') {
        expect((error as ConfigError).option).toBe(option);
        expect((error as ConfigError).message).toContain(option);
      }
      expect((error as ConfigError).message).toContain('@Idempotent');
    },
  );

  it('accepts wait 0 and the documented options together', () => {
    expect(() => {
      class Orders {
        @Idempotent({
          key: (id: string) => id,
          ttl: 5_000,
          lease: 1_000,
          wait: 0,
          onStoreError: 'proceed',
          store: new MemoryStore(),
        })
        async create(_id: string): Promise<string> {
          return 'created';
        }
      }
      return Orders;
    }).not.toThrow();
  });

  const badKeys: [string, unknown][] = [
    ["''", ''],
    ['undefined', undefined],
    ['null', null],
    ['NaN', Number.NaN],
    ['an object', { id: 1 }],
  ];

  it.each(badKeys)(
    'rejects a call whose key function returns %s with IdempotencyKeyError, without running the body',
    async (_what, returned) => {
      let runs = 0;
      class Orders {
        @Idempotent({ key: (_id: string) => returned as string })
        async create(_id: string): Promise<string> {
          runs++;
          return 'created';
        }
      }
      const error = await rejectionOf(new Orders().create('o-1'));
      expect(error).toBeInstanceOf(IdempotencyKeyError);
      expect(error).toMatchObject({ code: 'STEADFAST_IDEMPOTENCY_KEY', method: 'Orders.create' });
      expect((error as Error).message).toMatch(/the key function returned/);
      expect(runs).toBe(0);
    },
  );

  it('rejects a call whose key function throws with that error, without running the body', async () => {
    const broken = new TypeError("Cannot read properties of undefined (reading 'requestId')");
    let runs = 0;
    class Orders {
      @Idempotent({
        key: (_req: { requestId: string }) => {
          throw broken;
        },
      })
      async create(_req: { requestId: string }): Promise<string> {
        runs++;
        return 'created';
      }
    }
    expect(await rejectionOf(new Orders().create({ requestId: 'x' }))).toBe(broken);
    expect(runs).toBe(0);
  });

  it('rejects arguments with a cycle (they cannot be fingerprinted), without running the body', async () => {
    let runs = 0;
    class Orders {
      @Idempotent({ key: (req: { id: string }) => req.id })
      async create(_req: { id: string }): Promise<string> {
        runs++;
        return 'created';
      }
    }
    const req: { id: string; self?: unknown } = { id: 'c' };
    req.self = req;
    expect(await rejectionOf(new Orders().create(req))).toBeInstanceOf(Error);
    expect(runs).toBe(0);
  });
});
