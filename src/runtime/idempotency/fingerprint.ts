import * as crypto from 'node:crypto';
import { types } from 'node:util';
import { isAbortSignal } from '../clock';
import { ConfigError } from '../errors';

// Node 20.12+ has a one-shot hash, about twice as fast as a Hash object for short texts.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string })
  .hash;

/** SHA-256 in hex: keys and argument fingerprints are stored hashed, never raw. */
export function sha256(text: string): string {
  return oneShot !== undefined
    ? oneShot('sha256', text, 'hex')
    : crypto.createHash('sha256').update(text).digest('hex');
}

/*
 * The text a value is fingerprinted as. Every kind has its own tag, so two kinds never give one text,
 * and every text ends where its grammar says, so a composite's parts cannot run into each other:
 *
 *   "json string"   1.5  -0  #NaN  #Infinity  #-Infinity   12n   true false null undefined
 *   fn (a function)  signal (an AbortSignal)   @wk"iterator" (well-known)  @for"key" (Symbol.for)
 *   [a,b,~2] (array; ~n: n holes)   {"key":v,@for"k":v} (plain object: string keys, then symbol keys)
 *   M{k:v,…} (Map)  S[v,…] (Set), entries sorted   D<ms>, DNaN (Date)   R"source"/flags (RegExp)
 *   B"Uint8Array":<base64> (typed arrays, DataView, ArrayBuffer, SharedArrayBuffer: type and bytes)
 *   U"href" (URL)  Q"a=1&b=2" (URLSearchParams)  O(v) (boxed primitive)
 *   E"TypeError"{…} (Error: class, message, cause, own properties)  C"Point"{…} (class instance)
 *
 * A built-in kind's instance of a subclass, or one with own properties, is followed by
 * <"ClassName"{…}>. Strings, finite numbers, booleans, null, plain objects, dense arrays, Maps, Sets and
 * Dates keep the text earlier versions gave them, so records written before an upgrade still match.
 */

/** One step from an argument to a value inside it, for the refusal's message. */
type Step = string | number | symbol | Marker;

/** A step that is not a property: pushed before an index (or 0) that it renders. */
interface Marker {
  readonly render: (index: number) => string;
}
const MAP_KEY: Marker = { render: (index) => `.keys()[${index}]` };
const COLLECTION_VALUE: Marker = { render: (index) => `.values()[${index}]` };
const VALUE_OF: Marker = { render: () => '.valueOf()' };

/** What one walk through an argument list keeps: the objects it is inside (for cycles) and the path to here. */
class Walk {
  readonly ancestors: object[] = [];
  readonly path: Step[] = [];
  /** The argument being walked; -1 when the value walked is not an argument (then `root` names it). */
  argument = -1;
  constructor(
    readonly method: string | undefined,
    readonly root: 'value' | 'fingerprint(...args)' = 'value',
  ) {}
}

/**
 * A stable text for a value, the same in every process: object keys sorted, Map and Set entries
 * sorted, so that equal values give one text whatever their order. Functions, AbortSignals and
 * properties whose value is undefined are left out (they do not describe the operation). A value
 * that cannot be told apart faithfully (a cycle, a unique symbol, a WeakMap, a Promise, an instance
 * of a class with #private members…) is refused with a `ConfigError` (option `fingerprint`).
 */
export function canonical(value: unknown): string {
  return text(value, new Walk(undefined));
}

/**
 * The arguments' fingerprint (SHA-256 of their canonical texts). Trailing undefined arguments do not
 * count. `method` (`Class.method`) names the call in a refusal.
 */
export function fingerprintOf(args: readonly unknown[], method?: string): string {
  let end = args.length;
  while (end > 0 && args[end - 1] === undefined) end--;
  let joined = '';
  let walk: Walk | undefined;
  for (let i = 0; i < end; i++) {
    const arg = args[i];
    if (i > 0) joined += '\u0000';
    if (typeof arg === 'string') joined += quote(arg);
    else if (typeof arg === 'number') joined += numberText(arg);
    else {
      // Only arguments that can be refused need a walk; most calls never allocate one.
      walk ??= new Walk(method);
      walk.argument = i;
      joined += text(arg, walk);
    }
  }
  return sha256(joined);
}

/**
 * The fingerprint of what `@Idempotent({ fingerprint })` returned for a call: the same hash as
 * `fingerprintOf([value])`, but a refusal names the option's value rather than an argument.
 */
