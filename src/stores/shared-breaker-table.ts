import type { CircuitState } from '../runtime/events';
import type {
  SharedBreakerChange,
  SharedBreakerReply,
  SharedBreakerRequest,
  SharedBreakerSettings,
} from '../runtime/shared-breaker-store';

// The shared breakers' state machine in TypeScript: what RedisStore's FLEET script decides, for a
// store that keeps its breakers in this process (MemoryFleetStore). One request is one synchronous
// step here, so it is atomic by construction. The shared-breaker conformance suite runs against
// both, which keeps the two in step.

/** A count window keeps at most this many batch aggregates (as the script does). */
const MAX_WINDOW_BATCHES = 8;

/** Bad calls by reporter: a reporter's weight in one window slot or in the whole window. */
type Weights = Map<string, number>;

interface Row {
  settingsId: number;
  settings: SharedBreakerSettings;
  state: CircuitState;
  epoch: number;
  since: number;
  openUntil: number;
  openings: number;
  /** trial successes in the current half-open epoch */
  trialSuccesses: number;
  /** failures in a row across the fleet */
  consecutive: number;
  calls: number;
  failures: number;
  slow: number;
  /** a time window's newest bucket number (-1: none yet) */
  newestBucket: number;
  /** a count window's ring: its oldest slot and slots in use */
  head: number;
  used: number;
  /** calls, failures, slow calls of each slot */
  slots: number[];
  /** quorum only: each reporter's bad calls in the window, by reporter and by slot */
  reporters: Weights;
  slotReporters: Map<number, Weights>;
  /** quorum only: the reporters in the fleet's current run of failures */
  runners: string[];
  permits: { token: string; until: number }[];
}

const slotCount = (settings: SharedBreakerSettings): number =>
  settings.window.type === 'count' ? MAX_WINDOW_BATCHES : settings.window.buckets;

const sameWindow = (a: SharedBreakerSettings, b: SharedBreakerSettings): boolean =>
  a.window.type === b.window.type &&
  (a.window.type === 'count'
    ? a.window.size === (b.window as { size: number }).size
    : a.window.buckets === (b.window as { buckets: number }).buckets &&
      a.window.buckets * a.window.bucketMs ===
        (b.window as { buckets: number; bucketMs: number }).buckets *
          (b.window as { bucketMs: number }).bucketMs);

/** Every shared breaker of one store, by name. */
export class SharedBreakerTable {
  private readonly rows = new Map<string, Row>();

  /** Applies one request at `now` (the store's clock); `changed` hears of every transition. */
  apply(
    reporter: string,
    request: SharedBreakerRequest,
    now: number,
    changed: (change: SharedBreakerChange) => void,
  ): SharedBreakerReply {
    return new Step(this.rows, reporter, request, now, changed).run();
  }
}

/** One request's step: the script's `breaker()` function. */
class Step {
  private row!: Row;
  private reason = '';
  private granted = false;
  private settingsDiffer = false;
  private shortOfQuorum = false;

  constructor(
    private readonly rows: Map<string, Row>,
    private readonly reporter: string,
    private readonly request: SharedBreakerRequest,
    private readonly now: number,
    private readonly changed: (change: SharedBreakerChange) => void,
  ) {}

