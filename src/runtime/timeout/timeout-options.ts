import type { OptionChecker } from '../validation';

/** The options of `@Timeout`: at least one of them. */
export interface TimeoutOptions {
  /** ms each attempt may run; at the deadline it rejects with TimeoutError (kind 'attempt') */
  readonly attempt?: number;
  /** ms the whole call may take, sleeps included; at the deadline it rejects with TimeoutError (kind 'total') */
  readonly total?: number;
}

const KEYS = ['attempt', 'total'] as const;

/** Checks `@Timeout(ms)` or `@Timeout({ attempt, total })`; returns a frozen copy. */
export function checkTimeoutOptions(
  params: readonly unknown[],
  checker: OptionChecker,
): TimeoutOptions {
  if (params.length !== 1)
    checker.fail(
      '@Timeout',
      'takes (ms) or one options object { attempt?, total? }',
      `${params.length} arguments`,
    );
  const raw = params[0];
  if (typeof raw === 'number') return Object.freeze({ attempt: deadline(checker, 'attempt', raw) });
  const options = checker.object('', raw, KEYS);
  const out: { attempt?: number; total?: number } = {};
  if (options.attempt !== undefined) out.attempt = deadline(checker, 'attempt', options.attempt);
  if (options.total !== undefined) out.total = deadline(checker, 'total', options.total);
  if (out.attempt === undefined && out.total === undefined)
    checker.fail('', 'must give attempt or total (ms)', raw);
  if (out.attempt !== undefined && out.total !== undefined && out.attempt > out.total) {
    checker.fail(
      'attempt',
      `must be <= total (${out.total}): an attempt cannot outlast its call`,
      out.attempt,
    );
  }
  return Object.freeze(out);
}

/** A deadline: a finite number of ms > 0 (at most 2^31 - 1, the longest timer Node keeps). */
function deadline(checker: OptionChecker, option: string, value: unknown): number {
  const ms = checker.duration(option, value);
  if (ms === 0 || ms > 2_147_483_647)
    checker.fail(option, 'must be > 0 and at most 2147483647 ms', value);
  return ms;
}