export function fingerprintOfValue(value: unknown, method?: string): string {
  return sha256(value === undefined ? '' : text(value, new Walk(method, 'fingerprint(...args)')));
}

function text(value: unknown, walk: Walk): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      return numberText(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return symbolText(value, walk);
    case 'function':
      return 'fn';
  }
  if (value === null) return 'null';
  return objectText(value as object, walk);
}

/** JSON.stringify's text for a string; short strings that need no escape skip its cost. */
function quote(value: string): string {
  if (value.length > 64) return JSON.stringify(value);
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    // Control characters, '"', '\' and surrogates (a lone one is escaped) are JSON.stringify's business.
    if (code < 0x20 || code === 0x22 || code === 0x5c || (code >= 0xd800 && code <= 0xdfff))
      return JSON.stringify(value);
  }
  return `"${value}"`;
}

function numberText(value: number): string {
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  return Number.isFinite(value) ? `${value}` : `#${value}`;
}

// Well-known symbols by name, so that each process, whatever its Node version, names them alike.
const wellKnownSymbols = new Map<symbol, string>();
for (const name of Object.getOwnPropertyNames(Symbol)) {
  const symbol: unknown = (Symbol as unknown as Record<string, unknown>)[name];
  if (typeof symbol === 'symbol') wellKnownSymbols.set(symbol, `@wk${quote(name)}`);
}

/** The text of a symbol another process can identify, or undefined for a unique one. */
function identifiedSymbol(symbol: symbol): string | undefined {
  const wellKnown = wellKnownSymbols.get(symbol);
  if (wellKnown !== undefined) return wellKnown;
  const key = Symbol.keyFor(symbol);
  return key === undefined ? undefined : `@for${quote(key)}`;
}

function symbolText(symbol: symbol, walk: Walk): string {
  const identified = identifiedSymbol(symbol);
  if (identified !== undefined) return identified;
  return refuse(
    walk,
    `is the unique symbol ${String(symbol)}, which another process cannot identify (only Symbol.for() and well-known symbols can be fingerprinted)`,
  );
}

const objectPrototype = Object.prototype;
const arrayPrototype = Array.prototype;
const hasOwn = Object.prototype.hasOwnProperty;
const isEnumerable = Object.prototype.propertyIsEnumerable;
const objectToString = Object.prototype.toString;
const dateTime = Date.prototype.getTime;
const typedArrayName = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype),
  Symbol.toStringTag,
)?.get as (this: unknown) => string;

function objectText(object: object, walk: Walk): string {
  const { ancestors } = walk;
  if (ancestors.length > 0 && ancestors.includes(object)) {
    refuse(walk, `refers back to ${pathText(walk, ancestors.indexOf(object))}, a cycle`);
  }
  const prototype = Object.getPrototypeOf(object) as object | null;
  if (prototype === arrayPrototype) return arrayText(object as unknown[], walk);
  if (prototype === objectPrototype || prototype === null) {
    return isAbortSignal(object) ? 'signal' : entriesText(object, Object.keys(object), walk);
  }
  return otherObjectText(object, prototype, walk);
}

/** `{…}` of an object's own enumerable properties, string keys sorted, then identified symbol keys sorted. */
function entriesText(object: object, keys: string[], walk: Walk): string {
  const { ancestors, path } = walk;
  ancestors.push(object);
  if (keys.length > 1) keys.sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const property: unknown = (object as Record<string, unknown>)[key];
    if (property === undefined || typeof property === 'function' || isAbortSignal(property))
      continue;
    path.push(key);
    const propertyText = text(property, walk);
    path.pop();
    out += out.length === 1 ? `${quote(key)}:${propertyText}` : `,${quote(key)}:${propertyText}`;
  }
  const symbols = Object.getOwnPropertySymbols(object);
  if (symbols.length > 0) out += symbolEntriesText(object, symbols, out.length > 1, walk);
  ancestors.pop();
  return `${out}}`;
}

