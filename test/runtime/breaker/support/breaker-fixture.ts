import { Breaker, REFUSED, type BreakerObserver } from '../../../../src/runtime/breaker/breaker';
import {
  resolveBreakerSettings,
  type CircuitBreakerOptions,
} from '../../../../src/runtime/breaker/breaker-options';

export const START = 1_000_000;

/** A Breaker driven by hand: its clock, the transitions it reported, and one-line calls. */
export interface BreakerFixture {
  readonly breaker: Breaker;
  /** every transition reported, as 'from->to' */
  readonly transitions: string[];
  /** every reason given with a transition */
  readonly reasons: string[];
  now(): number;
  advance(ms: number): void;
  /** a permit for a call that will end later; fails the test if the call is refused */
  admit(): number;
  /** a call that resolves with `result` after `duration` ms */
  succeed(duration?: number, result?: unknown): void;
  /** a call that throws `error` after `duration` ms */
  fail(error?: unknown, duration?: number): void;
}

export function breakerWith(options: CircuitBreakerOptions, name = 'payments-api'): BreakerFixture {
  let now = START;
  const transitions: string[] = [];
  const reasons: string[] = [];
  const observer: BreakerObserver = {
    stateChanged: (_breaker, from, to, reason) => {
      transitions.push(`${from}->${to}`);
      reasons.push(reason);
    },
  };
  const breaker = new Breaker(
    name,
    resolveBreakerSettings(options, undefined),
    () => now,
    observer,
  );
  const admit = (): number => {
    const permit = breaker.tryAcquire();
    if (permit === REFUSED) throw new Error(`the breaker refused a call while ${breaker.state}`);
    return permit;
  };
  return {
    breaker,
    transitions,
    reasons,
    now: () => now,
    advance: (ms) => void (now += ms),
    admit,
    succeed: (duration = 0, result = 'ok') => {
      const permit = admit();
      now += duration;
      breaker.succeeded(permit, result, duration);
    },
    fail: (error = new Error('service down'), duration = 0) => {
      const permit = admit();
      now += duration;
      breaker.failed(permit, error, duration);
    },
  };
}

/**
 * How much a breaker holds: every property and element reachable from it, typed arrays by their
 * bytes. Functions count as one value and are not followed.
 */
export function footprint(root: object): number {
  const seen = new Set<object>();
  let size = 0;
  const visit = (value: unknown): void => {
    if (typeof value !== 'object' || value === null || seen.has(value)) return;
    seen.add(value);
    if (ArrayBuffer.isView(value)) {
      size += value.byteLength;
      return;
    }
    if (value instanceof Map || value instanceof Set) {
      for (const entry of value) {
        size++;
        visit(entry);
      }
    }
    for (const key of Reflect.ownKeys(value)) {
      size++;
      visit((value as Record<PropertyKey, unknown>)[key]);
    }
  };
  visit(root);
  return size;
}