  run(): SharedBreakerReply {
    const { request, now } = this;
    const stored = this.rows.get(request.name);
    if (stored === undefined || stored.settingsId !== request.settingsId) {
      const given = request.settings;
      if (given !== undefined) {
        if (stored === undefined) this.rows.set(request.name, (this.row = freshRow(given, now)));
        else {
          this.row = stored;
          const fresh = !sameWindow(stored.settings, given);
          stored.settings = given;
          if (fresh) this.clearWindow();
        }
        this.row.settingsId = request.settingsId;
      } else if (stored !== undefined) {
        this.row = stored;
        this.settingsDiffer = true;
      } else {
        return {
          state: 'closed',
          epoch: 0,
          since: now,
          openUntil: 0,
          openings: 0,
          calls: 0,
          failures: 0,
          slowCalls: 0,
          consecutiveFailures: 0,
          granted: false,
          reason: '',
          settingsDiffer: false,
          settingsMissing: true,
          shortOfQuorum: false,
        };
      }
    } else this.row = stored;

    const row = this.row;
    const operation = request.operation;
    switch (operation.type) {
      case 'record':
        if (row.state === 'closed' && request.epoch === row.epoch) this.record(operation);
        break;
      case 'acquire': {
        this.dropLapsedPermits();
        if (row.state === 'open' && now >= row.openUntil)
          this.transition('half-open', 'openDuration elapsed');
        if (row.state === 'half-open') {
          const { token, leaseMs } = operation;
          if (
            row.permits.length + row.trialSuccesses < row.settings.halfOpenMaxCalls &&
            typeof token === 'string' &&
            Buffer.byteLength(token) <= 64 &&
            leaseMs > 0
          ) {
            row.permits.push({ token, until: now + leaseMs });
            this.granted = true;
          }
        } else if (row.state === 'closed') this.granted = true;
        break;
      }
      case 'release':
        if (row.state === 'half-open') this.takePermit(operation.token);
        break;
      case 'settle':
        if (
          row.state === 'half-open' &&
          request.epoch === row.epoch &&
          this.takePermit(operation.token)
        ) {
          if (operation.outcome === 'failure')
            this.transition('open', 'a trial call failed (fleet)');
          else if (operation.outcome === 'slow')
            this.transition('open', 'a trial call was slow (fleet)');
          else if (operation.outcome === 'success') {
            row.trialSuccesses++;
            if (row.trialSuccesses >= row.settings.halfOpenMaxCalls)
              this.transition('closed', 'all trial calls succeeded (fleet)');
          }
        }
        break;
      case 'isolate':
        if (row.state !== 'isolated') this.transition('isolated', 'isolated by hand');
        break;
      case 'reset':
        if (row.state !== 'closed') this.transition('closed', 'reset by hand');
        else {
          row.consecutive = 0;
          this.clearWindow();
        }
        break;
      case 'read':
        if (row.settings.window.type === 'time') this.advance();
        break;
    }
    return {
      state: row.state,
      epoch: row.epoch,
      since: row.since,
      openUntil: row.openUntil,
      openings: row.openings,
      calls: row.calls,
      failures: row.failures,
      slowCalls: row.slow,
      consecutiveFailures: row.consecutive,
      granted: this.granted,
      reason: this.reason,
      settingsDiffer: this.settingsDiffer,
      settingsMissing: false,
      shortOfQuorum: this.shortOfQuorum,
    };
  }

  // --- the window --------------------------------------------------------------------------

  private clearWindow(): void {
    const row = this.row;
    row.calls = row.failures = row.slow = row.head = row.used = 0;
    row.newestBucket = -1;
    row.slots = new Array<number>(3 * slotCount(row.settings)).fill(0);
    row.reporters.clear();
    row.slotReporters.clear();
  }

  private get quorum(): boolean {
    return this.row.settings.quorum > 1;
  }

  private reporterAdd(id: string, weight: number): void {
    const { reporters } = this.row;
    reporters.set(id, (reporters.get(id) ?? 0) + weight);
  }

  private reporterSub(id: string, weight: number): void {
    const { reporters } = this.row;
    if (weight <= 0) return;
    const left = (reporters.get(id) ?? 0) - weight;
    if (left <= 0) reporters.delete(id);
    else reporters.set(id, left);
  }

  /** Slot `index`'s reporters scaled to keep/total of their weight (keep 0: the slot empties). */
  private scaleSlot(index: number, keep: number, total: number): void {
    const weights = this.row.slotReporters.get(index);
    if (weights === undefined) return;
    for (const [id, weight] of weights) {
      const left = Math.floor((weight * keep) / total + 0.5);
      this.reporterSub(id, weight - left);
      if (left > 0) weights.set(id, left);
      else weights.delete(id);
    }
    if (weights.size === 0) this.row.slotReporters.delete(index);
  }

  private mergeSlots(older: number, newer: number): void {
    const { slotReporters } = this.row;
    const from = slotReporters.get(older);
    if (from === undefined) return;
    slotReporters.delete(older);
    const into = slotReporters.get(newer);
    if (into === undefined) {
      slotReporters.set(newer, from);
      return;
    }
    for (const [id, weight] of from) into.set(id, (into.get(id) ?? 0) + weight);
  }

