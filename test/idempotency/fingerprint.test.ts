import fc from 'fast-check';
import { createHash } from 'node:crypto';
import {
  ConfigError,
  configure,
  Idempotent,
  IdempotencyConflictError,
  MemoryStore,
} from '../../src';
import {
  canonical,
  fingerprintOf,
  fingerprintOfValue,
} from '../../src/runtime/idempotency/fingerprint';
import { decoratorMode, useHarness } from '../support/harness';
import { rejectionOf } from './support';

class Point {
  constructor(readonly x: unknown) {}
}
class Vector {
  constructor(readonly x: unknown) {}
}
class Ledger {
  #entries: number[] = [];
  add(cents: number): void {
    this.#entries.push(cents);
  }
}
class AuditedLedger extends Ledger {
  readonly owner = 'ops';
}
class Helpers {
  #format(): string {
    return 'x';
  }
  label = this.#format();
}
class Colour {
  readonly css = '#fff';
}
class Ticket {
  // Ticket numbers look like #12 in the tracker: '#' then a digit is no private name.
  constructor(readonly id: number) {}
}
class Tags extends Map<string, number> {}

/** What earlier versions hashed: the stored fingerprint is SHA-256 of the texts joined by NUL. */
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

function refusalOf(make: () => unknown): ConfigError {
  try {
    fingerprintOf([make()], 'Orders.create');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected fingerprintOf to refuse the argument, but it did not');
}

const bytes = (...values: number[]): ArrayBuffer => new Uint8Array(values).buffer;

describe('fingerprintOf', () => {
  it('keeps the texts earlier versions gave strings, numbers, plain objects, arrays, Maps, Sets and Dates', () => {
    // Records written before an upgrade must still match the same arguments after it.
    expect(fingerprintOf(['req-1'])).toBe(sha256('"req-1"'));
    expect(fingerprintOf(['req-1', { cents: 500, meta: { b: [1, 'x', null], a: true } }])).toBe(
      sha256('"req-1"\u0000{"cents":500,"meta":{"a":true,"b":[1,"x",null]}}'),
    );
    expect(canonical([1.5, -7, 1e21, Infinity, NaN, 10n, undefined])).toBe(
      '[1.5,-7,1e+21,#Infinity,#NaN,10n,undefined]',
    );
    expect(
      canonical(
        new Map<unknown, unknown>([
          ['b', 1],
          [2, 'a'],
        ]),
      ),
    ).toBe('M{"b":1,2:"a"}');
    expect(canonical(new Set(['b', 'a']))).toBe('S["a","b"]');
    expect(canonical(new Date(1_700_000_000_000))).toBe('D1700000000000');
  });

  it('gives pinned texts for every other kind, so that every process of a fleet computes the same', () => {
    expect(
      canonical([
        -0,
        Symbol.for('tenant'),
        Symbol.iterator,
        [1, , 3],
        { [Symbol.for('k')]: 1, a: 2 },
        new Uint8Array([1, 2]),
        new DataView(bytes(7)),
        bytes(1),
        new URL('https://pay.example/charge?id=1'),
        new URLSearchParams('b=1&a=2'),
        /a+/gi,
        Object.assign(new TypeError('boom', { cause: 'disk' }), { code: 'E1' }),
        new Number(3),
        new Point(1),
        new Tags([['a', 1]]),
        new Date(Number.NaN),
      ]),
    ).toBe(
      '[-0,@for"tenant",@wk"iterator",[1,~1,3],{"a":2,@for"k":1},B"Uint8Array":AQI=,B"DataView":Bw==,B"ArrayBuffer":AQ==,' +
        'U"https://pay.example/charge?id=1",Q"b=1&a=2",R"a+"/gi,E"TypeError"{"cause":"disk","code":"E1","message":"boom"},' +
        'O(3),C"Point"{"x":1},M{"a":1}<"Tags"{}>,DNaN]',
    );
  });

  const differ: [string, unknown, unknown][] = [
    ['-0 and 0', -0, 0],
    ['NaN and the string "NaN"', Number.NaN, 'NaN'],
    ['a number and a bigint', 1, 1n],
    ['a number and its string', 1, '1'],
    ['true and "true"', true, 'true'],
    ['two registered symbols', Symbol.for('a'), Symbol.for('b')],
    ['a registered symbol and its key', Symbol.for('a'), 'a'],
    ['Symbol.for("iterator") and Symbol.iterator', Symbol.for('iterator'), Symbol.iterator],
    ['an object with a symbol key and one without', { a: 1, [Symbol.for('k')]: 1 }, { a: 1 }],
    ['objects keyed by different symbols', { [Symbol.for('k')]: 1 }, { [Symbol.for('j')]: 1 }],
    ['a symbol key and the string of its key', { [Symbol.for('k')]: 1 }, { k: 1 }],
    ['a hole and undefined', [1, , 3], [1, undefined, 3]],
    ['[,] and []', [,], []],
    ['[,] and [undefined]', [,], [undefined]],
    ['two holes and one', [, ,], [,]],
    ['an array and the object of its indices', [1], { 0: 1 }],
    ['two Dates', new Date(0), new Date(1)],
    ['an invalid Date and a valid one', new Date(Number.NaN), new Date(0)],
    ['a Date and its time', new Date(0), 0],
    ['Maps with different values', new Map([['a', 1]]), new Map([['a', 2]])],
    ['a Map and an object of its entries', new Map([['a', 1]]), { a: 1 }],
    ['a Set and an array of its values', new Set([1]), [1]],
    ['a Map and its subclass', new Map([['a', 1]]), new Tags([['a', 1]])],
    ['Uint8Array and Int8Array of the same bytes', new Uint8Array([1, 2]), new Int8Array([1, 2])],
    ['Uint8Array and Uint8ClampedArray', new Uint8Array([1]), new Uint8ClampedArray([1])],
    ['Uint8Array and a Buffer of the same bytes', new Uint8Array([1]), Buffer.from([1])],
    [
      'Uint16Array and Uint8Array of the same bytes',
      new Uint16Array([1]),
      new Uint8Array(new Uint16Array([1]).buffer),
    ],
    ['Float64Array and BigInt64Array of the same bytes', new Float64Array(1), new BigInt64Array(1)],
    ['typed arrays of different bytes', new Uint8Array([1, 2]), new Uint8Array([1, 3])],
    ['two ArrayBuffers', bytes(1, 2), bytes(1, 3)],
    ['an ArrayBuffer and a view of its bytes', bytes(1), new Uint8Array([1])],
    ['a DataView and an ArrayBuffer', new DataView(bytes(1)), bytes(1)],
    ['a SharedArrayBuffer and an ArrayBuffer', new SharedArrayBuffer(1), new ArrayBuffer(1)],
    ['two URLs', new URL('https://a.example/x'), new URL('https://a.example/y')],
    ['a URL and its href', new URL('https://a.example/'), 'https://a.example/'],
    [
      'URLSearchParams with different values',
      new URLSearchParams('a=1'),
      new URLSearchParams('a=2'),
    ],
    [
      'URLSearchParams in another order',
      new URLSearchParams('a=1&b=2'),
      new URLSearchParams('b=2&a=1'),
    ],
    ['RegExps with different flags', /a/, /a/g],
    ['RegExps with different sources', /a/, /b/],
    ['a RegExp and its source', /a/, 'a'],
    ['Errors with different messages', new Error('a'), new Error('b')],
    ['an Error and a TypeError', new Error('a'), new TypeError('a')],
    [
      'Errors with different codes',
      Object.assign(new Error('a'), { code: 'E1' }),
      Object.assign(new Error('a'), { code: 'E2' }),
    ],
    ['Errors with different causes', new Error('a', { cause: 1 }), new Error('a', { cause: 2 })],
    [
      'AggregateErrors of different errors',
      new AggregateError([new Error('a')]),
      new AggregateError([new Error('b')]),
    ],
    ['an Error and an object of its message', new Error('a'), { message: 'a' }],
    ['a boxed number and the number', new Number(1), 1],
    ['a boxed string and the string', new String('a'), 'a'],
    ['boxed booleans', new Boolean(false), new Boolean(true)],
    ['a boxed bigint and the bigint', Object(1n), 1n],
    ['a class instance and a plain object', new Point(1), { x: 1 }],
    ['instances of two classes', new Point(1), new Vector(1)],
    ['instances with different properties', new Point(1), new Point(2)],
    [
      'instances with different symbol-keyed properties',
      Object.assign(new Point(1), { [Symbol.for('k')]: 1 }),
      new Point(1),
    ],
    ['functions and undefined in an array', [() => 1], [undefined]],
  ];

  it.each(differ)('tells apart %s', (_what, a, b) => {
    expect(canonical(a)).not.toBe(canonical(b));
    expect(fingerprintOf([a])).not.toBe(fingerprintOf([b]));
  });

  const same: [string, unknown[], unknown[]][] = [
    ['objects in another key order', [{ a: 1, b: 2 }], [{ b: 2, a: 1 }]],
    [
      'symbol keys in another order',
      [{ [Symbol.for('a')]: 1, [Symbol.iterator]: 2 }],
      [{ [Symbol.iterator]: 2, [Symbol.for('a')]: 1 }],
    ],
    [
      'Maps in another insertion order',
      [
        new Map([
          ['a', 1],
          ['b', 2],
        ]),
      ],
      [
        new Map([
          ['b', 2],
          ['a', 1],
        ]),
      ],
    ],
    [
      'Sets in another insertion order',
      [new Set([{ n: 1 }, { n: 2 }])],
      [new Set([{ n: 2 }, { n: 1 }])],
    ],
    [
      'undefined and function properties left out',
      [{ a: 1, u: undefined, f: () => 0 }],
      [{ a: 1 }],
    ],
    [
      'AbortSignal properties left out',
      [{ a: 1, signal: new AbortController().signal }],
      [{ a: 1 }],
    ],
    [
      'unique-symbol keys whose values do not count',
      [{ a: 1, [Symbol('hook')]: () => 0 }],
      [{ a: 1 }],
    ],
    ['trailing undefined arguments', ['a', undefined, undefined], ['a']],
    ['two different functions', ['a', () => 1], ['a', () => 2]],
    ['two different AbortSignals', ['a', new AbortController().signal], ['a', AbortSignal.abort()]],
    [
      'a null-prototype object and a plain one',
      [Object.assign(Object.create(null) as object, { a: 1 })],
      [{ a: 1 }],
    ],
    [
      'views of the same bytes at different offsets',
      [new Uint8Array([9, 1, 2]).subarray(1)],
      [new Uint8Array([1, 2])],
    ],
    [
      'two equal Dates, URLs, RegExps',
      [new Date(5), new URL('https://a.example'), /x/y],
      [new Date(5), new URL('https://a.example/'), /x/y],
    ],
    [
      'Errors thrown from different places',
      [new Error('a', { cause: 'c' })],
      [((): Error => new Error('a', { cause: 'c' }))()],
    ],
    ['a repeated object that is no cycle', [[{ n: 1 }, { n: 1 }]], [((o) => [o, o])({ n: 1 })]],
  ];

  it.each(same)('matches %s', (_what, a, b) => {
    expect(fingerprintOf(a)).toBe(fingerprintOf(b));
  });

  it('reads a detached buffer, and a view of one, as the empty bytes they now hold', () => {
    const buffer = bytes(1, 2);
    const view = new Uint8Array(buffer);
    structuredClone(buffer, { transfer: [buffer] });
    expect(canonical([buffer, view])).toBe('[B"ArrayBuffer":,B"Uint8Array":]');
  });

  it('reads a huge sparse array by its elements, not its length', () => {
    const huge: unknown[] = [];
    huge.length = 2 ** 32 - 1;
    huge[5] = 'x';
    const started = process.hrtime.bigint();
    expect(canonical(huge)).toBe('[~5,"x",~4294967289]');
    // Walking 4 billion slots would take seconds; reading the one element takes microseconds.
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1_000);
  });
});

