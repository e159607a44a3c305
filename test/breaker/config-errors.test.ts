import { CircuitBreaker, ConfigError, SteadfastError, type CircuitBreakerOptions } from '../../src';
import { decoratorMode, useHarness } from '../support/harness';
import {
  breakerNamed,
  definitionLabel,
  DownstreamError,
  refusalOf,
  rejectionOf,
  thrownBy,
  uniqueCircuit,
} from './support';

/** Defines a class with `@CircuitBreaker(options)` on Gateway.authorize, bypassing the option types. */
function defineGateway(options: unknown): () => unknown {
  return () => {
    class Gateway {
      @CircuitBreaker(options as CircuitBreakerOptions)
      async authorize(): Promise<string> {
        return 'authorized';
      }
    }
    return Gateway;
  };
}

/** The definition threw a ConfigError naming the option and the method. */
function expectConfigError(
  define: () => unknown,
  options: string | readonly string[],
  className = 'Gateway',
  methodName = 'authorize',
): ConfigError {
  const error = thrownBy(define);
  expect(error).toBeInstanceOf(ConfigError);
  expect(error).toBeInstanceOf(SteadfastError);
  const configError = error as ConfigError;
  expect(configError.code).toBe('STEADFAST_CONFIG');
  const named = typeof options === 'string' ? [options] : options;
  expect(named).toContain(configError.option);
  expect(configError.message).toContain(configError.option as string);
  const label = definitionLabel(className, methodName);
  expect(configError.method).toBe(label);
  expect(configError.message).toContain(label);
  return configError;
}

const rate = (extra: Record<string, unknown>) => ({ failureRate: { threshold: 0.5, ...extra } });