function symbolEntriesText(
  object: object,
  symbols: symbol[],
  afterOthers: boolean,
  walk: Walk,
): string {
  const entries: string[] = [];
  for (const symbol of symbols) {
    if (!isEnumerable.call(object, symbol)) continue;
    const property: unknown = (object as Record<symbol, unknown>)[symbol];
    if (property === undefined || typeof property === 'function' || isAbortSignal(property))
      continue;
    const key = identifiedSymbol(symbol);
    if (key === undefined) {
      refuse(
        walk,
        `has a property keyed by the unique symbol ${String(symbol)}, which another process cannot identify (only Symbol.for() and well-known symbols can be fingerprinted)`,
      );
    }
    walk.path.push(symbol);
    entries.push(`${key}:${text(property, walk)}`);
    walk.path.pop();
  }
  if (entries.length === 0) return '';
  return (afterOthers ? ',' : '') + entries.sort().join(',');
}

function arrayText(array: readonly unknown[], walk: Walk): string {
  const { ancestors, path } = walk;
  ancestors.push(array);
  const length = array.length;
  let out = '[';
  for (let i = 0; i < length; i++) {
    const item = array[i];
    if (item === undefined && !(i in array)) {
      out = sparseTailText(array, i, out, walk);
      break;
    }
    path.push(i);
    const itemText = text(item, walk);
    path.pop();
    out += i === 0 ? itemText : `,${itemText}`;
  }
  ancestors.pop();
  return `${out}]`;
}

/** The rest of an array from its first hole: runs of holes as `~n`, found from its keys, so a huge empty length costs nothing. */
function sparseTailText(array: readonly unknown[], from: number, out: string, walk: Walk): string {
  const length = array.length;
  let next = from;
  for (const key of Object.keys(array)) {
    const index = Number(key);
    if (!(index >= next) || `${index}` !== key) continue;
    if (index >= length) break;
    if (index > next) out += `${out.length > 1 ? ',' : ''}~${index - next}`;
    walk.path.push(index);
    out += `${out.length > 1 ? ',' : ''}${text(array[index], walk)}`;
    walk.path.pop();
    next = index + 1;
  }
  if (next < length) out += `${out.length > 1 ? ',' : ''}~${length - next}`;
  return out;
}

/** Everything that is neither a plain object nor a plain array: built-in kinds, class instances, refusals. */
function otherObjectText(object: object, prototype: object, walk: Walk): string {
  if (isAbortSignal(object)) return 'signal';
  checkClassChain(object, prototype, walk);
  const name = constructorName(prototype);
  if (Array.isArray(object))
    return arrayText(object, walk) + extrasText(object, name, 'Array', [], walk);
  if (types.isDate(object))
    return `D${dateTime.call(object)}${extrasText(object, name, 'Date', Object.keys(object), walk)}`;
  if (types.isMap(object))
    return mapText(object, walk) + extrasText(object, name, 'Map', Object.keys(object), walk);
  if (types.isSet(object))
    return setText(object, walk) + extrasText(object, name, 'Set', Object.keys(object), walk);
  if (ArrayBuffer.isView(object)) {
    const type = types.isDataView(object) ? 'DataView' : typedArrayName.call(object);
    // A view of a detached buffer has no bytes left (and Buffer.from refuses it): it reads as empty.
    return bytesText(
      object,
      type,
      object.byteLength === 0
        ? EMPTY
        : Buffer.from(object.buffer, object.byteOffset, object.byteLength),
      name,
      walk,
    );
  }
  if (types.isArrayBuffer(object))
    return bytesText(
      object,
      'ArrayBuffer',
      object.byteLength === 0 ? EMPTY : Buffer.from(object),
      name,
      walk,
    );
  if (types.isSharedArrayBuffer(object))
    return bytesText(object, 'SharedArrayBuffer', Buffer.from(object), name, walk);
  if (types.isRegExp(object)) {
    const { source, flags } = object as RegExp;
    return `R${quote(source)}/${flags}${extrasText(object, name, 'RegExp', Object.keys(object), walk)}`;
  }
  if (types.isBoxedPrimitive(object)) return boxedText(object, name, walk);
  if (object instanceof URL)
    return `U${quote(object.href)}${extrasText(object, name, 'URL', Object.keys(object), walk)}`;
  if (object instanceof URLSearchParams) {
    return `Q${quote(URLSearchParams.prototype.toString.call(object))}${extrasText(object, name, 'URLSearchParams', Object.keys(object), walk)}`;
  }
  if (types.isNativeError(object) || object instanceof Error) return errorText(object, name, walk);
  if (types.isGeneratorObject(object) || objectToString.call(object).endsWith(' Iterator]')) {
    refuse(
      walk,
      'is an iterator or a generator, whose values cannot be read without consuming them (pass an array of them)',
    );
  }
  // A plain object from another realm (a vm context) is still a plain object.
  if (name === 'Object' && Object.getPrototypeOf(prototype) === null)
    return entriesText(object, Object.keys(object), walk);
  return `C${quote(name)}${entriesText(object, Object.keys(object), walk)}`;
}

