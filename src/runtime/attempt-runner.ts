import { KEPT_CALL, type Call } from './call';
import { keepAlive } from './keep-alive';
import type { AbortSignalLike } from './clock';
import type { Bulkhead } from './bulkhead/bulkhead';
import type { BulkheadStage } from './bulkhead/bulkhead-stage';
import type { BreakerStage, BreakerTicket } from './breaker/breaker-stage';
import { WAIT, type AttemptEnd, type AttemptStage } from './plan';
import type { AttemptTracer } from './attempt-tracer';

/** Returned by start() when a stage refused the attempt at once; the refusal is `call.refusal`. */
export const REFUSED_NOW: unique symbol = Symbol('refused');

/** What follows an attempt started by start(): the retry stage's handling of its outcome. */
export interface AttemptContinuation {
  succeeded(call: Call, value: unknown): unknown;
  failed(call: Call, error: unknown): unknown;
}

/** Hands an attempt's outcome back unchanged: for attempts the retry loop awaits itself. */
const AS_IS: AttemptContinuation = {
  succeeded: (_call, value) => value,
  failed: (_call, error) => {
    throw error;
  },
};

/** What the retry stage runs each attempt through: the attempt runner, or hedging over it. */
export interface Attempts {
  /** the breaker among the attempt's stages, to end the retry loop at once when it opens */
  readonly breaker: BreakerStage | undefined;
  start(
    call: Call,
    attempt: number,
    then: AttemptContinuation,
  ): Promise<unknown> | undefined | typeof REFUSED_NOW;
  run(call: Call, attempt: number): Promise<unknown>;
}

type Slot = Bulkhead | undefined;
type Permit = BreakerTicket | number | undefined;

/** The guards an attempt started by runHeld() holds, until settleHeld() tells them. */
export class HeldGuards {
  holding = false;
  slot: Slot = undefined;
  permit: Permit = undefined;
  /** when the attempt began, where the breaker times calls (a fraction: the clock's ms) */
  began = 0.5;
}

/**
 * One attempt through bulkhead( breaker( timeout.attempt( method ))). The bulkhead and the breaker
 * are guards: entered on the way in, told on the way out. When both admit the attempt at once, its
 * body starts without an async frame and its outcome is handled with one `then`; only a guard that
 * must wait (a queue, a fleet's permit) takes the asynchronous route.
 */
export class AttemptRunner implements Attempts {
  constructor(
    readonly bulkhead: BulkheadStage | undefined,
    readonly breaker: BreakerStage | undefined,
    private readonly method: AttemptStage,
  ) {}

  /**
   * Starts the attempt if every guard admits it now: its promise, settled through `then`. undefined
   * when a guard must wait (use run()); REFUSED_NOW when one refused it (the body did not run).
   */
  start(
    call: Call,
    attempt: number,
    then: AttemptContinuation,
    cancel?: AbortSignalLike,
  ): Promise<unknown> | undefined | typeof REFUSED_NOW {
    const { bulkhead, breaker } = this;
    let slot: Slot;
    let permit: Permit;
    try {
      if (bulkhead !== undefined) {
        const entered = bulkhead.enter(call);
        if (entered === WAIT) return undefined;
        slot = entered;
      }
      if (breaker !== undefined) {
        const entered = breaker.enter(call);
        if (entered === WAIT) {
          if (slot !== undefined) (bulkhead as BulkheadStage).exit(call, slot);
          return undefined;
        }
        permit = entered;
      }
    } catch (error) {
      if (slot !== undefined) (bulkhead as BulkheadStage).exit(call, slot);
      if (error === call.refusal) return REFUSED_NOW;
      // Not a refusal (a guard that could not be made, say): the attempt fails with it.
      return Promise.reject(error).then(undefined, (failure: unknown) =>
        then.failed(call, failure),
      );
    }
    return this.invoke(call, attempt, slot, permit, then, cancel);
  }

  /**
   * The attempt for a loop that awaits it itself: when the guards admit it now, the body's own
   * promise, its guards left in `held` for the loop to tell with settleHeld() once it settles (no
   * `then`, no handler objects, no rethrow in between); else what run() gives, `held` untouched.
   */
  runHeld(call: Call, attempt: number, held: HeldGuards): Promise<unknown> {
    const { bulkhead, breaker } = this;
    if (call.plan.engine.attemptTracer !== undefined) return this.run(call, attempt);
    let slot: Slot;
    let permit: Permit;
    try {
      if (bulkhead !== undefined) {
        const entered = bulkhead.enter(call);
        if (entered === WAIT) return this.runWaiting(call, attempt, undefined);
        slot = entered;
      }
      if (breaker !== undefined) {
        const entered = breaker.enter(call);
        if (entered === WAIT) {
          if (slot !== undefined) (bulkhead as BulkheadStage).exit(call, slot);
          return this.runWaiting(call, attempt, undefined);
        }
        permit = entered;
      }
    } catch (error) {
      if (slot !== undefined) (bulkhead as BulkheadStage).exit(call, slot);
      return Promise.reject(error);
    }
    held.slot = slot;
    held.permit = permit;
    held.began = breaker !== undefined && breaker.timesCalls ? call.plan.engine.clock.now() : 0;
    held.holding = slot !== undefined || permit !== undefined;
    return this.method.run(call, attempt, undefined, undefined);
  }