/** [what is wrong, the option that must be named, the options given] */
const invalid: [string, string, unknown][] = [
  ['consecutiveFailures 0', 'consecutiveFailures', { consecutiveFailures: 0 }],
  ['consecutiveFailures -1', 'consecutiveFailures', { consecutiveFailures: -1 }],
  ['consecutiveFailures 1.5', 'consecutiveFailures', { consecutiveFailures: 1.5 }],
  ['consecutiveFailures NaN', 'consecutiveFailures', { consecutiveFailures: NaN }],
  ["consecutiveFailures '3'", 'consecutiveFailures', { consecutiveFailures: '3' }],
  ['failureRate.threshold 0', 'failureRate.threshold', { failureRate: { threshold: 0 } }],
  ['failureRate.threshold 1.5', 'failureRate.threshold', { failureRate: { threshold: 1.5 } }],
  ['failureRate.threshold NaN', 'failureRate.threshold', { failureRate: { threshold: NaN } }],
  ['failureRate.threshold -0.5', 'failureRate.threshold', { failureRate: { threshold: -0.5 } }],
  ['failureRate without a threshold', 'failureRate.threshold', { failureRate: {} }],
  [
    'slowCall.rateThreshold 0',
    'slowCall.rateThreshold',
    { slowCall: { duration: 100, rateThreshold: 0 } },
  ],
  [
    'slowCall.rateThreshold 1.5',
    'slowCall.rateThreshold',
    { slowCall: { duration: 100, rateThreshold: 1.5 } },
  ],
  [
    'slowCall.rateThreshold NaN',
    'slowCall.rateThreshold',
    { slowCall: { duration: 100, rateThreshold: NaN } },
  ],
  ['count window size 0', 'failureRate.window.size', rate({ window: { type: 'count', size: 0 } })],
  [
    'count window size 1.5',
    'failureRate.window.size',
    rate({ window: { type: 'count', size: 1.5 } }),
  ],
  ['time window size 0', 'failureRate.window.size', rate({ window: { type: 'time', size: 0 } })],
  [
    'time window size 1.5',
    'failureRate.window.size',
    rate({ window: { type: 'time', size: 1.5 } }),
  ],
  ['window size NaN', 'failureRate.window.size', rate({ window: { type: 'count', size: NaN } })],
  ["window type 'x'", 'failureRate.window.type', rate({ window: { type: 'x', size: 10 } })],
  ['window without a type', 'failureRate.window.type', rate({ window: { size: 10 } })],
  ['minimumCalls 0', 'failureRate.minimumCalls', rate({ minimumCalls: 0 })],
  ['minimumCalls 1.5', 'failureRate.minimumCalls', rate({ minimumCalls: 1.5 })],
  [
    "minimumCalls greater than the count window's size",
    'failureRate.minimumCalls',
    rate({ window: { type: 'count', size: 10 }, minimumCalls: 11 }),
  ],
  ['openDuration -1', 'openDuration', { openDuration: -1 }],
  ['openDuration NaN', 'openDuration', { openDuration: NaN }],
  ["openDuration '30s'", 'openDuration', { openDuration: '30s' }],
  ['maxOpenDuration -1', 'maxOpenDuration', { maxOpenDuration: -1 }],
  ['maxOpenDuration NaN', 'maxOpenDuration', { maxOpenDuration: NaN }],
  [
    'maxOpenDuration below openDuration',
    'maxOpenDuration',
    { openDuration: 5_000, maxOpenDuration: 1_000 },
  ],
  ['slowCall.duration -1', 'slowCall.duration', { slowCall: { duration: -1, rateThreshold: 0.5 } }],
  [
    'slowCall.duration NaN',
    'slowCall.duration',
    { slowCall: { duration: NaN, rateThreshold: 0.5 } },
  ],
  ['slowCall without a duration', 'slowCall.duration', { slowCall: { rateThreshold: 0.5 } }],
  ['halfOpenMaxCalls 0', 'halfOpenMaxCalls', { halfOpenMaxCalls: 0 }],
  ['halfOpenMaxCalls 1.5', 'halfOpenMaxCalls', { halfOpenMaxCalls: 1.5 }],
  ['halfOpenMaxCalls NaN', 'halfOpenMaxCalls', { halfOpenMaxCalls: NaN }],
  ['quorum 0', 'quorum', { quorum: 0 }],
  ['quorum -1', 'quorum', { quorum: -1 }],
  ['quorum 1.5', 'quorum', { quorum: 1.5 }],
  ['quorum NaN', 'quorum', { quorum: NaN }],
  ["quorum '2'", 'quorum', { quorum: '2' }],
  ['quorum Infinity', 'quorum', { quorum: Number.POSITIVE_INFINITY }],
  ['the unknown key threshold', 'threshold', { threshold: 0.5 }],
  [
    'the unknown nested key failureRate.windw',
    'failureRate.windw',
    rate({ windw: { type: 'count', size: 10 } }),
  ],
  [
    'the unknown nested key failureRate.window.length',
    'failureRate.window.length',
    rate({ window: { type: 'count', size: 10, length: 5 } }),
  ],
  [
    'the unknown nested key slowCall.durationMs',
    'slowCall.durationMs',
    { slowCall: { duration: 100, rateThreshold: 0.5, durationMs: 100 } },
  ],
  ['recordOn []', 'recordOn', { recordOn: [] }],
  ["recordOn 'TimeoutError'", 'recordOn', { recordOn: 'TimeoutError' }],
  ['recordOn [1]', 'recordOn', { recordOn: [1] }],
  ['ignoreOn []', 'ignoreOn', { ignoreOn: [] }],
  ['recordOnResult 5', 'recordOnResult', { recordOnResult: 5 }],
  ["scope 'global'", 'scope', { scope: 'global' }],
  ["name ''", 'name', { name: '' }],
  ['name 5', 'name', { name: 5 }],
];