/** `<"Subclass"{own properties}>` after a built-in kind's text, or nothing for a plain instance. */
function extrasText(
  object: object,
  name: string,
  intrinsicName: string,
  keys: string[],
  walk: Walk,
): string {
  const entries = entriesText(object, keys, walk);
  return name === intrinsicName && entries === '{}' ? '' : `<${quote(name)}${entries}>`;
}

function mapText(map: Map<unknown, unknown>, walk: Walk): string {
  const { ancestors, path } = walk;
  ancestors.push(map);
  const entries: string[] = [];
  let index = 0;
  for (const [key, value] of map) {
    path.push(MAP_KEY, index);
    const keyText = text(key, walk);
    path.length -= 2;
    path.push(COLLECTION_VALUE, index);
    entries.push(`${keyText}:${text(value, walk)}`);
    path.length -= 2;
    index++;
  }
  ancestors.pop();
  return `M{${entries.sort().join(',')}}`;
}

function setText(set: Set<unknown>, walk: Walk): string {
  const { ancestors, path } = walk;
  ancestors.push(set);
  const entries: string[] = [];
  let index = 0;
  for (const value of set) {
    path.push(COLLECTION_VALUE, index++);
    entries.push(text(value, walk));
    path.length -= 2;
  }
  ancestors.pop();
  return `S[${entries.sort().join(',')}]`;
}

const EMPTY = Buffer.alloc(0);

function bytesText(object: object, type: string, bytes: Buffer, name: string, walk: Walk): string {
  return `B${quote(type)}${extrasText(object, name, type, [], walk)}:${bytes.toString('base64')}`;
}

function boxedText(object: object, name: string, walk: Walk): string {
  let primitive: unknown;
  let intrinsicName: string;
  let keys = Object.keys(object);
  if (types.isNumberObject(object))
    [primitive, intrinsicName] = [Number.prototype.valueOf.call(object), 'Number'];
  else if (types.isBooleanObject(object))
    [primitive, intrinsicName] = [Boolean.prototype.valueOf.call(object), 'Boolean'];
  else if (types.isBigIntObject(object))
    [primitive, intrinsicName] = [BigInt.prototype.valueOf.call(object), 'BigInt'];
  else if (types.isSymbolObject(object))
    [primitive, intrinsicName] = [Symbol.prototype.valueOf.call(object), 'Symbol'];
  else {
    const value = String.prototype.valueOf.call(object);
    [primitive, intrinsicName] = [value, 'String'];
    // A String object's characters are its own index properties: they are its value, not extras.
    keys = keys.filter((key) => !(`${Number(key)}` === key && Number(key) < value.length));
  }
  walk.path.push(VALUE_OF, 0);
  const primitiveText = text(primitive, walk);
  walk.path.length -= 2;
  return `O(${primitiveText})${extrasText(object, name, intrinsicName, keys, walk)}`;
}

function errorText(error: object, name: string, walk: Walk): string {
  // The stack differs from process to process and says where, not what.
  const keys = Object.keys(error).filter((key) => key !== 'stack');
  if (!keys.includes('message')) keys.push('message');
  for (const own of ['cause', 'errors'])
    if (hasOwn.call(error, own) && !keys.includes(own)) keys.push(own);
  return `E${quote(name)}${entriesText(error, keys, walk)}`;
}

function constructorName(prototype: object): string {
  const constructor: unknown = (prototype as { constructor?: unknown }).constructor;
  return typeof constructor === 'function' ? constructor.name : '';
}

/** Whether a class's instances can be read: its own fields are, #private ones and a built-in's internal slots are not. */
type ClassVerdict = 'readable' | 'private members' | 'opaque built-in';