  /** Tells the guards runHeld() left in `held` how the attempt ended, and clears it. */
  settleHeld(call: Call, held: HeldGuards, failed: boolean, outcome: unknown): void {
    if (!held.holding) return;
    held.holding = false;
    const timed = this.breaker !== undefined && this.breaker.timesCalls;
    const duration = timed ? call.plan.engine.clock.now() - held.began : 0;
    const { slot, permit } = held;
    held.slot = held.permit = undefined;
    this.exitGuards(call, slot, permit, failed, outcome, duration);
  }

  /** The attempt, waiting where a guard must; rejects with a refusal or the attempt's failure. */
  run(call: Call, attempt: number, cancel?: AbortSignalLike): Promise<unknown> {
    const started = this.start(call, attempt, AS_IS, cancel);
    if (started === REFUSED_NOW) return Promise.reject(call.refusal);
    return started ?? this.runWaiting(call, attempt, cancel);
  }

  private async runWaiting(
    call: Call,
    attempt: number,
    cancel: AbortSignalLike | undefined,
  ): Promise<unknown> {
    const { bulkhead, breaker } = this;
    const slot: Slot = bulkhead === undefined ? undefined : await bulkhead.enterAsync(call);
    let permit: Permit;
    try {
      if (breaker !== undefined) permit = await breaker.enterAsync(call);
    } catch (refused) {
      if (slot !== undefined) (bulkhead as BulkheadStage).exit(call, slot);
      throw refused;
    }
    return this.invoke(call, attempt, slot, permit, AS_IS, cancel);
  }

  private invoke(
    call: Call,
    attempt: number,
    slot: Slot,
    permit: Permit,
    then: AttemptContinuation,
    cancel: AbortSignalLike | undefined,
  ): Promise<unknown> {
    let end: AttemptEnd | undefined;
    if (slot === undefined && permit === undefined) {
      end = then === AS_IS ? undefined : new ContinuedEnd(call, then);
    } else {
      const timed = this.breaker !== undefined && this.breaker.timesCalls;
      const began = timed ? call.plan.engine.clock.now() : 0;
      end = new GuardedEnd(this, call, slot, permit, timed, began, then);
    }
    const tracer = call.plan.engine.attemptTracer;
    if (tracer === undefined) return this.method.run(call, attempt, end, cancel);
    const started = tracer.start(call.plan.label, attempt);
    const traced = new TracedEnd(tracer, started, end);
    return tracer.run(started, () => this.method.run(call, attempt, traced, cancel));
  }

  /** Tells the guards, innermost first, that the attempt ended. */
  exitGuards(
    call: Call,
    slot: Slot,
    permit: Permit,
    failed: boolean,
    outcome: unknown,
    duration: number,
  ): void {
    if (permit !== undefined)
      (this.breaker as BreakerStage).exit(call, permit, failed, outcome, duration);
    if (slot !== undefined) (this.bulkhead as BulkheadStage).exit(call, slot);
  }
}

/** An attempt's end with no guard to tell: straight to the continuation. */
class ContinuedEnd implements AttemptEnd {
  constructor(
    private readonly call: Call,
    private readonly then: AttemptContinuation,
  ) {}

  succeeded(value: unknown): unknown {
    return this.then.succeeded(this.call, value);
  }

  failed(error: unknown): unknown {
    return this.then.failed(this.call, error);
  }
}

/** An attempt's end: its guards told (the breaker with its duration), then the continuation. */
class GuardedEnd implements AttemptEnd {
  constructor(
    private readonly runner: AttemptRunner,
    private readonly call: Call,
    private readonly slot: Slot,
    private readonly permit: Permit,
    private readonly timed: boolean,
    private readonly began: number,
    private readonly then: AttemptContinuation,
  ) {}

  succeeded(value: unknown): unknown {
    this.runner.exitGuards(this.call, this.slot, this.permit, false, value, this.duration());
    return this.then.succeeded(this.call, value);
  }

  failed(error: unknown): unknown {
    this.runner.exitGuards(this.call, this.slot, this.permit, true, error, this.duration());
    return this.then.failed(this.call, error);
  }

  private duration(): number {
    return this.timed ? this.call.plan.engine.clock.now() - this.began : 0;
  }
}

/** An attempt's end told to the tracer first, then as it would have been. */
class TracedEnd implements AttemptEnd {
  constructor(
    private readonly tracer: AttemptTracer,
    private readonly started: unknown,
    private readonly next: AttemptEnd | undefined,
  ) {}

  succeeded(value: unknown): unknown {
    this.tracer.end(this.started, false, value);
    return this.next === undefined ? value : this.next.succeeded(value);
  }

  failed(error: unknown): unknown {
    this.tracer.end(this.started, true, error);
    if (this.next === undefined) throw error;
    return this.next.failed(error);
  }
}

// Their hidden classes kept alive (see keep-alive.ts): one of each, never run.
keepAlive(new ContinuedEnd(KEPT_CALL, AS_IS));
keepAlive(new GuardedEnd(undefined as never, KEPT_CALL, undefined, {} as never, false, 0.5, AS_IS));
keepAlive(new TracedEnd(undefined as never, undefined, undefined));
keepAlive(new HeldGuards());