describe(`@CircuitBreaker bad input (${decoratorMode} decorators)`, () => {
  it.each(invalid)('refuses %s when the class is defined', (_, option, options) => {
    useHarness();
    expectConfigError(defineGateway(options), option);
  });

  it('refuses both consecutiveFailures and failureRate: one failure criterion only', () => {
    useHarness();
    const error = expectConfigError(
      defineGateway({ consecutiveFailures: 3, failureRate: { threshold: 0.5 } }),
      ['consecutiveFailures', 'failureRate'],
    );
    expect(error.message).toMatch(/consecutiveFailures/);
    expect(error.message).toMatch(/failureRate/);
  });

  it('accepts every valid option without complaint', () => {
    useHarness();
    expect(
      defineGateway({
        name: uniqueCircuit('valid'),
        scope: 'instance',
        failureRate: { threshold: 1, window: { type: 'time', size: 60_000 }, minimumCalls: 1 },
        slowCall: { duration: 0, rateThreshold: 1 },
        openDuration: 0,
        maxOpenDuration: 0,
        halfOpenMaxCalls: 1,
        quorum: 3,
        recordOn: [DownstreamError],
        ignoreOn: () => false,
        recordOnResult: () => false,
      })(),
    ).toBeInstanceOf(Function);
  });

  it('refuses a second class that declares a shared name with different options, naming the first declarer', async () => {
    useHarness();
    const name = uniqueCircuit('conflict');
    class Primary {
      @CircuitBreaker({ name, consecutiveFailures: 2 })
      async primaryCall(): Promise<string> {
        throw new DownstreamError('down');
      }
    }

    const error = expectConfigError(
      () => {
        class Secondary {
          @CircuitBreaker({ name, consecutiveFailures: 3 })
          async secondaryCall(): Promise<string> {
            return 'secondary';
          }
        }
        return Secondary;
      },
      'name',
      'Secondary',
      'secondaryCall',
    );
    expect(error.message).toContain(name);
    expect(error.message).toContain(definitionLabel('Primary', 'primaryCall'));

    // The first declaration is untouched: two failures still open it.
    await rejectionOf(new Primary().primaryCall());
    await rejectionOf(new Primary().primaryCall());
    expect(breakerNamed(name).state).toBe('open');
    await refusalOf(new Primary().primaryCall());
  });

  it('names the declarer that configured the breaker, not one that only joined it, in a conflict', () => {
    useHarness();
    const name = uniqueCircuit('conflict-after-join');
    class Joins {
      @CircuitBreaker({ name })
      async joiningCall(): Promise<string> {
        return 'joined';
      }
    }
    class Configures {
      @CircuitBreaker({ name, consecutiveFailures: 2 })
      async configuringCall(): Promise<string> {
        return 'configured';
      }
    }
    expect([Joins, Configures]).toHaveLength(2);

    const error = expectConfigError(
      () => {
        class Conflicts {
          @CircuitBreaker({ name, consecutiveFailures: 3 })
          async conflictingCall(): Promise<string> {
            return 'conflicting';
          }
        }
        return Conflicts;
      },
      'name',
      'Conflicts',
      'conflictingCall',
    );
    expect(error.message).toContain(definitionLabel('Configures', 'configuringCall'));
  });

  it('refuses a shared name declared with a different quorum: the fleet decides by one', () => {
    useHarness();
    const name = uniqueCircuit('conflict-quorum');
    class Primary {
      @CircuitBreaker({ name, quorum: 2 })
      async primaryCall(): Promise<string> {
        return 'primary';
      }
    }
    expect(Primary).toBeInstanceOf(Function);
    expectConfigError(
      () => {
        class Secondary {
          @CircuitBreaker({ name, quorum: 3 })
          async secondaryCall(): Promise<string> {
            return 'secondary';
          }
        }
        return Secondary;
      },
      'name',
      'Secondary',
      'secondaryCall',
    );
  });

  it('takes quorum without a shared store as changing nothing: the breaker opens on its own failures', async () => {
    useHarness();
    const name = uniqueCircuit('quorum-alone');
    class Gateway {
      @CircuitBreaker({ name, consecutiveFailures: 2, quorum: 5 })
      async authorize(): Promise<string> {
        throw new DownstreamError('down');
      }
    }
    await rejectionOf(new Gateway().authorize());
    await rejectionOf(new Gateway().authorize());
    expect(breakerNamed(name).state).toBe('open');
    await refusalOf(new Gateway().authorize());
  });

  it('refuses a shared name declared with a different scope', () => {
    useHarness();
    const name = uniqueCircuit('conflict-scope');
    class Primary {
      @CircuitBreaker({ name, consecutiveFailures: 2 })
      async primaryCall(): Promise<string> {
        return 'primary';
      }
    }
    expect(Primary).toBeInstanceOf(Function);

    expectConfigError(
      () => {
        class Secondary {
          @CircuitBreaker({ name, scope: 'instance', consecutiveFailures: 2 })
          async secondaryCall(): Promise<string> {
            return 'secondary';
          }
        }
        return Secondary;
      },
      'name',
      'Secondary',
      'secondaryCall',
    );
  });

  it('refuses a second @CircuitBreaker on one method', () => {
    useHarness();
    const error = thrownBy(() => {
      class Gateway {
        @CircuitBreaker({ consecutiveFailures: 2 })
        @CircuitBreaker({ consecutiveFailures: 3 })
        async authorize(): Promise<string> {
          return 'authorized';
        }
      }
      return Gateway;
    });
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).method).toBe(definitionLabel('Gateway', 'authorize'));
    expect((error as ConfigError).message).toContain(definitionLabel('Gateway', 'authorize'));
    expect((error as ConfigError).message).toContain('@CircuitBreaker');
  });
});
