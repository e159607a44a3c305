import type { Call } from '../call';
import { Cancellation } from '../cancellation';
import { resolversInto } from '../resolvers';
import { WindowedCounts } from '../budget/windowed-counts';
import type { AttemptRunner, Attempts } from '../attempt-runner';
import type { BreakerStage } from '../breaker/breaker-stage';
import type { HedgeSettings } from './hedge-options';
import { LatencyEstimate } from './latency-estimate';

/** The window over which maxExtraLoad is kept: hedges per call of the last 10 s. */
const LOAD_WINDOW_MS = 10_000;

/**
 * hedge(…), between retry and the attempt's stages: an attempt that has not settled after `delay`
 * is joined by another (up to `maxHedged` more), an attempt that fails starts the next at once, and
 * the first success is the result. The others are aborted (their attemptSignal() too) and their
 * outcomes count nowhere. When every attempt failed, the group fails with the last error, which the
 * retry loop takes as one failed attempt.
 */
export class HedgeStage implements Attempts {
  /** calls (first) and hedges (second) of the method in the last LOAD_WINDOW_MS */
  private readonly load = new WindowedCounts(LOAD_WINDOW_MS);
  /** recent successful attempts' latencies, for an adaptive delay */
  private readonly latencies = new LatencyEstimate();

  constructor(
    private readonly attempts: AttemptRunner,
    readonly settings: HedgeSettings,
  ) {}

  get breaker(): BreakerStage | undefined {
    return this.attempts.breaker;
  }

  /** Hedged attempts always take the asynchronous route. */
  start(): undefined {
    return undefined;
  }

  run(call: Call, attempt: number): Promise<unknown> {
    const group = new HedgeGroup(this, this.attempts, call, attempt);
    this.load.add(call.plan.engine.clock.now(), 1, 0);
    group.launch();
    return group.promise;
  }

  /** How long an attempt may run before another joins it, now. */
  delay(): number {
    const { delay } = this.settings;
    if (typeof delay === 'number') return delay;
    const estimate = this.latencies.percentile(delay.percentile);
    return estimate === undefined ? delay.max : Math.min(delay.max, Math.max(delay.min, estimate));
  }

  /** Whether one more attempt may join: under maxExtraLoad, and within the retry budget (which it spends). */
  mayHedge(call: Call): boolean {
    const now = call.plan.engine.clock.now();
    this.load.advance(now);
    if (this.load.second + 1 > this.settings.maxExtraLoad * this.load.first) return false;
    const { budget } = call.plan;
    if (budget !== undefined && !budget.tryRetry(now)) return false;
    this.load.add(now, 0, 1);
    return true;
  }

  succeeded(latency: number): void {
    this.latencies.record(latency);
  }
}

/** The attempts of one hedged group: one retry attempt of one call. */
class HedgeGroup {
  promise!: Promise<unknown>;
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;
  private launched = 0;
  private running = 0;
  private settled = false;
  private lastError: unknown = undefined;
  private readonly cancels: Cancellation[] = [];
  private waiting: Cancellation | undefined;

  constructor(
    private readonly stage: HedgeStage,
    private readonly attempts: AttemptRunner,
    private readonly call: Call,
    private readonly attempt: number,
  ) {
    resolversInto(this);
  }

  /** Starts the next attempt of the group (a hedge after the first); false if none may start. */
  launch(): boolean {
    const { call, stage } = this;
    const index = this.launched;
    if (index > stage.settings.maxHedged || (index > 0 && !stage.mayHedge(call))) return false;
    this.launched++;
    const { engine, label } = call.plan;
    const delay = index === 0 ? 0 : stage.delay();
    if (index > 0 && engine.events.has('hedge'))
      engine.events.emit('hedge', { method: label, attempt: this.attempt, hedge: index, delay });
    const cancel = new Cancellation();
    this.cancels.push(cancel);
    const began = engine.clock.now();
    this.running++;
    this.attempts.run(call, this.attempt, cancel).then(
      (value: unknown) => this.succeeded(value, began),
      (error: unknown) => this.failed(error),
    );
    if (this.launched <= stage.settings.maxHedged) this.wait();
    return true;
  }

  /** Sleeps the hedge delay (cleared when the group settles or a new attempt starts), then hedges. */
  private wait(): void {
    this.waiting?.abort(undefined);
    const waiting = (this.waiting = new Cancellation());
    const signal = this.call.signal;
    if (signal !== undefined) waiting.follow(signal);
    this.call.plan.engine.clock.sleep(this.stage.delay(), waiting).then(
      () => {
        if (!this.settled && this.waiting === waiting) this.launch();
      },
      () => undefined,
    );
  }

  private succeeded(value: unknown, began: number): void {
    this.running--;
    if (this.settled) return;
    this.settle();
    this.stage.succeeded(this.call.plan.engine.clock.now() - began);
    // The others lost: aborted, their outcomes count nowhere (an abort counts neither way for a breaker).
    const lost = new DOMException('another hedged attempt won', 'AbortError');
    for (const cancel of this.cancels) cancel.abort(lost);
    this.resolve(value);
  }

  private failed(error: unknown): void {
    this.running--;
    if (this.settled) return;
    this.lastError = error;
    const { call } = this;
    // A refusal, an aborted call, a total deadline: no other attempt would fare better.
    const hopeless = error === call.refusal || call.signal?.aborted === true;
    if (!hopeless && this.launch()) return;
    if (this.running > 0) return;
    this.settle();
    this.reject(this.lastError);
  }

  private settle(): void {
    this.settled = true;
    this.waiting?.abort(undefined);
    this.waiting = undefined;
  }
}
