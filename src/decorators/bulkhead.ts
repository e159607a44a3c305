import { checkBulkheadOptions, type BulkheadOptions } from '../runtime/bulkhead/bulkhead-options';
import { declareBulkhead } from '../runtime/bulkhead/bulkhead-declarations';
import { methodDecorator, type SteadfastMethodDecorator } from './method-decorator';

export type { BulkheadOptions };

/**
 * Limits how many attempts of the method run at once: at most `maxConcurrent`, up to `maxQueued`
 * more wait first in first out, and any further call rejects at once with BulkheadRejectedError.
 *
 * @example @Bulkhead(10)
 * @example @Bulkhead({ maxConcurrent: 10, maxQueued: 50, queueTimeout: 1_000, name: 'inventory' })
 */
export function Bulkhead(maxConcurrent: number, maxQueued?: number): SteadfastMethodDecorator;
export function Bulkhead(options: BulkheadOptions): SteadfastMethodDecorator;
export function Bulkhead(...params: unknown[]): SteadfastMethodDecorator {
  return methodDecorator('@Bulkhead', (policy, checker) => {
    if (policy.bulkhead !== undefined)
      checker.fail('@Bulkhead', 'may be applied once per method', 'a second @Bulkhead');
    if (params.length === 0 || params.length > 2)
      checker.fail(
        '@Bulkhead',
        'takes (maxConcurrent, maxQueued?) or one options object',
        `${params.length} arguments`,
      );
    const [first, second] = params;
    const raw =
      typeof first === 'number' || params.length === 2
        ? { maxConcurrent: first, ...(second === undefined ? {} : { maxQueued: second }) }
        : first;
    const options = checkBulkheadOptions(raw, checker);
    let declaration;
    if (options.name !== undefined)
      declaration = declareBulkhead(options.name, options, true, checker);
    else if (policy.className !== undefined)
      declaration = declareBulkhead(
        `${policy.className}.${policy.methodName}`,
        options,
        false,
        checker,
      );
    policy.bulkhead = { options, declaration };
  });
}