describe('fingerprintOf refusals', () => {
  const refused: [string, () => unknown, string, string][] = [
    [
      'a unique symbol',
      () => ({ tenant: Symbol('tenant') }),
      'args[0].tenant',
      'is the unique symbol Symbol(tenant)',
    ],
    [
      'a unique symbol key',
      () => ({ meta: { [Symbol('trace')]: 1 } }),
      'args[0].meta',
      'has a property keyed by the unique symbol Symbol(trace)',
    ],
    [
      'a unique symbol as a Map key',
      () => new Map([[Symbol('k'), 1]]),
      'args[0].keys()[0]',
      'is the unique symbol Symbol(k)',
    ],
    [
      'a WeakMap',
      () => ({ meta: new WeakMap() }),
      'args[0].meta',
      'is an instance of WeakMap, whose entries cannot be listed',
    ],
    [
      'a WeakSet',
      () => [new WeakSet()],
      'args[0][0]',
      'is an instance of WeakSet, whose entries cannot be listed',
    ],
    [
      'a Promise',
      () => ({ total: Promise.resolve(5) }),
      'args[0].total',
      'is an instance of Promise, whose value is not known when the call starts',
    ],
    [
      'a generator',
      () => ({ lines: (function* () {})() }),
      'args[0].lines',
      'is an iterator or a generator',
    ],
    [
      'an iterator',
      () => ({ lines: [1, 2].values() }),
      'args[0].lines',
      'is an iterator or a generator',
    ],
    [
      'an instance with #private fields',
      () => ({ ledger: new Ledger() }),
      'args[0].ledger',
      'is an instance of Ledger, and class Ledger declares #private members',
    ],
    [
      'an instance of a subclass',
      () => ({ 'the ledger': new AuditedLedger() }),
      'args[0]["the ledger"]',
      'is an instance of AuditedLedger (which extends Ledger), and class Ledger declares #private members',
    ],
    [
      'an instance with only #private methods',
      () => new Helpers(),
      'args[0]',
      'is an instance of Helpers, and class Helpers declares #private members',
    ],
    [
      'an instance whose class has "#f" in a string (a false positive, documented)',
      () => new Colour(),
      'args[0]',
      'is an instance of Colour, and class Colour declares #private members',
    ],
    [
      'a built-in with internal state',
      () => ({ format: new Intl.NumberFormat('en') }),
      'args[0].format',
      'is an instance of NumberFormat, a built-in object whose contents cannot be read',
    ],
    [
      'a cycle',
      () => ((o: { items: unknown[] }) => (o.items.push({ parent: o }), o))({ items: [] }),
      'args[0].items[0].parent',
      'refers back to args[0], a cycle',
    ],
    [
      'a cycle through an Error cause',
      () => ((e: Error) => ((e.cause = [e]), e))(new Error('loop')),
      'args[0].cause[0]',
      'refers back to args[0], a cycle',
    ],
  ];

  it.each(refused)(
    'refuses %s with a ConfigError that says where, why and how to fix it',
    (_what, make, path, why) => {
      const error = refusalOf(make);
      expect(error.option).toBe('fingerprint');
      expect(error.method).toBe('Orders.create');
      expect(error.message).toContain(
        "@Idempotent on Orders.create: cannot fingerprint the call's arguments, so the call was not run:",
      );
      expect(error.message).toContain(`${path} ${why}`);
      expect(error.message).toContain('Pass plain data');
      expect(error.message).toContain('@Idempotent({ key, fingerprint: (...args) => data })');
    },
  );

  it('names the argument by its position, and a value given to canonical() as "value"', () => {
    expect(() => fingerprintOf(['a', 1, new WeakMap()])).toThrow(
      'args[2] is an instance of WeakMap',
    );
    expect(() => canonical({ at: new WeakSet() })).toThrow('value.at is an instance of WeakSet');
  });

  it("names the fingerprint option's value in its refusals, and hashes that value as fingerprintOf([value]) does", () => {
    for (const value of [undefined, 'cents', 500, { cents: 500, tags: new Set(['a']) }])
      expect(fingerprintOfValue(value)).toBe(fingerprintOf([value]));
    expect(() => fingerprintOfValue({ meta: new WeakMap() }, 'Transfers.send')).toThrow(
      '@Idempotent on Transfers.send: cannot fingerprint what the fingerprint function returned, so the call was not run: ' +
        'fingerprint(...args).meta is an instance of WeakMap, whose entries cannot be listed. Return plain data from it',
    );
  });

  it("accepts a class whose '#' is followed by no letter, and reads URLs although their class has #private fields", () => {
    expect(canonical(new Ticket(12))).toBe('C"Ticket"{"id":12}');
    expect(canonical(new URL('https://a.example/'))).toBe('U"https://a.example/"');
  });

  it('decides each class once, from a cache, and still refuses it every time', () => {
    const toString = jest.spyOn(Function.prototype, 'toString');
    class Vault {
      #key = 'k';
      hint = this.#key.length;
    }
    try {
      for (let i = 0; i < 3; i++)
        expect(() => canonical(new Vault())).toThrow('class Vault declares #private members');
      expect(toString.mock.contexts.filter((context) => context === Vault)).toHaveLength(1);
    } finally {
      toString.mockRestore();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The property: equal fingerprints if and only if equal arguments, under this equality, written
// here from the documented rules and independently of the implementation.

const isSignal = (value: unknown): boolean => value instanceof AbortSignal;
const counts = (value: unknown): boolean =>
  value !== undefined && typeof value !== 'function' && !isSignal(value);
const className = (object: object): string =>
  (Object.getPrototypeOf(object) as { constructor?: { name?: string } } | null)?.constructor
    ?.name ?? '';

type Kind =
  | 'array'
  | 'plain'
  | 'date'
  | 'map'
  | 'set'
  | 'bytes'
  | 'url'
  | 'params'
  | 'regexp'
  | 'error'
  | 'boxed'
  | 'instance';

function kindOf(object: object): Kind {
  if (Array.isArray(object)) return 'array';
  if (object instanceof Date) return 'date';
  if (object instanceof Map) return 'map';
  if (object instanceof Set) return 'set';
  if (
    ArrayBuffer.isView(object) ||
    object instanceof ArrayBuffer ||
    object instanceof SharedArrayBuffer
  )
    return 'bytes';
  if (object instanceof URL) return 'url';
  if (object instanceof URLSearchParams) return 'params';
  if (object instanceof RegExp) return 'regexp';
  if (object instanceof Error) return 'error';
  if ([Number, String, Boolean, BigInt, Symbol].some((box) => object instanceof box))
    return 'boxed';
  const prototype: unknown = Object.getPrototypeOf(object);
  return prototype === Object.prototype || prototype === null ? 'plain' : 'instance';
}

/** The properties that count: own enumerable string and symbol keys whose value is not left out. */
function countedProperties(
  object: object,
  extra: readonly string[] = [],
): Map<string | symbol, unknown> {
  const keys: (string | symbol)[] = [
    ...Object.keys(object),
    ...Object.getOwnPropertySymbols(object).filter((s) =>
      Object.prototype.propertyIsEnumerable.call(object, s),
    ),
  ];
  for (const key of extra)
    if (
      (key === 'message' || Object.prototype.hasOwnProperty.call(object, key)) &&
      !keys.includes(key)
    )
      keys.push(key);
  const counted = new Map<string | symbol, unknown>();
  for (const key of keys) {
    const value = (object as Record<string | symbol, unknown>)[key];
    if (key !== 'stack' && counts(value)) counted.set(key, value);
  }
  return counted;
}

function sameProperties(a: object, b: object, extra?: readonly string[]): boolean {
  const left = countedProperties(a, extra);
  const right = countedProperties(b, extra);
  return (
    left.size === right.size &&
    [...left].every(([key, value]) => right.has(key) && sameValue(value, right.get(key)))
  );
}

/** Whether every element of `left` pairs with its own element of `right` (greedy is exact for an equivalence). */
function sameMultiset<T>(
  left: readonly T[],
  right: readonly T[],
  equal: (a: T, b: T) => boolean,
): boolean {
  if (left.length !== right.length) return false;
  const used = new Array<boolean>(right.length).fill(false);
  return left.every((item) => {
    const match = right.findIndex((other, i) => !used[i] && equal(item, other));
    if (match < 0) return false;
    used[match] = true;
    return true;
  });
}

function bytesOf(value: object): Uint8Array {
  return ArrayBuffer.isView(value)
    ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
    : new Uint8Array(value as ArrayBuffer);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'function' || typeof b === 'function') return typeof a === typeof b;
  if (isSignal(a) || isSignal(b)) return isSignal(a) && isSignal(b);
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null)
    return Object.is(a, b);
  const kind = kindOf(a);
  if (kind !== kindOf(b)) return false;
  if (kind !== 'plain' && className(a) !== className(b)) return false;
  switch (kind) {
    case 'array': {
      const [x, y] = [a as unknown[], b as unknown[]];
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++)
        if (i in x !== i in y || !sameValue(x[i], y[i])) return false;
      return true;
    }
    case 'plain':
    case 'instance':
      return sameProperties(a, b);
    case 'error':
      return sameProperties(a, b, ['message', 'cause', 'errors']);
    case 'date':
      return Object.is((a as Date).getTime(), (b as Date).getTime()) && sameProperties(a, b);
    case 'map':
      return (
        sameMultiset(
          [...(a as Map<unknown, unknown>)],
          [...(b as Map<unknown, unknown>)],
          ([k1, v1], [k2, v2]) => sameValue(k1, k2) && sameValue(v1, v2),
        ) && sameProperties(a, b)
      );
    case 'set':
      return (
        sameMultiset([...(a as Set<unknown>)], [...(b as Set<unknown>)], sameValue) &&
        sameProperties(a, b)
      );
    case 'bytes':
      return (
        Object.prototype.toString.call(a) === Object.prototype.toString.call(b) &&
        Buffer.from(bytesOf(a)).equals(Buffer.from(bytesOf(b)))
      );
    case 'url':
      return (a as URL).href === (b as URL).href && sameProperties(a, b);
    case 'params':
      return String(a) === String(b) && sameProperties(a, b);
    case 'regexp':
      return (
        (a as RegExp).source === (b as RegExp).source &&
        (a as RegExp).flags === (b as RegExp).flags &&
        sameProperties(a, b)
      );
    case 'boxed':
      return sameValue(a.valueOf(), b.valueOf());
  }
}

function sameArguments(a: readonly unknown[], b: readonly unknown[]): boolean {
  const trimmed = (args: readonly unknown[]): readonly unknown[] => {
    let end = args.length;
    while (end > 0 && args[end - 1] === undefined) end--;
    return args.slice(0, end);
  };
  const [x, y] = [trimmed(a), trimmed(b)];
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (!sameValue(x[i], y[i])) return false;
  return true;
}

/** A replacement that removes the node: an array element becomes a hole, a property or entry goes. */
const REMOVED = Symbol('removed');

/**
 * Rebuilds a generated value with fresh containers: `reorder` reverses key and insertion orders and
 * adds properties that do not count, and copies bytes to another buffer; `replace` swaps the n-th
 * node (in pre-order) for another value, or removes it. Values it does not know are reused as they are.
 */
function rebuild(
  value: unknown,
  how: { reorder: boolean; replace?: { index: number; by: unknown } },
  counter = { next: -1 },
): unknown {
  // The counter starts at -1: the root (the argument list itself) is never replaced.
  if (how.replace !== undefined && counter.next++ === how.replace.index) return how.replace.by;
  // Where the container cannot drop a node (a constructor's argument), a removed node is undefined.
  const again = (inner: unknown): unknown => rebuild(inner, how, counter);
  const present = (inner: unknown): unknown =>
    (inner = again(inner)) === REMOVED ? undefined : inner;
  const order = <T>(items: T[]): T[] => (how.reorder ? items.reverse() : items);
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value) && Object.getPrototypeOf(value) === Array.prototype) {
    const out: unknown[] = [];
    out.length = value.length;
    for (const i of order(Object.keys(value).map(Number))) {
      const item = again(value[i]);
      if (item !== REMOVED) out[i] = item;
    }
    return out;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype === Object.prototype || prototype === null) {
    const out = Object.create(prototype) as Record<string | symbol, unknown>;
    for (const key of order([...Object.keys(value), ...Object.getOwnPropertySymbols(value)])) {
      const property = again((value as Record<string | symbol, unknown>)[key]);
      if (property !== REMOVED)
        Object.defineProperty(out, key, {
          value: property,
          enumerable: true,
          writable: true,
          configurable: true,
        });
    }
    if (how.reorder)
      Object.assign(out, {
        zUndefined: undefined,
        zFunction: () => 0,
        zSignal: new AbortController().signal,
      });
    return out;
  }
  if (value instanceof Map)
    return new Map(
      order(
        [...value]
          .map(([k, v]) => [again(k), again(v)] as const)
          .filter(([k, v]) => k !== REMOVED && v !== REMOVED),
      ),
    );
  if (value instanceof Set)
    return new Set(order([...value].map(again).filter((item) => item !== REMOVED)));
  if (value instanceof Point || value instanceof Vector)
    return new (value.constructor as typeof Point)(present(value.x));
  if (
    value instanceof Error &&
    Object.getPrototypeOf(value) === (value.constructor as ErrorConstructor).prototype
  ) {
    const out =
      'cause' in value
        ? new (value.constructor as ErrorConstructor)(value.message, {
            cause: present(value.cause),
          })
        : new (value.constructor as ErrorConstructor)(value.message);
    return Object.assign(
      out,
      Object.fromEntries(Object.entries(value).map(([k, v]) => [k, present(v)])),
    );
  }
  if (
    how.reorder &&
    ArrayBuffer.isView(value) &&
    !(value instanceof DataView) &&
    Object.getPrototypeOf(value) !== Buffer.prototype
  ) {
    // The same bytes in another buffer, 8 bytes in (aligned for every element size).
    const source = bytesOf(value);
    const buffer = new ArrayBuffer(source.length + 8);
    new Uint8Array(buffer, 8).set(source);
    return new (value.constructor as Uint8ArrayConstructor)(
      buffer,
      8,
      (value as Uint8Array).length,
    );
  }
  if (how.reorder && value instanceof Date) return new Date(value.getTime());
  if (how.reorder && value instanceof URL) return new URL(value.href);
  return value;
}

