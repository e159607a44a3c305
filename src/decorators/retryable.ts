import { checkRetryOptions, type RetryOptions } from '../runtime/retry/retry-options';
import type { OptionChecker } from '../runtime/validation';
import { declareBudget } from '../runtime/budget/budget-declarations';
import type { RetryBudgetSettings } from '../runtime/budget/budget-options';
import { methodDecorator, type SteadfastMethodDecorator } from './method-decorator';

/**
 * Retries the method on failure, with exponential backoff and jitter. The method must also be
 * `@Idempotent`: otherwise it never runs more than once and the call rejects with NotIdempotentError.
 *
 * @example @Retryable({ maxAttempts: 4, initialDelay: 100, maxDelay: 2_000 })
 * @example @Retryable(3, 100, 1_000) // maxAttempts, initialDelay, maxDelay
 */
export function Retryable(options?: RetryOptions): SteadfastMethodDecorator;
export function Retryable(
  maxAttempts: number,
  initialDelay?: number,
  maxDelay?: number,
): SteadfastMethodDecorator;
export function Retryable(...params: unknown[]): SteadfastMethodDecorator {
  return methodDecorator('@Retryable', (policy, checker) => {
    if (policy.retry !== undefined)
      checker.fail('@Retryable', 'may be applied once per method', 'a second @Retryable');
    policy.retry = checkRetryOptions(optionsFrom(params, checker), checker);
    // A named budget is declared now: the same name with other settings is refused at definition.
    const { budget } = policy.retry;
    if (budget !== undefined && budget !== false && budget.name !== undefined)
      declareBudget(budget as RetryBudgetSettings, checker);
  });
}

function optionsFrom(params: unknown[], checker: OptionChecker): unknown {
  if (params.length === 0 || (params.length === 1 && params[0] === undefined)) return {};
  if (typeof params[0] !== 'number' && params.length === 1) return params[0];
  if (params.length > 3)
    checker.fail(
      '@Retryable',
      'takes (maxAttempts, initialDelay?, maxDelay?) or one options object',
      `${params.length} arguments`,
    );
  // Positional: maxAttempts is required (no default stands in for it); a later undefined means "the default".
  if (params[0] === undefined)
    checker.fail(
      'maxAttempts',
      'is required in the positional form @Retryable(maxAttempts, initialDelay?, maxDelay?)',
      undefined,
    );
  const names = ['maxAttempts', 'initialDelay', 'maxDelay'] as const;
  const positional: Record<string, unknown> = Object.create(null);
  params.forEach((value, index) => {
    if (value !== undefined) positional[names[index] as string] = value;
  });
  return positional;
}
