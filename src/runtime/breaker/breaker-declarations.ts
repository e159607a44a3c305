import type { CircuitBreakerOptions } from './breaker-options';
import type { OptionChecker } from '../validation';

/**
 * One declared breaker. A declaration with an explicit `name` is shared by every method that
 * gives that name; without a name, each decorated method has its own, named `Class.method`.
 */
export interface BreakerDeclaration {
  readonly name: string;
  /** Replaced in place when a name-only declaration is followed by one that configures it. */
  options: CircuitBreakerOptions;
  readonly explicit: boolean;
  /** `Class.method` of the declaration that configured it, for conflict messages */
  declaredBy: string;
}

// Declarations are code, not state: they outlive any engine configuration.
const byName = new Map<string, BreakerDeclaration>();

/** Registers a breaker at class definition; conflicting options under one explicit name are a ConfigError. */
export function declareBreaker(name: string, options: CircuitBreakerOptions, explicit: boolean, checker: OptionChecker): BreakerDeclaration {
  const existing = byName.get(name);
  if (explicit && existing !== undefined && existing.explicit) {
    const sameScope = (options.scope ?? 'class') === (existing.options.scope ?? 'class');
    if ((sameScope && joinsOnly(options)) || sameOptions(existing.options, options)) return existing;
    if (sameScope && joinsOnly(existing.options)) {
      // The first declaration only named the breaker; this one configures it. In place: the
      // earlier methods hold this very declaration, and breakers are keyed by it.
      existing.options = options;
      existing.declaredBy = checker.method ?? name;
      return existing;
    }
    checker.fail('name', `names circuit '${name}', already declared with different options by ${existing.declaredBy}`, name);
  }
  const declaration: BreakerDeclaration = { name, options, explicit, declaredBy: checker.method ?? name };
  byName.set(name, declaration);
  return declaration;
}

export function declarationNamed(name: string): BreakerDeclaration | undefined {
  return byName.get(name);
}

export function allDeclarations(): IterableIterator<BreakerDeclaration> {
  return byName.values();
}

/** A declaration that gives only the name (and scope) joins the breaker as configured elsewhere. */
function joinsOnly(options: CircuitBreakerOptions): boolean {
  return Object.keys(options).every((key) => key === 'name' || key === 'scope');
}

function sameOptions(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) => sameOptions((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}
