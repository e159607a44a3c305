import { ConfigError } from '../../src';
import 'reflect-metadata';
import * as steadfast from '../../src';
import { configure, Idempotent, NotIdempotentError, Retryable } from '../../src';
import { decoratorMode, useHarness } from '../support/harness';
import { untyped } from './helpers';

type Method = (this: unknown, ...args: unknown[]) => Promise<unknown>;

/** A class with one marked method and one unmarked @Retryable method, and a count of body runs. */
function defineService() {
  const runs = { charge: 0, status: 0 };
  class Payments {
    @Idempotent()
    @Retryable()
    async status(): Promise<string> {
      runs.status++;
      return 'ok';
    }

    @Retryable()
    async charge(): Promise<string> {
      runs.charge++;
      return 'charged';
    }

    @Idempotent()
    @Retryable()
    static async health(): Promise<string> {
      return 'healthy';
    }

    @Retryable()
    static async purge(): Promise<string> {
      runs.charge++;
      return 'purged';
    }
  }
  const charge = Payments.prototype.charge as unknown as Method;
  const status = Payments.prototype.status as unknown as Method;
  return { Payments, runs, charge, status };
}

type Service = ReturnType<typeof defineService>;

/** The forged method is still refused, before its body runs, also once the engine recompiles its plans. */
async function expectStillRefused({ Payments, runs }: Service): Promise<void> {
  await expect(new Payments().charge()).rejects.toBeInstanceOf(NotIdempotentError);
  await expect(Payments.purge()).rejects.toBeInstanceOf(NotIdempotentError);
  configure({ defaults: {} });
  await expect(new Payments().charge()).rejects.toBeInstanceOf(NotIdempotentError);
  await expect(Payments.purge()).rejects.toBeInstanceOf(NotIdempotentError);
  expect(runs.charge).toBe(0);
}

const plausibleSymbols = [
  Symbol.for('steadfast'),
  Symbol.for('steadfast.idempotent'),
  Symbol.for('steadfast:idempotent'),
  Symbol.for('steadfast.policy'),
  Symbol.for('steadfast.mark'),
  Symbol.for('steadfast.error'),
];
const plausibleNames = [
  'idempotent',
  'isIdempotent',
  '__idempotent',
  'steadfast',
  'steadfastIdempotent',
  'policy',
];
const plausibleMetadataKeys: unknown[] = [
  'idempotent',
  'steadfast:idempotent',
  'steadfast.idempotent',
  'steadfast:policy',
  'steadfast:retry',
  'design:idempotent',
  ...plausibleSymbols,
];
const plausibleMetadataValues: unknown[] = [true, { idempotent: true }];

