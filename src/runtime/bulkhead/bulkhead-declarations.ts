import { DeclarationRegistry, type Declaration } from '../declarations';
import type { OptionChecker } from '../validation';
import type { BulkheadOptions } from './bulkhead-options';

/** One declared bulkhead: shared by name, or `Class.method`'s own. */
export type BulkheadDeclaration = Declaration<BulkheadOptions>;

const bulkheads = new DeclarationRegistry<BulkheadOptions>('bulkhead');

export function declareBulkhead(
  name: string,
  options: BulkheadOptions,
  explicit: boolean,
  checker: OptionChecker,
): BulkheadDeclaration {
  return bulkheads.declare(name, options, explicit, checker);
}

export function bulkheadDeclarationNamed(name: string): BulkheadDeclaration | undefined {
  return bulkheads.named(name);
}

export function allBulkheadDeclarations(): IterableIterator<BulkheadDeclaration> {
  return bulkheads.all();
}
