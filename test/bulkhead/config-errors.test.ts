import { Bulkhead } from '../../src';
import { decoratorMode, expectConfigError, uniqueName, rawDecorator } from '../pipeline/support';

/** [what is wrong, the option named, the decorator's arguments] */
const invalid: [string, string, unknown[]][] = [
  ['maxConcurrent 0', 'maxConcurrent', [0]],
  ['maxConcurrent -1', 'maxConcurrent', [-1]],
  ['maxConcurrent 1.5', 'maxConcurrent', [1.5]],
  ['maxConcurrent NaN', 'maxConcurrent', [NaN]],
  ['maxConcurrent Infinity', 'maxConcurrent', [Infinity]],
  ["maxConcurrent '2' (positional)", 'maxConcurrent', ['2', 1]],
  ['maxQueued -1 (positional)', 'maxQueued', [2, -1]],
  ['maxQueued 0.5 (positional)', 'maxQueued', [2, 0.5]],
  ['maxConcurrent missing', 'maxConcurrent', [{ maxQueued: 2 }]],
  ["maxConcurrent '2'", 'maxConcurrent', [{ maxConcurrent: '2' }]],
  ['maxQueued -1', 'maxQueued', [{ maxConcurrent: 1, maxQueued: -1 }]],
  ['maxQueued NaN', 'maxQueued', [{ maxConcurrent: 1, maxQueued: NaN }]],
  ['queueTimeout 0', 'queueTimeout', [{ maxConcurrent: 1, maxQueued: 1, queueTimeout: 0 }]],
  ['queueTimeout -5', 'queueTimeout', [{ maxConcurrent: 1, maxQueued: 1, queueTimeout: -5 }]],
  ['queueTimeout NaN', 'queueTimeout', [{ maxConcurrent: 1, maxQueued: 1, queueTimeout: NaN }]],
  ["queueTimeout '1s'", 'queueTimeout', [{ maxConcurrent: 1, maxQueued: 1, queueTimeout: '1s' }]],
  ['queueTimeout without maxQueued', 'queueTimeout', [{ maxConcurrent: 1, queueTimeout: 100 }]],
  [
    'queueTimeout with maxQueued 0',
    'queueTimeout',
    [{ maxConcurrent: 1, maxQueued: 0, queueTimeout: 100 }],
  ],
  ["name ''", 'name', [{ maxConcurrent: 1, name: '' }]],
  ['name 5', 'name', [{ maxConcurrent: 1, name: 5 }]],
  ["scope 'process'", 'scope', [{ maxConcurrent: 1, scope: 'process' }]],
  ['the unknown option maxConcurrency (a typo)', 'maxConcurrency', [{ maxConcurrency: 1 }]],
  ['null', 'options', [null]],
];

function defineWith(params: unknown[]): () => unknown {
  return () => {
    class Inventory {
      @rawDecorator(Bulkhead, params)
      async reserve(): Promise<string> {
        return 'reserved';
      }
    }
    return Inventory;
  };
}

describe(`@Bulkhead refuses bad options when the class is defined (${decoratorMode} decorators)`, () => {
  it.each(invalid)(
    'refuses %s with a ConfigError naming the option and the method',
    (_what, option, params) => {
      expectConfigError(defineWith(params), option, 'Inventory', 'reserve');
    },
  );

  it.each([
    ['no argument', []],
    ['three arguments', [1, 1, 1]],
  ])('refuses %s with a ConfigError naming the method', (_what, params) => {
    expectConfigError(defineWith(params), undefined, 'Inventory', 'reserve');
  });

  it('refuses a second @Bulkhead on one method', () => {
    expectConfigError(
      () => {
        class Inventory {
          @Bulkhead(1)
          @Bulkhead(2)
          async reserve(): Promise<string> {
            return 'reserved';
          }
        }
        return Inventory;
      },
      undefined,
      'Inventory',
      'reserve',
    );
  });

  it('refuses one name declared with different limits, naming the option name', () => {
    const name = uniqueName('conflict');
    class Inventory {
      @Bulkhead({ name, maxConcurrent: 1 })
      async reserve(): Promise<string> {
        return 'reserved';
      }
    }
    expect(Inventory).toBeDefined();
    expectConfigError(
      () => {
        class Shipping {
          @Bulkhead({ name, maxConcurrent: 5 })
          async book(): Promise<string> {
            return 'booked';
          }
        }
        return Shipping;
      },
      'name',
      'Shipping',
      'book',
    );
  });

  it.each([
    ['@Bulkhead(1)', [1]],
    ['@Bulkhead(1, 0)', [1, 0]],
    ['@Bulkhead(3, 10)', [3, 10]],
    ['a queueTimeout with a queue', [{ maxConcurrent: 1, maxQueued: 1, queueTimeout: 0.5 }]],
    ["scope 'instance'", [{ maxConcurrent: 1, scope: 'instance' }]],
  ])('accepts %s', (_what, params) => {
    expect(defineWith(params)()).toBeDefined();
  });
});
