import type { IdempotencyStore } from '../store';
import type { OptionChecker } from '../validation';
import { MemoryStore } from './memory-store';

/** Who uses a record namespace: the method's label and its body (the same for every class that inherits it). */
interface NameClaim {
  readonly label: string;
  readonly body: WeakRef<object>;
}

interface Registry {
  /** explicit names, for the whole process */
  readonly names: Map<string, NameClaim>;
  /** default names (labels), per store: two stores keep two sets of records */
  readonly labels: WeakMap<object, Map<string, NameClaim>>;
}

// Shared by every copy of the package in the process, so that two copies cannot hand one name to two methods.
const REGISTRY = Symbol.for('steadfast.idempotency.record-names');
const registry: Registry = ((globalThis as { [REGISTRY]?: Registry })[REGISTRY] ??= {
  names: new Map(),
  labels: new WeakMap(),
});

// Records in a process-local store are per method definition: a class defined twice (in a factory,
// in two modules, in a test) has two sets of records, whatever its name.
const definitionIds = new WeakMap<object, number>();
let nextDefinitionId = 1;

/**
 * Claims an explicit `@Idempotent({ name })` for the method `label`. Methods of one label (a class
 * defined again) share it; a method of another label is refused, at definition where the label is known.
 */
export function claimExplicitName(
  name: string,
  label: string,
  body: object,
  checker: OptionChecker,
): void {
  const existing = live(registry.names, name);
  if (existing !== undefined && existing.label !== label) {
    checker.fail(
      'name',
      `names idempotency records already named by ${existing.label}: give each operation a name of its own`,
      name,
    );
  }
  if (existing === undefined) registry.names.set(name, { label, body: new WeakRef(body) });
}

/**
 * The namespace a keyed method's records live under in `store`: its explicit name, else its label
 * `Class.method`. Two different classes of one name are refused on one shared store (the fleet
 * would see one operation), and kept apart in a MemoryStore.
 */
export function recordNamespace(
  explicitName: string | undefined,
  label: string,
  body: object,
  store: IdempotencyStore,
  checker: OptionChecker,
): string {
  if (explicitName !== undefined) {
    claimExplicitName(explicitName, label, body, checker);
    return explicitName;
  }
  if (store instanceof MemoryStore) {
    let id = definitionIds.get(body);
    if (id === undefined) definitionIds.set(body, (id = nextDefinitionId++));
    return `${label}\u0000${id}`;
  }
  let labels = registry.labels.get(store);
  if (labels === undefined) registry.labels.set(store, (labels = new Map()));
  const existing = live(labels, label);
  if (existing !== undefined && existing.body.deref() !== body) {
    checker.fail(
      'name',
      `is needed: another method is also called ${label} and keeps its idempotency records in the same shared store; give each @Idempotent({ key, name }) a name of its own`,
      undefined,
    );
  }
  if (existing === undefined) labels.set(label, { label, body: new WeakRef(body) });
  return label;
}

function live(claims: Map<string, NameClaim>, namespace: string): NameClaim | undefined {
  const claim = claims.get(namespace);
  if (claim === undefined) return undefined;
  if (claim.body.deref() !== undefined) return claim;
  claims.delete(namespace);
  return undefined;
}
