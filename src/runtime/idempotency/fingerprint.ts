import { isAbortSignal } from '../clock';
import * as crypto from 'node:crypto';

// Node 20.12+ has a one-shot hash, about twice as fast as a Hash object for short texts.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** SHA-256 in hex: keys and argument fingerprints are stored hashed, never raw. */
export function sha256(text: string): string {
  return oneShot !== undefined ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
}

/**
 * A stable text for a value: object keys sorted, Map and Set entries sorted, so that two calls
 * with equal arguments give one fingerprint whatever the key order. Functions, AbortSignals and
 * undefined properties are left out (they do not describe the operation); cycles are an error.
 */
export function canonical(value: unknown, seen: Set<object> = new Set()): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : `#${String(value)}`;
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return `@${String(value.description)}`;
    case 'function':
      return 'fn';
  }
  if (value === null) return 'null';
  const object = value as object;
  if (seen.has(object)) throw new TypeError('steadfast: the arguments of a keyed @Idempotent call contain a cycle, so they cannot be fingerprinted');
  seen.add(object);
  try {
    if (value instanceof Date) return `D${value.getTime()}`;
    if (ArrayBuffer.isView(value)) return `B${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}`;
    if (Array.isArray(value)) return `[${value.map((item) => canonical(item, seen)).join(',')}]`;
    if (value instanceof Map) {
      return `M{${[...value].map(([k, v]) => `${canonical(k, seen)}:${canonical(v, seen)}`).sort().join(',')}}`;
    }
    if (value instanceof Set) return `S[${[...value].map((item) => canonical(item, seen)).sort().join(',')}]`;
    if (isAbortSignal(object)) return 'signal';
    const entries: string[] = [];
    for (const key of Object.keys(object).sort()) {
      const property = (object as Record<string, unknown>)[key];
      if (property === undefined || typeof property === 'function') continue;
      if (isAbortSignal(property)) continue;
      entries.push(`${JSON.stringify(key)}:${canonical(property, seen)}`);
    }
    return `{${entries.join(',')}}`;
  } finally {
    seen.delete(object);
  }
}

/** The arguments' fingerprint. Trailing undefined arguments and AbortSignal arguments do not count. */
export function fingerprintOf(args: readonly unknown[]): string {
  let end = args.length;
  while (end > 0 && args[end - 1] === undefined) end--;
  const parts: string[] = [];
  for (let i = 0; i < end; i++) {
    const arg = args[i];
    parts.push(isAbortSignal(arg) ? 'signal' : canonical(arg));
  }
  return sha256(parts.join('\u0000'));
}
