import {
  ConfigError,
  Idempotent,
  Retryable,
  SteadfastError,
  type IdempotentOptions,
  type RetryOptions,
} from '../../src';
import { decoratorMode, useHarness } from '../support/harness';
import { definitionLabel, thrownBy, untyped } from './helpers';

/** The class statement threw a ConfigError naming the option and `Payments.charge` (`charge` in standard mode). */
function expectConfigError(
  define: () => unknown,
  option: string | undefined,
  methodName = 'charge',
  className = 'Payments',
): ConfigError {
  const error = thrownBy(define);
  expect(error).toBeInstanceOf(ConfigError);
  expect(error).toBeInstanceOf(SteadfastError);
  expect(error).toBeInstanceOf(Error);
  const configError = error as ConfigError;
  expect(configError.code).toBe('STEADFAST_CONFIG');
  expect(configError.name).toBe('ConfigError');
  expect(configError.option).toBe(option);
  if (option !== undefined) expect(configError.message).toContain(option);
  const label = definitionLabel(className, methodName);
  expect(configError.method).toBe(label);
  expect(configError.message).toContain(label);
  return configError;
}

const noop = (): boolean => true;

/** [what is wrong, the option named, the options given] */
const invalidOptions: [string, string, unknown][] = [
  ['maxAttempts 0', 'maxAttempts', { maxAttempts: 0 }],
  ['maxAttempts -1', 'maxAttempts', { maxAttempts: -1 }],
  ['maxAttempts 1.5', 'maxAttempts', { maxAttempts: 1.5 }],
  ['maxAttempts NaN', 'maxAttempts', { maxAttempts: NaN }],
  ["maxAttempts '3'", 'maxAttempts', { maxAttempts: '3' }],
  ['maxAttempts Infinity', 'maxAttempts', { maxAttempts: Infinity }],
  ['maxAttempts null', 'maxAttempts', { maxAttempts: null }],
  ['initialDelay -1', 'initialDelay', { initialDelay: -1 }],
  ['initialDelay NaN', 'initialDelay', { initialDelay: NaN }],
  ['initialDelay Infinity', 'initialDelay', { initialDelay: Infinity }],
  ["initialDelay '100'", 'initialDelay', { initialDelay: '100' }],
  ['maxDelay -1', 'maxDelay', { maxDelay: -1 }],
  ['maxDelay NaN', 'maxDelay', { maxDelay: NaN }],
  ['maxDelay Infinity', 'maxDelay', { maxDelay: Infinity }],
  ["maxDelay '1000'", 'maxDelay', { maxDelay: '1000' }],
  ['maxElapsed -1', 'maxElapsed', { maxElapsed: -1 }],
  ['maxElapsed NaN', 'maxElapsed', { maxElapsed: NaN }],
  ['maxElapsed Infinity', 'maxElapsed', { maxElapsed: Infinity }],
  ["maxElapsed '5s'", 'maxElapsed', { maxElapsed: '5s' }],
  ['multiplier 0.5', 'multiplier', { multiplier: 0.5 }],
  ['multiplier NaN', 'multiplier', { multiplier: NaN }],
  ['multiplier Infinity', 'multiplier', { multiplier: Infinity }],
  ["jitter 'random'", 'jitter', { jitter: 'random' }],
  ['jitter true', 'jitter', { jitter: true }],
  ['retryOn []', 'retryOn', { retryOn: [] }],
  ["retryOn 'x'", 'retryOn', { retryOn: 'x' }],
  ['retryOn [1]', 'retryOn', { retryOn: [1] }],
  ['retryOn [Error, "x"]', 'retryOn', { retryOn: [Error, 'x'] }],
  ["retryOnResult 'x'", 'retryOnResult', { retryOnResult: 'x' }],
  ['signal 5', 'signal', { signal: 5 }],
  ['the unknown key maxAttempt (a typo)', 'maxAttempt', { maxAttempt: 3 }],
  ['the unknown key delay', 'delay', { delay: 100, retryOn: noop }],
];

const invalidPositional: [string, string, unknown[]][] = [
  ['maxAttempts 0', 'maxAttempts', [0]],
  ['maxAttempts 2.5', 'maxAttempts', [2.5]],
  ['maxAttempts NaN', 'maxAttempts', [NaN]],
  ['initialDelay -5', 'initialDelay', [3, -5]],
  ['initialDelay NaN', 'initialDelay', [3, NaN]],
  ['maxDelay Infinity', 'maxDelay', [3, 100, Infinity]],
  ["maxDelay '1000'", 'maxDelay', [3, 100, '1000']],
];

