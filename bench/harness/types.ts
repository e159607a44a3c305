import type { Operation } from './operations';

/**
 * One way of making the same service call: the bare call, a hand-written wrapper, or a library
 * configured as close to the others as it allows. A variant is code, not state: `setup` builds a
 * fresh subject for each scenario that uses it.
 */
export interface Variant {
  /** the row label; unique within a scenario, the same in every scenario */
  readonly name: string;
  /** the npm package measured (its version goes into RESULTS.md); '' for hand-written code */
  readonly library: string;
  /** how it is configured, for the equivalence notes */
  readonly config: string;
  setup(op: Operation, context: SetupContext): Subject | Promise<Subject>;
}

export interface SetupContext {
  /** unique per scenario and variant: use it to name breakers, so no two variants share one */
  readonly key: string;
}

/** What a variant's measuring loop calls. */
export interface Subject {
  /** bound to `t` in the generated loop */
  readonly target: unknown;
  /** the call as a JavaScript expression over `t`, e.g. `t.call()`; default `t()` */
  readonly invoke?: string;
  /** called after each of the variant's batches (its warm-up too), outside the timed loop */
  afterBatch?(): void;
  /** releases what the subject holds (timers, intervals) once the scenario is done */
  dispose?(): void | Promise<void>;
}

/**
 * How a scenario drives its variants:
 * - `sequential`: `await` one call after the other; ns per call
 * - `concurrent`: waves of `concurrency` calls in flight at once; ns per call and heap per in-flight call
 * - `heap`: heap growth over `heapCalls` sequential calls
 */
export type ScenarioKind = 'sequential' | 'concurrent' | 'heap';

/** What every call of a scenario must do; checked after every batch, so a misconfigured variant fails loudly. */
export type Outcome = 'resolve' | 'reject';

export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** one Markdown paragraph: what is measured and how */
  readonly description: string;
  readonly kind: ScenarioKind;
  /** what the operation behind every variant does */
  readonly operation: OperationKind;
  readonly outcome: Outcome;
  /** how many times the operation must run per logical call (0 for a refused call) */
  readonly attemptsPerCall: number;
  /** per-variant exceptions to `attemptsPerCall`, by name (the bare call makes one attempt where others retry) */
  readonly attemptsOf?: Readonly<Record<string, number>>;
  /** brings a subject into the scenario's starting state (e.g. opens its breaker) before measuring */
  prepare?(call: () => Promise<unknown>, control: OperationControl): Promise<void>;
  readonly variants: readonly Variant[];
  /** variant names to report a `× name` column against (median of per-round ratios); the first is the baseline */
  readonly ratiosTo: readonly string[];
  /** `ratiosTo` references to report a `+ns over name` column against (median per-round difference) */
  readonly extraOver?: readonly string[];
  /** count timers (setTimeout/setInterval) created per call */
  readonly countTimers?: boolean;
  /** ratios quoted in the issue, shown next to the measured ones */
  readonly references?: Readonly<Record<string, number>>;
  readonly targets?: readonly Target[];
}

export type OperationKind = 'succeed' | 'fail' | 'switchable' | 'gated';

export interface OperationControl {
  /** switchable operations only: whether the next runs throw */
  setFailing(failing: boolean): void;
  /** how many times the operation has run */
  readonly calls: number;
}

/** A number a variant's row reports, by key: see METRICS in report.ts. */
export type MetricKey =
  | 'ns'
  | 'wallNs'
  | 'nsPerAttempt'
  | 'timers'
  | 'bytesInFlight'
  | 'extraBytesInFlight'
  | 'heapGrowth'
  | `ratio:${string}`
  /** ns per call over a `ratiosTo` reference: the median of the per-round differences */
  | `extra:${string}`;

/** An upper bound that RESULTS.md checks: `metric` of `variant` must be at most `max`. */
export interface Target {
  readonly label: string;
  readonly variant: string;
  readonly metric: MetricKey;
  readonly max: number;
}

export interface VariantResult {
  readonly variant: Variant;
  readonly metrics: Partial<Record<MetricKey, number>>;
  /** p25 and p75 of the per-round ratio to the baseline, where there are rounds */
  readonly spread?: readonly [number, number];
  /** calls per measured batch, after calibration */
  readonly batchCalls?: number;
}

export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly rows: readonly VariantResult[];
  readonly rounds: number;
  readonly seconds: number;
}