// A small world, so that equal and nearly equal values come up often: each leaf is made afresh.
const leafMakers: (() => unknown)[] = [
  ...[
    0,
    -0,
    1,
    Number.NaN,
    Infinity,
    -Infinity,
    '',
    'a',
    '0',
    'NaN',
    'undefined',
    true,
    false,
    null,
    undefined,
    0n,
    1n,
  ].map((v) => () => v),
  ...[Symbol.for('a'), Symbol.for('iterator'), Symbol.iterator, 'iterator'].map((v) => () => v),
  () => new Uint8Array([1]),
  () => new Int8Array([1]),
  () => new Uint8ClampedArray([1]),
  () => new Uint8Array([1, 0]),
  () => new Uint16Array([1]),
  () => new Float32Array(0),
  () => new Uint8Array(0),
  () => Buffer.from([1]),
  () => new ArrayBuffer(1),
  () => bytes(1),
  () => new DataView(bytes(1)),
  () => new SharedArrayBuffer(1),
  () => new Date(0),
  () => new Date(1),
  () => new Date(Number.NaN),
  () => new URL('https://a.example/'),
  () => new URL('https://a.example/?q'),
  () => new URLSearchParams('a=1'),
  () => 'a=1',
  () => /a/,
  () => /a/g,
  () => new Number(0),
  () => new Number(-0),
  () => new String('a'),
  () => new Boolean(false),
  () => Object(0n) as object,
  () => new Error('a'),
  () => new TypeError('a'),
  () => Object.assign(new Error('a'), { code: 'E1' }),
  () => new Error('a', { cause: 0 }),
  () => new Error('a', { cause: -0 }),
  () => ({ message: 'a' }),
  () => new Point(1),
  () => new Vector(1),
  () => ({ x: 1 }),
  () => () => 'a function',
  () => new AbortController().signal,
];
const leaf: fc.Arbitrary<unknown> = fc.constantFrom(...leafMakers).map((make) => make());

