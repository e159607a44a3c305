import type { CircuitBreakerOptions } from './breaker-options';
import { DeclarationRegistry, type Declaration } from '../declarations';
import type { OptionChecker } from '../validation';

/** One declared breaker: shared by name, or `Class.method`'s own. */
export type BreakerDeclaration = Declaration<CircuitBreakerOptions>;

const breakers = new DeclarationRegistry<CircuitBreakerOptions>('circuit');

/** Registers a breaker at class definition; conflicting options under one explicit name are a ConfigError. */
export function declareBreaker(
  name: string,
  options: CircuitBreakerOptions,
  explicit: boolean,
  checker: OptionChecker,
): BreakerDeclaration {
  return breakers.declare(name, options, explicit, checker);
}

export function declarationNamed(name: string): BreakerDeclaration | undefined {
  return breakers.named(name);
}

export function allDeclarations(): IterableIterator<BreakerDeclaration> {
  return breakers.all();
}
