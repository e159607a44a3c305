import type { OptionChecker } from '../runtime/validation';

// What the store conformance suites share: registering their checks with a test framework (of
// any kind: they import none) or running them outside one, and saying what failed.

/**
 * The `describe` and `it` of the test framework a suite registers with: jest's, vitest's, mocha's
 * or node:test's globals fit as they are. Without `describe`, the checks are registered where the
 * call is (a name prefix keeps them apart).
 */
export interface ConformanceTestFramework {
  describe?(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>): unknown;
}

/** One check of a store contract, run against a store of its own. */
export interface ConformanceCheck<Store> {
  readonly name: string;
  run(store: Store): Promise<void>;
}

export interface ConformanceStores<Store> {
  createStore(): Store | Promise<Store>;
  disposeStore?(store: Store): unknown;
}

/** Registers `checks` under `describe(name)`, one `it` each, each with a store of its own. */
export function registerConformance<Store>(
  checker: OptionChecker,
  name: string,
  checks: readonly ConformanceCheck<Store>[],
  stores: ConformanceStores<Store>,
  framework: ConformanceTestFramework,
): void {
  if (typeof framework !== 'object' || framework === null)
    checker.fail('framework', 'must be an object with it() (and describe())', framework);
  // Read, not checked for unknown keys: a whole module (`import * as test from 'node:test'`) fits.
  const given = { describe: framework.describe as unknown, it: framework.it as unknown };
  const it = checker.func<ConformanceTestFramework['it']>('framework.it', given.it);
  const describe =
    given.describe === undefined
      ? undefined
      : checker.func<NonNullable<ConformanceTestFramework['describe']>>(
          'framework.describe',
          given.describe,
        );
  const register = (prefix: string): void => {
    for (const check of checks)
      it.call(framework, `${prefix}${check.name}`, () => runCheck(check, stores));
  };
  if (describe === undefined) register(`${name}: `);
  else describe.call(framework, name, () => register(''));
}

/** What running a suite outside a test framework found. */
export interface ConformanceReport {
  /** Names of the checks the store passed. */
  readonly passed: readonly string[];
  /** The checks it failed, with what each threw. */
  readonly failed: readonly { readonly name: string; readonly error: unknown }[];
}

/** Runs every check in turn and says which the store passed. */
export async function runConformance<Store>(
  checks: readonly ConformanceCheck<Store>[],
  stores: ConformanceStores<Store>,
): Promise<ConformanceReport> {
  const passed: string[] = [];
  const failed: { name: string; error: unknown }[] = [];
  for (const check of checks) {
    try {
      await runCheck(check, stores);
      passed.push(check.name);
    } catch (error) {
      failed.push({ name: check.name, error });
    }
  }
  return { passed, failed };
}

async function runCheck<Store>(
  check: ConformanceCheck<Store>,
  stores: ConformanceStores<Store>,
): Promise<void> {
  const store = await stores.createStore();
  try {
    await check.run(store);
  } finally {
    await stores.disposeStore?.(store);
  }
}

/** Reads `createStore` and `disposeStore` from a suite's options. */
export function storesFrom<Store>(
  checker: OptionChecker,
  given: Record<string, unknown>,
): ConformanceStores<Store> {
  const createStore = checker.func<ConformanceStores<Store>['createStore']>(
    'createStore',
    given.createStore,
  );
  const disposeStore =
    given.disposeStore === undefined
      ? undefined
      : checker.func<NonNullable<ConformanceStores<Store>['disposeStore']>>(
          'disposeStore',
          given.disposeStore,
        );
  return { createStore, disposeStore };
}

/** A check's failure: what it did, what it expected, what it got. */
export function fail(what: string, expected: string, actual: unknown): never {
  throw new Error(`${what}: expected ${expected}, got ${show(actual)}`);
}

export function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 300 ? `${text.slice(0, 300)}… (${text.length} characters)` : text;
}

/** A clock a suite moves: with `advance(ms)` (a FakeClock the store also reads) or by waiting. */
export type ConformanceClock =
  | { now(): number; advance(ms: number): unknown }
  | { now(): number; sleep(ms: number): Promise<unknown> };

export function isConformanceClock(clock: unknown): clock is ConformanceClock {
  return (
    typeof clock === 'object' &&
    clock !== null &&
    typeof (clock as { now?: unknown }).now === 'function' &&
    (typeof (clock as { advance?: unknown }).advance === 'function' ||
      typeof (clock as { sleep?: unknown }).sleep === 'function')
  );
}

export async function moveClock(clock: ConformanceClock, ms: number): Promise<void> {
  if ('advance' in clock && typeof clock.advance === 'function') await clock.advance(ms);
  else await (clock as { sleep(ms: number): Promise<unknown> }).sleep(ms);
}
