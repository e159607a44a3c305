import type { OptionChecker } from '../validation';

/** The options of `@Bulkhead`. */
export interface BulkheadOptions {
  /** attempts that may run at once; an integer ≥ 1 (required, unless `name` joins a bulkhead configured elsewhere) */
  readonly maxConcurrent?: number;
  /** attempts that may wait for a slot, first in first out (default 0: none wait) */
  readonly maxQueued?: number;
  /** ms a queued attempt waits at most, then BulkheadRejectedError (default: as long as it takes) */
  readonly queueTimeout?: number;
  /** bulkheads are shared by name (default: one for the method, named `Class.method`) */
  readonly name?: string;
  /** 'class' (default): one bulkhead for all instances; 'instance': one per instance */
  readonly scope?: 'class' | 'instance';
}

const KEYS = ['maxConcurrent', 'maxQueued', 'queueTimeout', 'name', 'scope'] as const;

/** The longest timer Node keeps: a longer queueTimeout would fire after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/** Checks every option given (unknown keys included) and returns a frozen copy. */
export function checkBulkheadOptions(raw: unknown, checker: OptionChecker): BulkheadOptions {
  const options = checker.object('', raw, KEYS);
  // An option written as undefined is left out: `{ name, maxQueued: undefined }` gives only the name.
  const joinsByName =
    options.name !== undefined &&
    Object.keys(options).every(
      (key) => key === 'name' || key === 'scope' || options[key] === undefined,
    );
  if (options.maxConcurrent === undefined && !joinsByName)
    checker.fail(
      'maxConcurrent',
      'is required (or give only `name`, to join a bulkhead configured elsewhere)',
      undefined,
    );
  const out: Record<string, unknown> = {};
  if (options.maxConcurrent !== undefined)
    out.maxConcurrent = checker.integer('maxConcurrent', options.maxConcurrent, 1);
  if (options.maxQueued !== undefined)
    out.maxQueued = checker.integer('maxQueued', options.maxQueued, 0);
  if (options.queueTimeout !== undefined) {
    const queueTimeout = checker.duration('queueTimeout', options.queueTimeout);
    if (queueTimeout === 0)
      checker.fail(
        'queueTimeout',
        'must be > 0 ms (without a queue, give maxQueued: 0)',
        options.queueTimeout,
      );
    if (queueTimeout > MAX_TIMER_MS)
      checker.fail('queueTimeout', `must be at most ${MAX_TIMER_MS} ms`, options.queueTimeout);
    if (options.maxQueued === undefined || options.maxQueued === 0)
      checker.fail('queueTimeout', 'only applies with maxQueued >= 1', options.queueTimeout);
    out.queueTimeout = queueTimeout;
  }
  if (options.name !== undefined) out.name = checker.text('name', options.name);
  if (options.scope !== undefined)
    out.scope = checker.oneOf('scope', options.scope, ['class', 'instance'] as const);
  return Object.freeze(out) as unknown as BulkheadOptions;
}