/** Native constructors whose instances are read faithfully above (typed arrays share `TypedArray`). */
const readableBuiltIns = new Set([
  'Object',
  'Array',
  'Map',
  'Set',
  'Date',
  'RegExp',
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'TypedArray',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'Float16Array',
  'Number',
  'String',
  'Boolean',
  'BigInt',
  'Symbol',
  'Error',
  'EvalError',
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'TypeError',
  'URIError',
  'AggregateError',
]);

const NATIVE_CODE = /\{\s*\[native code\]\s*\}\s*$/;
// `#name` as a private member is written; '#' then a letter in a string or a comment matches too.
const PRIVATE_NAME = /#[A-Za-z_$\\\u0080-\uffff]/;
const verdicts = new WeakMap<Function, ClassVerdict>();

function verdictOf(constructor: Function): ClassVerdict {
  let verdict = verdicts.get(constructor);
  if (verdict === undefined) {
    verdict = 'readable';
    // URL and URLSearchParams keep their state in #private fields, but are read through href and toString.
    if (constructor !== URL && constructor !== URLSearchParams) {
      const source = Function.prototype.toString.call(constructor);
      if (NATIVE_CODE.test(source))
        verdict = readableBuiltIns.has(constructor.name) ? 'readable' : 'opaque built-in';
      else if (PRIVATE_NAME.test(source)) verdict = 'private members';
    }
    verdicts.set(constructor, verdict);
  }
  return verdict;
}

/** Refuses an object whose class, or a class it extends, holds state that cannot be read. */
function checkClassChain(object: object, prototype: object, walk: Walk): void {
  for (
    let level: object | null = prototype;
    level !== null && level !== objectPrototype;
    level = Object.getPrototypeOf(level) as object | null
  ) {
    if (!hasOwn.call(level, 'constructor')) continue;
    const constructor: unknown = (level as { constructor: unknown }).constructor;
    if (typeof constructor !== 'function') continue;
    const verdict = verdictOf(constructor);
    if (verdict === 'readable') continue;
    const instanceName = constructorName(prototype);
    const what = `an instance of ${instanceName}${instanceName === constructor.name ? '' : ` (which extends ${constructor.name})`}`;
    if (verdict === 'private members') {
      refuse(
        walk,
        `is ${what}, and class ${constructor.name} declares #private members, which cannot be read ` +
          `(this is found in the class's source text, so a '#' followed by a letter in one of its strings or comments counts too)`,
      );
    }
    if (types.isPromise(object))
      refuse(
        walk,
        `is ${what}, whose value is not known when the call starts (await it and pass its value)`,
      );
    if (types.isWeakMap(object) || types.isWeakSet(object))
      refuse(walk, `is ${what}, whose entries cannot be listed`);
    refuse(walk, `is ${what}, a built-in object whose contents cannot be read`);
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `args[0].meta[2]`: where a value is, from the argument, through the first `length` steps. */
function pathText(walk: Walk, length = walk.path.length): string {
  let out = walk.argument < 0 ? walk.root : `args[${walk.argument}]`;
  const { path } = walk;
  for (let i = 0; i < length; i++) {
    const step = path[i];
    if (typeof step === 'number') out += `[${step}]`;
    else if (typeof step === 'string')
      out += IDENTIFIER.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`;
    else if (typeof step === 'symbol') out += `[${symbolName(step)}]`;
    else out += step.render(path[++i] as number);
  }
  return out;
}

function symbolName(symbol: symbol): string {
  const key = Symbol.keyFor(symbol);
  return key === undefined ? String(symbol) : `Symbol.for(${JSON.stringify(key)})`;
}

function refuse(walk: Walk, problem: string): never {
  const where = walk.method === undefined ? '@Idempotent' : `@Idempotent on ${walk.method}`;
  const [what, fix] =
    walk.root === 'fingerprint(...args)'
      ? [
          'what the fingerprint function returned',
          'Return plain data from it (strings, numbers, plain objects, arrays, Maps, Sets, Dates, bytes).',
        ]
      : [
          "the call's arguments",
          'Pass plain data (strings, numbers, plain objects, arrays, Maps, Sets, Dates, bytes), ' +
            'or say what identifies the call with @Idempotent({ key, fingerprint: (...args) => data }).',
        ];
  throw new ConfigError(
    `${where}: cannot fingerprint ${what}, so the call was not run: ${pathText(walk)} ${problem}. ${fix}`,
    'fingerprint',
    walk.method,
  );
}