describe(`the idempotency mark cannot be forged (${decoratorMode} decorators)`, () => {
  it('is not set by plausible properties or symbols on the method, the prototype or the class', async () => {
    useHarness();
    const service = defineService();
    const targets: object[] = [
      service.charge,
      service.Payments.purge,
      service.Payments.prototype,
      service.Payments,
    ];
    for (const target of targets) {
      for (const key of [...plausibleNames, ...plausibleSymbols]) {
        Object.defineProperty(target, key, {
          value: true,
          configurable: true,
          enumerable: true,
          writable: true,
        });
      }
    }
    (service.charge as unknown as { idempotent: boolean }).idempotent = true;

    await expectStillRefused(service);
  });

  it('is not set by reflect-metadata keys on the method, the prototype, (prototype, key) or the class', async () => {
    useHarness();
    const service = defineService();
    const { Payments } = service;
    for (const key of plausibleMetadataKeys) {
      for (const value of plausibleMetadataValues) {
        Reflect.defineMetadata(key, value, service.charge);
        Reflect.defineMetadata(key, value, Payments.purge);
        Reflect.defineMetadata(key, value, Payments.prototype);
        Reflect.defineMetadata(key, value, Payments.prototype, 'charge');
        Reflect.defineMetadata(key, value, Payments);
        Reflect.defineMetadata(key, value, Payments, 'purge');
      }
    }

    await expectStillRefused(service);
  });

  it('keeps no property or metadata on a marked method that copying could carry over', () => {
    const { status, Payments } = defineService();
    const unmarked = defineService();

    const ownKeys = Reflect.ownKeys(status).filter(
      (key) => key !== 'length' && key !== 'name' && key !== 'prototype',
    );
    expect(ownKeys).toEqual([]);
    expect(Reflect.getOwnMetadataKeys(status)).toEqual([]);
    expect(
      Reflect.ownKeys(Payments.health).filter(
        (key) => key !== 'length' && key !== 'name' && key !== 'prototype',
      ),
    ).toEqual(
      Reflect.ownKeys(unmarked.Payments.purge).filter(
        (key) => key !== 'length' && key !== 'name' && key !== 'prototype',
      ),
    );
  });

  it("is not set by copying a marked method's own properties and metadata onto an unmarked one", async () => {
    useHarness();
    const marked = defineService();
    const service = defineService();
    const copies: [object, object][] = [
      [marked.status, service.charge],
      [marked.Payments.health, service.Payments.purge],
    ];
    for (const [from, to] of copies) {
      Object.assign(to, from);
      for (const key of Reflect.ownKeys(from)) {
        if (key === 'prototype') continue;
        Object.defineProperty(
          to,
          key,
          Object.getOwnPropertyDescriptor(from, key) as PropertyDescriptor,
        );
      }
      for (const key of Reflect.getOwnMetadataKeys(from))
        Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, from), to);
      Object.setPrototypeOf(to, from);
    }

    await expectStillRefused(service);
  });

  it('is not set by installing a Proxy of the unmarked method that claims every property', async () => {
    useHarness();
    const service = defineService();
    const { Payments } = service;
    const claimEverything: ProxyHandler<Method> = {
      get: (target, key) =>
        key === 'name' || key === 'length' || key === 'apply' || key === 'call'
          ? Reflect.get(target, key)
          : true,
      has: () => true,
      getOwnPropertyDescriptor: (target, key) =>
        Reflect.getOwnPropertyDescriptor(target, key) ?? {
          value: true,
          configurable: true,
          enumerable: true,
          writable: true,
        },
    };
    Object.defineProperty(Payments.prototype, 'charge', {
      value: new Proxy(service.charge, claimEverything),
      configurable: true,
      writable: true,
    });
    Object.defineProperty(Payments, 'purge', {
      value: new Proxy(Payments.purge as unknown as Method, claimEverything),
      configurable: true,
      writable: true,
    });

    await expectStillRefused(service);
  });

  it('is not set by a Proxy of a marked method whose calls go to the unmarked one', async () => {
    useHarness();
    const service = defineService();
    const unmarkedCharge = service.charge;
    const disguised = new Proxy(service.status, {
      apply: (_target, thisArg, args: unknown[]) => unmarkedCharge.apply(thisArg, args),
    });
    Object.defineProperty(service.Payments.prototype, 'charge', {
      value: disguised,
      configurable: true,
      writable: true,
    });

    await expect(new service.Payments().charge()).rejects.toBeInstanceOf(NotIdempotentError);
    expect(service.runs.charge).toBe(0);
  });

  it('is not set by redefining the method after decoration with a copy of the function', async () => {
    useHarness();
    const service = defineService();
    const { Payments } = service;
    const unmarkedCharge = service.charge;
    const copy = function (this: unknown, ...args: unknown[]): Promise<unknown> {
      return unmarkedCharge.apply(this, args);
    };
    Object.defineProperty(copy, 'name', { value: 'charge' });
    Object.defineProperty(Payments.prototype, 'charge', {
      value: copy,
      configurable: true,
      writable: true,
    });
    Object.defineProperty(Payments, 'purge', {
      value: (Payments.purge as unknown as Method).bind(Payments),
      configurable: true,
      writable: true,
    });

    await expectStillRefused(service);
  });

  it('is not set on an unmarked method by decorating another method of another class @Idempotent', async () => {
    useHarness();
    const service = defineService();
    class Other {
      @Idempotent()
      async charge(): Promise<string> {
        return 'other';
      }
    }

    await expect(new Other().charge()).resolves.toBe('other');
    await expectStillRefused(service);
  });

  // Enforcement must not depend on how the method was reached: a detached call still finds the mark.
  it('is checked on the function itself, however it is called (detached, call, apply, bind)', async () => {
    useHarness();
    const service = defineService();
    const instance = new service.Payments();

    await expect(service.charge.call(instance)).rejects.toBeInstanceOf(NotIdempotentError);
    await expect(service.charge.apply(instance, [])).rejects.toBeInstanceOf(NotIdempotentError);
    await expect(service.charge.bind(instance)()).rejects.toBeInstanceOf(NotIdempotentError);
    await expect(service.charge.call(undefined)).rejects.toBeInstanceOf(NotIdempotentError);
    expect(service.runs.charge).toBe(0);
  });

  // Decorators of a class run while it is defined; once that is over (the next microtask), a
  // steadfast decorator called by hand on one of its methods is refused rather than marking it.
  it('is not set by calling @Idempotent by hand on a method of a class already defined', async () => {
    useHarness();
    const service = defineService();
    const { Payments } = service;
    await Promise.resolve();
    const applyByHand = (): void => {
      if (decoratorMode === 'standard') {
        untyped(Idempotent())(Payments.prototype.charge, {
          kind: 'method',
          name: 'charge',
          static: false,
        });
      } else {
        untyped(Idempotent())(
          Payments.prototype,
          'charge',
          Object.getOwnPropertyDescriptor(Payments.prototype, 'charge'),
        );
      }
    };
    expect(applyByHand).toThrow(ConfigError);
    expect(applyByHand).toThrow(/already defined/);

    await expectStillRefused(service);
  });

  // The same, in the very tick the class is defined (no microtask has passed yet): the wrapper is
  // already installed (legacy) or its decoration is over (standard), so building on it is refused.
  describe('in the same synchronous tick as the class definition', () => {
    const standardForm = (value: unknown, context: Record<string, unknown>): unknown =>
      untyped(Idempotent())(value, { kind: 'method', static: false, ...context });
    const legacyForm = (target: object, key: string): unknown =>
      untyped(Idempotent())(target, key, Object.getOwnPropertyDescriptor(target, key));

    it('refuses @Idempotent applied by hand in legacy form to the installed method', async () => {
      useHarness();
      const service = defineService();
      expect(() => legacyForm(service.Payments.prototype, 'charge')).toThrow(/already defined/);
      expect(() => legacyForm(service.Payments, 'purge')).toThrow(/already defined/);

      await expectStillRefused(service);
    });

    it('refuses @Idempotent applied by hand in standard form, with a context written by hand', async () => {
      useHarness();
      const service = defineService();
      expect(() => standardForm(service.Payments.prototype.charge, { name: 'charge' })).toThrow(
        /already defined/,
      );
      expect(() => standardForm(service.Payments.purge, { name: 'purge', static: true })).toThrow(
        /already defined/,
      );

      await expectStillRefused(service);
    });

    it('leaves the installed method unmarked even when a forged context passes for a live one', async () => {
      useHarness();
      const service = defineService();
      const forged = standardForm(service.Payments.prototype.charge, {
        name: 'charge',
        addInitializer: () => undefined,
      });

      expect(typeof forged).toBe('function');
      expect(forged).not.toBe(service.Payments.prototype.charge);
      await expectStillRefused(service);
    });

    it('refuses @Idempotent on another class that holds a copy of the wrapper, and never marks the original', async () => {
      useHarness();
      const service = defineService();
      class Copy {}
      Object.defineProperty(Copy.prototype, 'charge', {
        value: service.Payments.prototype.charge,
        configurable: true,
        writable: true,
      });
      expect(() => legacyForm(Copy.prototype, 'charge')).toThrow(/already defined/);
      // Under another name, where it is not installed, it is refused as well: a wrapper only ever builds on its own method.
      const elsewhere = {
        value: service.Payments.prototype.charge,
        configurable: true,
        writable: true,
        enumerable: false,
      };
      expect(() => untyped(Idempotent())(Copy.prototype, 'charge2', elsewhere)).toThrow(
        /already defined/,
      );
      expect(elsewhere.value).toBe(service.Payments.prototype.charge);

      await expectStillRefused(service);
    });
  });

  // The wrapper runs calls through a function private to the runtime: no method of the exported
  // engine ever receives a method's policy, so intercepting them hands out nothing to mark.
  it('is not set by intercepting the methods of the exported defaultEngine', async () => {
    useHarness();
    const service = defineService();
    const engine = steadfast.defaultEngine as unknown as Record<string, unknown>;
    const received: unknown[] = [];
    const names = Object.getOwnPropertyNames(steadfast.ResilienceEngine.prototype).filter(
      (name) => name !== 'constructor' && typeof engine[name] === 'function',
    );
    for (const name of names) {
      const original = engine[name] as (...args: unknown[]) => unknown;
      engine[name] = function (this: unknown, ...args: unknown[]) {
        received.push(...args);
        return original.apply(this, args);
      };
    }
    try {
      await expectStillRefused(service);
    } finally {
      for (const name of names) delete engine[name];
    }
    expect('run' in engine).toBe(false);
    expect(
      received.some((arg) => typeof arg === 'object' && arg !== null && 'original' in arg),
    ).toBe(false);
  });

  it('cannot be set through anything the package exports', () => {
    const exported = Object.keys(steadfast);
    const plausibleMarkers = [
      'markIdempotent',
      'setIdempotent',
      'idempotent',
      'unsafeMarkIdempotent',
      'registerPolicy',
      'policyOf',
      'wrapMethod',
      'methodDecorator',
      'allowRetry',
      'disableEnforcement',
    ];

    expect(exported).toEqual(expect.arrayContaining(['Idempotent', 'Retryable']));
    for (const name of plausibleMarkers) expect(exported).not.toContain(name);
    expect(exported.filter((name) => /mark|polic|regist|wrap|enforce|unsafe/i.test(name))).toEqual(
      [],
    );
    // Besides @Idempotent itself, whatever mentions idempotency is an error class, not a way to mark.
    const idempotencyExports = exported.filter(
      (name) => /idempot/i.test(name) && name !== 'Idempotent',
    );
    expect(idempotencyExports).toEqual(
      expect.arrayContaining(['NotIdempotentError', 'IdempotencyConflictError']),
    );
    for (const name of idempotencyExports) {
      const value: unknown = steadfast[name as keyof typeof steadfast];
      expect([
        name,
        typeof value === 'function' && value.prototype instanceof steadfast.SteadfastError,
      ]).toEqual([name, true]);
    }
  });

  it('cannot be switched off by engine configuration', async () => {
    useHarness();
    const service = defineService();
    configure({ defaults: { retry: { maxAttempts: 5 } } });

    await expectStillRefused(service);
    expect(() => configure({ enforceIdempotency: false } as never)).toThrow(steadfast.ConfigError);
    await expect(new service.Payments().charge()).rejects.toBeInstanceOf(NotIdempotentError);
  });
});
