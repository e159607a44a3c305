import type { OptionChecker } from './validation';

/** Options of something shared by name across methods (breakers, bulkheads). */
export interface NamedOptions {
  readonly name?: string;
  readonly scope?: 'class' | 'instance';
}

/**
 * One declared breaker or bulkhead. A declaration with an explicit `name` is shared by every
 * method that gives that name; without a name, each decorated method has its own, named `Class.method`.
 */
export interface Declaration<O extends NamedOptions> {
  readonly name: string;
  /** Replaced in place when a name-only declaration is followed by one that configures it. */
  options: O;
  readonly explicit: boolean;
  /** `Class.method` of the declaration that configured it, for conflict messages */
  declaredBy: string;
}

/** Declarations by name, made at class definition: code, not state, so they outlive any engine configuration. */
export class DeclarationRegistry<O extends NamedOptions> {
  private readonly byName = new Map<string, Declaration<O>>();

  /** @param what 'circuit', 'bulkhead': for conflict messages */
  constructor(private readonly what: string) {}

  /** Registers a declaration; conflicting options under one explicit name are a ConfigError. */
  declare(name: string, options: O, explicit: boolean, checker: OptionChecker): Declaration<O> {
    const existing = this.byName.get(name);
    if (explicit && existing !== undefined && existing.explicit) {
      const sameScope = (options.scope ?? 'class') === (existing.options.scope ?? 'class');
      if ((sameScope && joinsOnly(options)) || sameOptions(existing.options, options))
        return existing;
      if (sameScope && joinsOnly(existing.options)) {
        // The first declaration only named it; this one configures it. In place: the earlier
        // methods hold this very declaration, and state is keyed by it.
        existing.options = options;
        existing.declaredBy = checker.method ?? name;
        return existing;
      }
      checker.fail(
        'name',
        `names ${this.what} '${name}', already declared with different options by ${existing.declaredBy}`,
        name,
      );
    }
    const declaration: Declaration<O> = {
      name,
      options,
      explicit,
      declaredBy: checker.method ?? name,
    };
    this.byName.set(name, declaration);
    return declaration;
  }

  named(name: string): Declaration<O> | undefined {
    return this.byName.get(name);
  }

  all(): IterableIterator<Declaration<O>> {
    return this.byName.values();
  }
}

/** A declaration that gives only the name (and scope) joins the one configured elsewhere. */
function joinsOnly(options: NamedOptions): boolean {
  return Object.keys(options).every((key) => key === 'name' || key === 'scope');
}

function sameOptions(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) =>
    sameOptions((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}