const { value: smallValue } = fc.letrec((tie) => ({
  value: fc.oneof(
    { maxDepth: 3, depthSize: 'small' },
    leaf,
    tie('array'),
    tie('object'),
    tie('map'),
    tie('set'),
    tie('instance'),
    tie('error'),
  ),
  array: fc.oneof(
    fc.array(tie('value'), { maxLength: 3 }),
    fc.sparseArray(tie('value'), { maxLength: 3 }),
  ),
  object: fc
    .tuple(
      fc.dictionary(fc.constantFrom('a', 'b', 'message'), tie('value'), { maxKeys: 2 }),
      fc.option(fc.tuple(fc.constantFrom(Symbol.for('a'), Symbol.toStringTag), tie('value'))),
      fc.boolean(),
    )
    .map(([entries, symbolEntry, nullPrototype]) => {
      const out = Object.assign(
        Object.create(nullPrototype ? null : Object.prototype) as Record<string | symbol, unknown>,
        entries,
      );
      if (symbolEntry !== null) out[symbolEntry[0]] = symbolEntry[1];
      return out;
    }),
  map: fc
    .array(fc.tuple(tie('value'), tie('value')), { maxLength: 2 })
    .map((entries) => new Map(entries)),
  set: fc.array(tie('value'), { maxLength: 2 }).map((values) => new Set(values)),
  instance: fc
    .tuple(fc.constantFrom(Point, Vector), tie('value'))
    .map(([Class, x]) => new Class(x)),
  error: fc
    .tuple(
      fc.constantFrom(Error, TypeError),
      fc.constantFrom('a', 'b'),
      fc.option(tie('value'), { nil: undefined }),
      fc.option(fc.constantFrom('E1', 'E2'), { nil: undefined }),
    )
    .map(([ErrorClass, message, cause, code]) => {
      const error =
        cause === undefined ? new ErrorClass(message) : new ErrorClass(message, { cause });
      return code === undefined ? error : Object.assign(error, { code });
    }),
}));

