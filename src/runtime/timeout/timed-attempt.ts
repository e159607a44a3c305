import type { Call } from '../call';
import { TimeoutError, withoutStack } from '../errors';
import { runBodyFor, type SignalSource } from '../attempt-signal';
import type { DeadlineEntry, DeadlineQueue } from './deadline-queue';
import type { ArgumentSignal } from './argument-signal';
import { withSignal } from './argument-signal';

const NOT_ENDED: unique symbol = Symbol('not ended');

/**
 * One attempt that can end before its body does: at its deadline, when the call's signal aborts,
 * or when a hedged sibling wins. It then rejects at once, its signal aborts, and the body's late
 * outcome is ignored (and never becomes an unhandled rejection).
 */
export class TimedAttempt implements DeadlineEntry, SignalSource {
  deadline = 0;
  settled = false;
  readonly promise: Promise<unknown>;
  private resolve!: (value: unknown) => void;
  private reject!: (error: unknown) => void;
  private controller: AbortController | undefined;
  private endReason: unknown = NOT_ENDED;
  private stopFollowing: (() => void) | undefined;

  constructor(
    readonly call: Call,
    readonly number: number,
    /** the attempt deadline, ms, and its queue; undefined for an attempt without one (hedging only) */
    private readonly timeout: number | undefined,
    private readonly queue: DeadlineQueue | undefined,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** The attempt's signal, made on first use: one for the whole attempt, aborted if it already ended. */
  signal(): AbortSignal {
    let controller = this.controller;
    if (controller === undefined) {
      controller = this.controller = new AbortController();
      if (this.endReason !== NOT_ENDED) controller.abort(this.endReason);
    }
    return controller.signal;
  }

  /** Runs the body, with the caller's signal argument (if any) replaced by this attempt's. */
  start(argumentSignal: ArgumentSignal | undefined): void {
    const { call } = this;
    this.queue?.add(this);
    const signal = call.signal;
    if (signal !== undefined) {
      if (signal.aborted) return this.end(signal.reason);
      const onAbort = (): void => this.end(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.stopFollowing = () => signal.removeEventListener('abort', onAbort);
    }
    const args = argumentSignal === undefined ? call.args : withSignal(call.args, argumentSignal, this.signal());
    let body: unknown;
    try {
      body = runBodyFor(this, call.plan.method, call.thisArg, args);
    } catch (error) {
      return this.bodyFailed(error);
    }
    Promise.resolve(body).then(
      (value: unknown) => this.bodySucceeded(value),
      (error: unknown) => this.bodyFailed(error),
    );
  }

  /** The deadline passed. */
  expire(): void {
    const { plan } = this.call;
    const timeout = this.timeout as number;
    const error = withoutStack(() => new TimeoutError(plan.label, 'attempt', timeout));
    const { events } = plan.engine;
    if (events.has('timeout')) events.emit('timeout', { method: plan.label, kind: 'attempt', timeout, attempt: this.number });
    this.end(error);
  }

  /** Ends the attempt now with `reason`: it rejects, its signal aborts, the body is abandoned. */
  end(reason: unknown): void {
    if (this.settled) return;
    this.finish();
    this.endReason = reason;
    this.controller?.abort(reason);
    this.reject(reason);
  }

  private bodySucceeded(value: unknown): void {
    if (this.settled) return;
    this.finish();
    this.resolve(value);
  }

  private bodyFailed(error: unknown): void {
    if (this.settled) return;
    this.finish();
    this.reject(error);
  }

  private finish(): void {
    this.settled = true;
    this.queue?.release();
    if (this.stopFollowing !== undefined) this.stopFollowing();
  }
}