describe(`invalid decorator input fails when the class is defined (${decoratorMode} decorators)`, () => {
  describe('@Retryable(options)', () => {
    it.each(invalidOptions)('rejects %s, naming the option %s', (_wrong, option, options) => {
      expectConfigError(() => {
        class Payments {
          @Idempotent()
          @Retryable(options as RetryOptions)
          async charge(): Promise<void> {}
        }
        return Payments;
      }, option);
    });

    it('rejects invalid options whether or not the method is @Idempotent, and in either order', () => {
      expectConfigError(() => {
        class Payments {
          @Retryable({ maxAttempts: 0 })
          async charge(): Promise<void> {}
        }
        return Payments;
      }, 'maxAttempts');
      expectConfigError(() => {
        class Payments {
          @Retryable({ maxAttempts: 0 })
          @Idempotent()
          async charge(): Promise<void> {}
        }
        return Payments;
      }, 'maxAttempts');
    });

    it('rejects invalid options on a static method, naming it', () => {
      expectConfigError(
        () => {
          class Payments {
            @Idempotent()
            @Retryable({ initialDelay: -1 })
            static async settle(): Promise<void> {}
          }
          return Payments;
        },
        'initialDelay',
        'settle',
      );
    });

    it('names the value it got in the message', () => {
      const error = expectConfigError(() => {
        class Payments {
          @Idempotent()
          @Retryable({ maxAttempts: 1.5 })
          async charge(): Promise<void> {}
        }
        return Payments;
      }, 'maxAttempts');
      expect(error.message).toContain('1.5');
    });

    it('rejects values the types rule out as well', () => {
      expectConfigError(() => {
        class Payments {
          @Idempotent()
          // @ts-expect-error maxAttempts is a number
          @Retryable({ maxAttempts: '3' })
          async charge(): Promise<void> {}
        }
        return Payments;
      }, 'maxAttempts');
      expectConfigError(() => {
        class Payments {
          @Idempotent()
          // @ts-expect-error 'random' is not a jitter kind
          @Retryable({ jitter: 'random' })
          async charge(): Promise<void> {}
        }
        return Payments;
      }, 'jitter');
      expectConfigError(() => {
        class Payments {
          @Idempotent()
          // @ts-expect-error maxAttempt is a typo of maxAttempts
          @Retryable({ maxAttempt: 3 })
          async charge(): Promise<void> {}
        }
        return Payments;
      }, 'maxAttempt');
    });

    it('accepts every option at a valid value, and no options at all', () => {
      const define = () => {
        class Payments {
          @Idempotent()
          @Retryable({
            maxAttempts: 1,
            initialDelay: 0,
            maxDelay: 0,
            multiplier: 1,
            jitter: 'decorrelated',
            retryOn: [TypeError],
            retryOnResult: (result) => result === undefined,
            maxElapsed: 0,
            signal: () => undefined,
          })
          async charge(): Promise<void> {}

          @Idempotent()
          @Retryable()
          async refund(): Promise<void> {}

          @Idempotent()
          @Retryable({})
          async capture(): Promise<void> {}

          @Idempotent()
          @Retryable(undefined)
          async cancel(): Promise<void> {}

          @Idempotent()
          @Retryable({ retryOn: (error: unknown) => error instanceof TypeError, jitter: 'equal' })
          async annul(): Promise<void> {}
        }
        return Payments;
      };

      expect(define).not.toThrow();
    });
  });

  describe('@Retryable(maxAttempts, initialDelay?, maxDelay?)', () => {
    it.each(invalidPositional)('rejects %s, naming the option %s', (_wrong, option, args) => {
      expectConfigError(() => {
        class Payments {
          @Idempotent()
          @Retryable(...(args as [number, number?, number?]))
          async charge(): Promise<void> {}
        }
        return Payments;
      }, option);
    });

    it('rejects too many positional arguments', () => {
      const error = expectConfigError(() => {
        class Payments {
          @Idempotent()
          // @ts-expect-error at most three positional arguments
          @Retryable(3, 100, 1_000, 5)
          async charge(): Promise<void> {}
        }
        return Payments;
      }, '@Retryable');
      expect(error.message).toContain('4 arguments');
    });

    it('accepts one, two or three valid positional arguments', () => {
      const define = () => {
        class Payments {
          @Idempotent()
          @Retryable(1)
          async a(): Promise<void> {}

          @Idempotent()
          @Retryable(3, 0)
          async b(): Promise<void> {}

          @Idempotent()
          @Retryable(3, 100, 100)
          async c(): Promise<void> {}
        }
        return Payments;
      };

      expect(define).not.toThrow();
    });
  });

  describe('maxDelay below initialDelay', () => {
    it('is rejected when the class is defined, in object form', () => {
      expectConfigError(() => {
        class Payments {
          @Idempotent()
          @Retryable({ initialDelay: 500, maxDelay: 100 })
          async charge(): Promise<void> {}
        }
        return Payments;
      }, 'maxDelay');
    });

    it('is rejected when the class is defined, in positional form @Retryable(3, 500, 100)', () => {
      expectConfigError(() => {
        class Payments {
          @Idempotent()
          @Retryable(3, 500, 100)
          async charge(): Promise<void> {}
        }
        return Payments;
      }, 'maxDelay');
    });

    it('is never accepted silently: at the latest the first call rejects with ConfigError and the body does not run', async () => {
      useHarness();
      let runs = 0;
      const define = () => {
        class Payments {
          @Idempotent()
          @Retryable(3, 500, 100)
          async charge(): Promise<void> {
            runs++;
          }
        }
        return Payments;
      };
      let Payments: ReturnType<typeof define>;
      try {
        Payments = define();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return;
      }

      const error = await new Payments().charge().then(
        () => undefined,
        (rejection: unknown) => rejection,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).option).toBe('maxDelay');
      expect((error as ConfigError).message).toContain('Payments.charge');
      expect(runs).toBe(0);
    });
  });

  describe('a decorator applied twice', () => {
    it('rejects a second @Retryable on one method', () => {
      expectConfigError(() => {
        class Payments {
          @Idempotent()
          @Retryable(3)
          @Retryable(5)
          async charge(): Promise<void> {}
        }
        return Payments;
      }, '@Retryable');
    });

    it('rejects a second @Retryable even with @Idempotent between them', () => {
      expectConfigError(() => {
        class Payments {
          @Retryable(3)
          @Idempotent()
          @Retryable(5)
          async charge(): Promise<void> {}
        }
        return Payments;
      }, '@Retryable');
    });

    it('rejects a second @Idempotent on one method', () => {
      expectConfigError(() => {
        class Payments {
          @Idempotent()
          @Retryable()
          @Idempotent()
          async charge(): Promise<void> {}
        }
        return Payments;
      }, '@Idempotent');
    });
  });

  describe('@Idempotent(options)', () => {
    it('rejects an unknown option', () => {
      expectConfigError(() => {
        class Payments {
          // @ts-expect-error retries is not an option of @Idempotent
          @Idempotent({ retries: 2 })
          async charge(): Promise<void> {}
        }
        return Payments;
      }, 'retries');
    });

    it('rejects options that are not an object', () => {
      const error = thrownBy(() => {
        class Payments {
          @Idempotent('yes' as unknown as IdempotentOptions)
          async charge(): Promise<void> {}
        }
        return Payments;
      });
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).method).toBe(definitionLabel('Payments', 'charge'));
      expect((error as ConfigError).message).toContain('"yes"');
    });

    it('accepts no options and an empty object', () => {
      const define = () => {
        class Payments {
          @Idempotent()
          async charge(): Promise<void> {}

          @Idempotent({})
          async refund(): Promise<void> {}
        }
        return Payments;
      };

      expect(define).not.toThrow();
    });
  });

  describe('what is not a method', () => {
    it.each([
      ['@Retryable', Retryable()],
      ['@Idempotent', Idempotent()],
    ])('rejects %s on a getter', (_name, decorator) => {
      const error = expectConfigError(
        () => {
          class Payments {
            @untyped(decorator)
            get balance(): Promise<number> {
              return Promise.resolve(0);
            }
          }
          return Payments;
        },
        undefined,
        'balance',
      );
      expect(error.message).toMatch(/only methods/);
    });

    it.each([
      ['@Retryable', Retryable()],
      ['@Idempotent', Idempotent()],
    ])('rejects %s on a setter', (_name, decorator) => {
      expectConfigError(
        () => {
          class Payments {
            @untyped(decorator)
            set limit(_value: number) {}
          }
          return Payments;
        },
        undefined,
        'limit',
      );
    });

    it.each([
      ['@Retryable', Retryable()],
      ['@Idempotent', Idempotent()],
    ])('rejects %s on a field, even one holding an async function', (_name, decorator) => {
      const error = expectConfigError(
        () => {
          class Payments {
            @untyped(decorator)
            charge = async (): Promise<void> => {};
          }
          return Payments;
        },
        undefined,
        'charge',
      );
      expect(error.message).toMatch(/only methods/);
    });

    it('rejects a static field', () => {
      expectConfigError(
        () => {
          class Payments {
            @untyped(Retryable())
            static limit = 3;
          }
          return Payments;
        },
        undefined,
        'limit',
      );
    });
  });
});
