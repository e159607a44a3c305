import type { Attributes, Counter } from '@opentelemetry/api';
import type { CircuitState } from '../runtime/events';
import { ATTRIBUTES, type CallOutcome } from './names';

/**
 * One counter's count under one attribute set, kept here and added to the counter at each
 * collection: a call adds 1 to a number instead of calling the SDK, which hashes the attributes of
 * every measurement it is given (about a microsecond). The sum the reader sees is the same.
 */
export class Tally {
  count = 0;

  constructor(
    readonly counter: Counter,
    readonly attributes: Attributes,
  ) {}
}

/** The counters a tally can belong to. */
export interface TallyCounters {
  readonly calls: Counter;
  readonly retries: Counter;
  readonly deduplicated: Counter;
  readonly timeouts: Counter;
  readonly fallbacks: Counter;
  readonly hedges: Counter;
  readonly budgetRefused: Counter;
  readonly breakerTransitions: Counter;
  readonly breakerRejected: Counter;
  readonly bulkheadRejected: Counter;
}

/** Every tally, made on first use and then reused; flush() hands their counts to the counters. */
export class TallyBook {
  private readonly tallies: Tally[] = [];
  private readonly methods = new Map<string, MethodTallies>();
  private readonly breakers = new Map<string, BreakerTallies>();
  private readonly bulkheads = new Map<string, Tally>();

  constructor(readonly counters: TallyCounters) {}

  tally(counter: Counter, attributes: Attributes): Tally {
    const tally = new Tally(counter, Object.freeze(attributes));
    this.tallies.push(tally);
    return tally;
  }

  method(name: string): MethodTallies {
    let method = this.methods.get(name);
    if (method === undefined) this.methods.set(name, (method = new MethodTallies(name, this)));
    return method;
  }

  breaker(name: string): BreakerTallies {
    let breaker = this.breakers.get(name);
    if (breaker === undefined) this.breakers.set(name, (breaker = new BreakerTallies(name, this)));
    return breaker;
  }

  bulkheadRejected(name: string, reason: string): Tally {
    const key = `${reason}\u0000${name}`;
    let tally = this.bulkheads.get(key);
    if (tally === undefined) {
      tally = this.tally(this.counters.bulkheadRejected, {
        [ATTRIBUTES.bulkheadName]: name,
        [ATTRIBUTES.bulkheadReason]: reason,
      });
      this.bulkheads.set(key, tally);
    }
    return tally;
  }

  /** Adds every count since the last flush to its counter. */
  flush(): void {
    for (const tally of this.tallies) {
      const { count } = tally;
      if (count === 0) continue;
      tally.count = 0;
      tally.counter.add(count, tally.attributes);
    }
  }
}

/** One method's tallies and attribute sets, by `Class.method`. */
export class MethodTallies {
  /** `steadfast.method` alone */
  readonly attributes: Attributes;
  readonly success: Tally;
  readonly rejected: Tally;
  readonly fallback: Tally;
  readonly deduplicated: Tally;
  readonly replayed: Tally;
  readonly joined: Tally;
  readonly retries: Tally;
  readonly hedges: Tally;
  readonly budgetRefused: Tally;
  /** `steadfast.call.duration`'s attributes, by outcome (no `error.type`: one series per outcome) */
  readonly durations: Readonly<Record<CallOutcome, Attributes>>;
  private readonly failures = new Map<string, Tally>();
  private readonly fallbacks = new Map<string, Tally>();
  private readonly timeouts = new Map<string, Tally>();

  constructor(
    readonly name: string,
    private readonly book: TallyBook,
  ) {
    const { counters } = book;
    const calls = (outcome: CallOutcome): Tally =>
      book.tally(counters.calls, { [ATTRIBUTES.method]: name, [ATTRIBUTES.outcome]: outcome });
    this.attributes = Object.freeze({ [ATTRIBUTES.method]: name });
    this.success = calls('success');
    this.rejected = calls('rejected');
    this.fallback = calls('fallback');
    this.deduplicated = calls('deduplicated');
    const how = (value: 'replayed' | 'joined'): Tally =>
      book.tally(counters.deduplicated, {
        [ATTRIBUTES.method]: name,
        [ATTRIBUTES.idempotencyHow]: value,
      });
    this.replayed = how('replayed');
    this.joined = how('joined');
    this.retries = book.tally(counters.retries, { [ATTRIBUTES.method]: name });
    this.hedges = book.tally(counters.hedges, { [ATTRIBUTES.method]: name });
    this.budgetRefused = book.tally(counters.budgetRefused, { [ATTRIBUTES.method]: name });
    const duration = (outcome: CallOutcome): Attributes =>
      Object.freeze({ [ATTRIBUTES.method]: name, [ATTRIBUTES.outcome]: outcome });
    this.durations = {
      success: duration('success'),
      failure: duration('failure'),
      rejected: duration('rejected'),
      fallback: duration('fallback'),
      deduplicated: duration('deduplicated'),
    };
  }

  /** A failed call's: outcome `failure` and its `error.type`. */
  failure(errorType: string): Tally {
    let tally = this.failures.get(errorType);
    if (tally === undefined) {
      tally = this.book.tally(this.book.counters.calls, {
        [ATTRIBUTES.method]: this.name,
        [ATTRIBUTES.outcome]: 'failure' satisfies CallOutcome,
        [ATTRIBUTES.errorType]: errorType,
      });
      this.failures.set(errorType, tally);
    }
    return tally;
  }

  /** A fallback's (`steadfast.fallbacks`), by the `error.type` of the failure it answered. */
  fallbackOf(errorType: string): Tally {
    let tally = this.fallbacks.get(errorType);
    if (tally === undefined) {
      tally = this.book.tally(this.book.counters.fallbacks, {
        [ATTRIBUTES.method]: this.name,
        [ATTRIBUTES.errorType]: errorType,
      });
      this.fallbacks.set(errorType, tally);
    }
    return tally;
  }

  timeout(kind: string): Tally {
    let tally = this.timeouts.get(kind);
    if (tally === undefined) {
      tally = this.book.tally(this.book.counters.timeouts, {
        [ATTRIBUTES.method]: this.name,
        [ATTRIBUTES.timeoutKind]: kind,
      });
      this.timeouts.set(kind, tally);
    }
    return tally;
  }
}

export const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated'];

/** One breaker's tallies, and its state gauge's attribute sets, by breaker name. */
export class BreakerTallies {
  readonly rejected: Tally;
  /** `steadfast.circuit_breaker.transitions`, by the state entered */
  readonly transitions: Readonly<Record<CircuitState, Tally>>;
  /** `steadfast.circuit_breaker.state`'s attribute sets, in the order of CIRCUIT_STATES */
  readonly states: readonly Attributes[];

  constructor(name: string, book: TallyBook) {
    const { counters } = book;
    this.rejected = book.tally(counters.breakerRejected, { [ATTRIBUTES.breakerName]: name });
    const transition = (state: CircuitState): Tally =>
      book.tally(counters.breakerTransitions, {
        [ATTRIBUTES.breakerName]: name,
        [ATTRIBUTES.breakerState]: state,
      });
    this.transitions = {
      closed: transition('closed'),
      open: transition('open'),
      'half-open': transition('half-open'),
      isolated: transition('isolated'),
    };
    this.states = CIRCUIT_STATES.map((state) =>
      Object.freeze({ [ATTRIBUTES.breakerName]: name, [ATTRIBUTES.breakerState]: state }),
    );
  }
}