  private countAdd(calls: number, failures: number, slow: number): void {
    const row = this.row;
    const { slots } = row;
    const size = (row.settings.window as { size: number }).size;
    if (row.used === MAX_WINDOW_BATCHES) {
      // The two oldest aggregates merge into one.
      const next = (row.head + 1) % MAX_WINDOW_BATCHES;
      for (let k = 0; k < 3; k++) {
        slots[3 * next + k] += slots[3 * row.head + k];
        slots[3 * row.head + k] = 0;
      }
      if (this.quorum) this.mergeSlots(row.head, next);
      row.head = next;
      row.used--;
    }
    const tail = (row.head + row.used) % MAX_WINDOW_BATCHES;
    slots[3 * tail] = calls;
    slots[3 * tail + 1] = failures;
    slots[3 * tail + 2] = slow;
    row.used++;
    if (this.quorum && failures + slow > 0) {
      row.slotReporters.set(tail, new Map([[this.reporter, failures + slow]]));
      this.reporterAdd(this.reporter, failures + slow);
    }
    row.calls += calls;
    row.failures += failures;
    row.slow += slow;
    // Exactly the last `size` calls: the oldest aggregate is trimmed in proportion.
    while (row.calls > size && row.used > 0) {
      const at = 3 * row.head;
      const [c, f, s] = [slots[at], slots[at + 1], slots[at + 2]];
      const excess = row.calls - size;
      if (c <= excess) {
        row.calls -= c;
        row.failures -= f;
        row.slow -= s;
        if (this.quorum && f + s > 0) this.scaleSlot(row.head, 0, 1);
        slots[at] = slots[at + 1] = slots[at + 2] = 0;
        row.head = (row.head + 1) % MAX_WINDOW_BATCHES;
        row.used--;
      } else {
        const keep = c - excess;
        const keptFailures = Math.floor((f * keep) / c + 0.5);
        const keptSlow = Math.floor((s * keep) / c + 0.5);
        row.calls = size;
        row.failures -= f - keptFailures;
        row.slow -= s - keptSlow;
        if (this.quorum && f + s > 0) this.scaleSlot(row.head, keep, c);
        slots[at] = keep;
        slots[at + 1] = keptFailures;
        slots[at + 2] = keptSlow;
      }
    }
  }

  /** A time window's current bucket; buckets that fell out are subtracted from the totals. */
  private advance(): number {
    const row = this.row;
    const { buckets, bucketMs } = row.settings.window as { buckets: number; bucketMs: number };
    const current = Math.floor(this.now / bucketMs);
    if (current <= row.newestBucket) return current;
    if (row.newestBucket >= 0 && current - row.newestBucket >= buckets) this.clearWindow();
    else if (row.newestBucket >= 0) {
      const { slots } = row;
      for (let bucket = row.newestBucket + 1; bucket <= current; bucket++) {
        const slot = bucket % buckets;
        const at = 3 * slot;
        if (slots[at] === 0) continue;
        row.calls -= slots[at];
        row.failures -= slots[at + 1];
        row.slow -= slots[at + 2];
        const bad = slots[at + 1] + slots[at + 2];
        slots[at] = slots[at + 1] = slots[at + 2] = 0;
        const weights = row.slotReporters.get(slot);
        if (this.quorum && bad > 0 && weights !== undefined) {
          for (const id of weights.keys()) this.reporterSub(id, 1);
          row.slotReporters.delete(slot);
        }
      }
    }
    row.newestBucket = current;
    return current;
  }

  private timeAdd(calls: number, failures: number, slow: number): void {
    const row = this.row;
    const slot = this.advance() % (row.settings.window as { buckets: number }).buckets;
    row.slots[3 * slot] += calls;
    row.slots[3 * slot + 1] += failures;
    row.slots[3 * slot + 2] += slow;
    row.calls += calls;
    row.failures += failures;
    row.slow += slow;
    if (this.quorum && failures + slow > 0) {
      // A reporter counts once for each bucket it sent bad calls in, until that bucket falls out.
      let weights = row.slotReporters.get(slot);
      if (weights === undefined) row.slotReporters.set(slot, (weights = new Map()));
      if (!weights.has(this.reporter)) {
        weights.set(this.reporter, 1);
        this.reporterAdd(this.reporter, 1);
      }
    }
  }

  // --- transitions -------------------------------------------------------------------------