const argumentList = (value: fc.Arbitrary<unknown>): fc.Arbitrary<unknown[]> =>
  fc.array(value, { maxLength: 3 });

/** A pair: independent, or the second rebuilt from the first (reordered, or with one node swapped). */
const pairOf = (value: fc.Arbitrary<unknown>): fc.Arbitrary<[unknown[], unknown[]]> =>
  fc.oneof(
    fc.tuple(argumentList(value), argumentList(value)),
    fc
      .tuple(argumentList(value), fc.nat({ max: 8 }), fc.oneof(value, fc.constant(REMOVED)))
      // Array.from: an argument list is never sparse (a removed argument is undefined).
      .map(([args, index, by]): [unknown[], unknown[]] => [
        args,
        Array.from(rebuild(args, { reorder: false, replace: { index, by } }) as unknown[]),
      ]),
    fc
      .tuple(argumentList(value), fc.nat({ max: 2 }))
      .map(([args, trailing]): [unknown[], unknown[]] => [
        args,
        [
          ...(rebuild(args, { reorder: true }) as unknown[]),
          ...new Array<undefined>(trailing).fill(undefined),
        ],
      ]),
  );

describe('fingerprintOf, as a property', () => {
  it('tells apart every two values of the small world and of all tiny arrays and objects, unless they are equal', () => {
    // Exhaustive where the space is small: every array of length <= 3 over {hole, undefined, 0, -0}, and
    // every object with one string key and one symbol key drawn from a few values, with either prototype.
    const HOLE = Symbol('hole');
    const slots = [HOLE, undefined, 0, -0];
    const arrayMakers: (() => unknown)[] = [() => []];
    for (let length = 1, shapes: unknown[][] = [[]]; length <= 3; length++) {
      shapes = shapes.flatMap((shape) => slots.map((slot) => [...shape, slot]));
      for (const shape of shapes) {
        arrayMakers.push(() => {
          const array: unknown[] = [];
          array.length = shape.length;
          shape.forEach((slot, i) => slot !== HOLE && (array[i] = slot));
          return array;
        });
      }
    }
    const objectMakers: (() => unknown)[] = [];
    for (const a of [HOLE, undefined, 0, '0', (): number => 0]) {
      for (const tagged of [HOLE, 0]) {
        for (const prototype of [Object.prototype, null]) {
          objectMakers.push(() => {
            const object = Object.create(prototype) as Record<string | symbol, unknown>;
            if (a !== HOLE) object.a = a;
            if (tagged !== HOLE) object[Symbol.for('a')] = tagged;
            return object;
          });
        }
      }
    }
    const world = [...leafMakers, ...arrayMakers, ...objectMakers];
    const firsts = world.map((make) => make());
    const seconds = world.map((make) => make());
    const [firstPrints, secondPrints] = [
      firsts.map((value) => fingerprintOf([value])),
      seconds.map((value) => fingerprintOf([value])),
    ];
    let equalPairs = 0;
    const wrong: string[] = [];
    for (let i = 0; i < world.length; i++) {
      for (let j = 0; j < world.length; j++) {
        const equal = sameValue(firsts[i], seconds[j]);
        if (equal) equalPairs++;
        if ((firstPrints[i] === secondPrints[j]) !== equal)
          wrong.push(
            `values ${i} and ${j} (${String(world[i])} / ${String(world[j])}): equal ${equal}`,
          );
      }
    }
    expect(wrong).toEqual([]);
    // Each value with its own fresh copy, at least; more where only what does not count differs.
    expect(equalPairs).toBeGreaterThan(world.length);
  });

  it('gives equal fingerprints exactly to equal arguments (2,000 pairs of a small world)', () => {
    let equalPairs = 0;
    fc.assert(
      fc.property(pairOf(smallValue), ([a, b]) => {
        const equal = sameArguments(a, b);
        if (equal) equalPairs++;
        return (fingerprintOf(a) === fingerprintOf(b)) === equal;
      }),
      { numRuns: 2_000 },
    );
    // The property means something only if both outcomes came up often.
    expect(equalPairs).toBeGreaterThan(300);
    expect(equalPairs).toBeLessThan(1_700);
  });

  it('holds for fc.anything with typed arrays, dates, maps, sets, boxed values, sparse and null-prototype objects', () => {
    const anything = fc.anything({
      maxDepth: 3,
      maxKeys: 3,
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withSparseArray: true,
      withTypedArray: true,
    });
    fc.assert(
      fc.property(
        pairOf(anything),
        ([a, b]) => (fingerprintOf(a) === fingerprintOf(b)) === sameArguments(a, b),
      ),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe(`keyed @Idempotent with arguments that differ only in kind (${decoratorMode} decorators)`, () => {
  beforeEach(() => {
    useHarness();
    configure({ store: new MemoryStore() });
  });
  afterAll(() => {
    configure({ store: new MemoryStore() });
  });

  const conflicting: [string, unknown, unknown][] = [
    [
      'a Uint8Array and an Int8Array of the same bytes',
      new Uint8Array([1, 2]),
      new Int8Array([1, 2]),
    ],
    ['two ArrayBuffers', bytes(1), bytes(2)],
    ['two URLs', new URL('https://a.example/1'), new URL('https://a.example/2')],
    ['two Error messages', new Error('card declined'), new Error('card expired')],
    [
      'two symbol-keyed properties',
      { [Symbol.for('tenant')]: 'a' },
      { [Symbol.for('tenant')]: 'b' },
    ],
  ];

  it.each(conflicting)(
    'fails the same key with %s as IdempotencyConflictError, without running the body again',
    async (_what, first, second) => {
      let runs = 0;
      class Uploads {
        @Idempotent({ key: (id: string) => id })
        async put(_id: string, _body: unknown): Promise<number> {
          return ++runs;
        }
      }
      const uploads = new Uploads();
      expect(await uploads.put('u-1', first)).toBe(1);
      expect(await rejectionOf(uploads.put('u-1', second))).toBeInstanceOf(
        IdempotencyConflictError,
      );
      expect(await uploads.put('u-1', first)).toBe(1);
      expect(runs).toBe(1);
    },
  );

  it('replays the recorded result to the same arguments written in another order', async () => {
    let runs = 0;
    class Uploads {
      @Idempotent({ key: (id: string) => id })
      async put(_id: string, _body: unknown): Promise<number> {
        return ++runs;
      }
    }
    const uploads = new Uploads();
    await uploads.put('u-2', { tags: new Set(['a', 'b']), meta: { a: 1, b: 2 } });
    expect(await uploads.put('u-2', { meta: { b: 2, a: 1 }, tags: new Set(['b', 'a']) })).toBe(1);
    expect(runs).toBe(1);
  });

  it.each<[string, () => unknown, string]>([
    ['a WeakMap', () => ({ meta: new WeakMap() }), 'args[1].meta is an instance of WeakMap'],
    [
      'an instance with #private fields',
      () => ({ ledger: new Ledger() }),
      'args[1].ledger is an instance of Ledger',
    ],
    [
      'a unique symbol',
      () => ({ tenant: Symbol('tenant') }),
      'args[1].tenant is the unique symbol Symbol(tenant)',
    ],
  ])(
    'rejects an argument holding %s with ConfigError (fingerprint) before the body runs',
    async (_what, make, where) => {
      let runs = 0;
      class Uploads {
        @Idempotent({ key: (id: string) => id })
        async put(_id: string, _body: unknown): Promise<number> {
          return ++runs;
        }
      }
      const error = await rejectionOf(new Uploads().put('u-3', make()));
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).option).toBe('fingerprint');
      expect((error as ConfigError).message).toContain(where);
      expect(runs).toBe(0);
    },
  );
});
