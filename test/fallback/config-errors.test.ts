import { ConfigError, Fallback } from '../../src';
import {
  decoratorMode,
  expectConfigError,
  track,
  rawDecorator,
  useStageHarness,
} from '../pipeline/support';

/** [what is wrong, the option named, the decorator's arguments] */
const invalid: [string, string, unknown[]][] = [
  ['a number as handler', 'handler', [5]],
  ['null as handler', 'handler', [null]],
  ['an empty method name', 'handler', ['']],
  ['an object as handler', 'handler', [{ handle: () => 1 }]],
  ['on: []', 'on', [() => 1, { on: [] }]],
  ["on: 'TimeoutError'", 'on', [() => 1, { on: 'TimeoutError' }]],
  ['on: [1]', 'on', [() => 1, { on: [1] }]],
  ['on: [Error, "x"]', 'on', [() => 1, { on: [Error, 'x'] }]],
  ['the unknown option when (a typo)', 'when', [() => 1, { when: () => true }]],
  ['options that are not an object', 'options', [() => 1, 'on']],
];

describe(`@Fallback refuses bad options when the class is defined (${decoratorMode} decorators)`, () => {
  it.each(invalid)(
    'refuses %s with a ConfigError naming the option and the method',
    (_what, option, params) => {
      expectConfigError(
        () => {
          class Quotes {
            @rawDecorator(Fallback, params)
            async price(): Promise<string> {
              return 'live';
            }
          }
          return Quotes;
        },
        option,
        'Quotes',
        'price',
      );
    },
  );

  it("refuses the decorated method's own name as handler", () => {
    expectConfigError(
      () => {
        class Quotes {
          @Fallback('price')
          async price(): Promise<string> {
            return 'live';
          }
        }
        return Quotes;
      },
      'handler',
      'Quotes',
      'price',
    );
  });

  it('refuses a second @Fallback on one method', () => {
    expectConfigError(
      () => {
        class Quotes {
          @Fallback(() => 'a')
          @Fallback(() => 'b')
          async price(): Promise<string> {
            return 'live';
          }
        }
        return Quotes;
      },
      undefined,
      'Quotes',
      'price',
    );
  });

  it('accepts a method declared after the decorated one', async () => {
    useStageHarness();
    class Quotes {
      @Fallback('cached')
      async price(): Promise<string> {
        throw new Error('down');
      }

      cached(): string {
        return 'cached';
      }
    }

    expect(await new Quotes().price()).toBe('cached');
  });
});

describe(`@Fallback with a name that is not a method of the class (${decoratorMode} decorators)`, () => {
  if (decoratorMode === 'legacy') {
    it('is a ConfigError when the class is defined, naming handler and Class.method', () => {
      const error = expectConfigError(
        () => {
          class Quotes {
            @Fallback('cachedPrise')
            async price(): Promise<string> {
              return 'live';
            }

            cachedPrice(): string {
              return 'cached';
            }
          }
          return Quotes;
        },
        'handler',
        'Quotes',
        'price',
      );
      expect(error.message).toContain('cachedPrise');
    });
  } else {
    it('is a ConfigError as the rejection of the first call (and of later ones), before the body runs', async () => {
      const h = useStageHarness();
      let runs = 0;
      class Quotes {
        @Fallback('cachedPrise')
        async price(): Promise<string> {
          runs++;
          return 'live';
        }

        cachedPrice(): string {
          return 'cached';
        }
      }
      const quotes = new Quotes();

      const first = track(quotes.price());
      const second = track(quotes.price());
      await h.clock.flush();

      for (const call of [first, second]) {
        expect(call.state).toBe('rejected');
        expect(call.error).toBeInstanceOf(ConfigError);
        expect(call.error).toMatchObject({ option: 'handler', method: 'Quotes.price' });
        expect((call.error as Error).message).toContain('cachedPrise');
      }
      expect(runs).toBe(0);
    });
  }

  it("counts Object.prototype's methods (toString, valueOf, hasOwnProperty) as not the class's, and a class's own toString as its", async () => {
    // legacy: refused at definition; standard: at the first call
    for (const inherited of ['toString', 'valueOf', 'hasOwnProperty']) {
      const define = (): unknown => {
        class Quotes {
          @Fallback(inherited)
          async price(): Promise<string> {
            throw new Error('down');
          }
        }
        return Quotes;
      };
      if (decoratorMode === 'legacy') {
        expectConfigError(define, 'handler', 'Quotes', 'price');
        continue;
      }
      useStageHarness();
      const Quotes = define() as new () => { price(): Promise<string> };
      await expect(new Quotes().price()).rejects.toMatchObject({
        code: 'STEADFAST_CONFIG',
        option: 'handler',
      });
    }
    useStageHarness();
    class Labelled {
      @Fallback('toString')
      async price(): Promise<string> {
        throw new Error('down');
      }

      toString(): string {
        return 'a label of its own';
      }
    }
    await expect(new Labelled().price()).resolves.toBe('a label of its own');
  });

  it('counts a non-function property as not a method', async () => {
    // legacy: refused at definition; standard: at the first call
    class Quotes {
      static readonly label = 'x';
    }
    const define = (): unknown => {
      class Prices extends Quotes {
        @Fallback('label')
        static async price(): Promise<string> {
          throw new Error('down');
        }
      }
      return Prices;
    };
    if (decoratorMode === 'legacy') {
      expectConfigError(define, 'handler', 'Prices', 'price');
      return;
    }
    useStageHarness();
    const Prices = define() as { price(): Promise<string> };
    await expect(Prices.price()).rejects.toMatchObject({
      code: 'STEADFAST_CONFIG',
      option: 'handler',
    });
  });
});