  private transition(to: CircuitState, why: string): void {
    const row = this.row;
    row.state = to;
    row.epoch++;
    row.since = this.now;
    row.consecutive = 0;
    row.trialSuccesses = 0;
    row.permits = [];
    row.runners = [];
    this.reason = why;
    this.clearWindow();
    if (to === 'open') {
      row.openings++;
      const durations = row.settings.openDurations;
      row.openUntil = this.now + (durations[Math.min(row.openings, durations.length) - 1] ?? 0);
    } else if (to === 'closed') row.openings = 0;
    this.changed({
      name: this.request.name,
      state: to,
      epoch: row.epoch,
      since: row.since,
      openUntil: row.openUntil,
      openings: row.openings,
      reason: why,
    });
  }

  /** The reporters of the fleet's run of failures with `id` (at most quorum kept), and its place. */
  private withReporter(runners: readonly string[], id: string): [string[], number] {
    const at = runners.indexOf(id);
    if (at >= 0) return [[...runners], at + 1];
    if (runners.length >= this.row.settings.quorum) return [[...runners], runners.length];
    return [[...runners, id], runners.length + 1];
  }

  private record(operation: Extract<SharedBreakerRequest['operation'], { type: 'record' }>): void {
    const row = this.row;
    const { settings } = row;
    const calls = operation.calls;
    const lead = operation.leadingFailures;
    const trail = operation.trailingFailures;
    const run = operation.longestFailureRun;
    if (settings.window.type === 'count')
      this.countAdd(calls, operation.failures, operation.slowCalls);
    else this.timeAdd(calls, operation.failures, operation.slowCalls);
    let why: string | undefined;
    const quorum = settings.quorum;
    const needed = settings.consecutiveFailures;
    if (needed !== undefined && needed > 0) {
      // The fleet's run goes on with this batch's leading failures; a run inside the batch is one process's.
      const joined = row.consecutive + lead;
      if (lead > 0 && joined >= needed) {
        const [, from] = this.withReporter(row.runners, this.reporter);
        if (from >= quorum) why = `${joined} consecutive failures (fleet)`;
        else this.shortOfQuorum = true;
      }
      if (why === undefined && run >= needed) {
        if (quorum <= 1) why = `${run} consecutive failures (fleet)`;
        else this.shortOfQuorum = true;
      }
      if (quorum > 1) {
        if (lead === calls) row.runners = this.withReporter(row.runners, this.reporter)[0];
        else if (trail > 0 || row.consecutive > 0) row.runners = trail > 0 ? [this.reporter] : [];
      }
    }
    row.consecutive = lead === calls ? row.consecutive + calls : trail;
    if (why === undefined && row.calls > 0 && row.calls >= settings.minimumCalls) {
      let rate: string | undefined;
      const threshold = settings.failureRateThreshold;
      const slowThreshold = settings.slowCallRateThreshold;
      if (threshold !== undefined && threshold > 0 && row.failures / row.calls >= threshold)
        rate = `failure rate ${row.failures}/${row.calls}`;
      else if (
        slowThreshold !== undefined &&
        slowThreshold > 0 &&
        row.slow / row.calls >= slowThreshold
      )
        rate = `slow-call rate ${row.slow}/${row.calls}`;
      if (rate !== undefined) {
        if (quorum <= 1) why = `${rate} (fleet)`;
        else if (row.reporters.size >= quorum)
          why = `${rate} from ${row.reporters.size} processes (fleet)`;
        else this.shortOfQuorum = true;
      }
    }
    if (why !== undefined) this.transition('open', why);
  }

  // --- trial permits -----------------------------------------------------------------------

  private dropLapsedPermits(): void {
    const row = this.row;
    row.permits = row.permits
      .slice(0, row.settings.halfOpenMaxCalls)
      .filter((permit) => permit.until > this.now);
  }

  private takePermit(token: string): boolean {
    this.dropLapsedPermits();
    const at = this.row.permits.findIndex((permit) => permit.token === token);
    if (at < 0) return false;
    this.row.permits.splice(at, 1);
    return true;
  }
}

function freshRow(settings: SharedBreakerSettings, now: number): Row {
  return {
    settingsId: 0,
    settings,
    state: 'closed',
    epoch: 0,
    since: now,
    openUntil: 0,
    openings: 0,
    trialSuccesses: 0,
    consecutive: 0,
    calls: 0,
    failures: 0,
    slow: 0,
    newestBucket: -1,
    head: 0,
    used: 0,
    slots: new Array<number>(3 * slotCount(settings)).fill(0),
    reporters: new Map(),
    slotReporters: new Map(),
    runners: [],
    permits: [],
  };
}
