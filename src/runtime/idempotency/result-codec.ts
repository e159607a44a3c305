/**
 * Results are stored as JSON. A result that JSON would change (a Date, a Map, a class instance,
 * NaN, a bigint…) is refused rather than replayed altered. Properties whose value is undefined are
 * dropped, as JSON drops them; `undefined` itself (a void method) is kept.
 */
export type Encoded =
  { readonly ok: true; readonly text: string } | { readonly ok: false; readonly problem: string };

export function encodeResult(result: unknown): Encoded {
  if (result === undefined) return { ok: true, text: '{"u":1}' };
  const problem = jsonProblem(result, '(result)', new Set());
  if (problem !== undefined) return { ok: false, problem };
  return { ok: true, text: `{"v":${JSON.stringify(result)}}` };
}

/** The marker stored for a result that could not be stored, so later calls fail the same way. */
export function encodeUnstorable(problem: string): string {
  return JSON.stringify({ x: problem });
}

/** `ok: 'corrupt'`: the text is not a result this codec wrote, so nothing may be replayed from it. */
export type Decoded =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly problem: string }
  | { readonly ok: 'corrupt'; readonly problem: string };

export function decodeResult(text: unknown): Decoded {
  if (typeof text !== 'string')
    return { ok: 'corrupt', problem: 'the completed record holds no result' };
  let envelope: unknown;
  try {
    envelope = JSON.parse(text);
  } catch {
    return { ok: 'corrupt', problem: 'its result is not JSON' };
  }
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope))
    return { ok: 'corrupt', problem: 'its result is not a result envelope' };
  const keys = Object.keys(envelope);
  const fields = envelope as { v?: unknown; u?: unknown; x?: unknown };
  if (keys.length === 1 && keys[0] === 'v') return { ok: true, value: fields.v };
  if (keys.length === 1 && keys[0] === 'u' && fields.u === 1) return { ok: true, value: undefined };
  if (keys.length === 1 && keys[0] === 'x' && typeof fields.x === 'string')
    return { ok: false, problem: fields.x };
  return { ok: 'corrupt', problem: 'its result is not a result envelope' };
}

function jsonProblem(value: unknown, path: string, seen: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      if (Object.is(value, -0)) return `${path} is -0, which JSON turns into 0`;
      return Number.isFinite(value) ? undefined : `${path} is ${value}, which JSON turns into null`;
    case 'object':
      break;
    default:
      return `${path} is a ${typeof value}, which JSON cannot store`;
  }
  if (value === null) return undefined;
  if (seen.has(value)) return `${path} is a cycle`;
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const problem =
          value[i] === undefined
            ? `${path}[${i}] is undefined, which JSON turns into null`
            : jsonProblem(value[i], `${path}[${i}]`, seen);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      return `${path} is a ${kind}, which JSON would turn into ${kind === 'Date' ? 'a string' : 'a plain object'}`;
    }
    for (const [key, property] of Object.entries(value)) {
      if (property === undefined) continue;
      const problem = jsonProblem(property, `${path}.${key}`, seen);
      if (problem !== undefined) return problem;
    }
    return undefined;
  } finally {
    seen.delete(value);
  }
}
