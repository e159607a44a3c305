import type { AbortSignalLike } from '../clock';
import { KEPT_CALL, type Call } from '../call';
import { keepAlive } from '../keep-alive';
import { resolversInto } from '../resolvers';
import { TimeoutError, withoutStack } from '../errors';
import { runAttemptFor, type SignalSource } from '../attempt-signal';
import type { DeadlineEntry, DeadlineQueue } from './deadline-queue';
import type { ArgumentSignal } from './argument-signal';
import { withSignal } from './argument-signal';
import type { AttemptEnd } from '../plan';

const NOT_ENDED: unique symbol = Symbol('not ended');

/**
 * One attempt that can end before its body does: at its deadline, when the call's signal aborts,
 * or when a hedged sibling wins. It then rejects at once, its signal aborts, and the body's late
 * outcome is ignored (and never becomes an unhandled rejection).
 */
export class TimedAttempt implements DeadlineEntry, SignalSource {
  deadline = 0;
  settled = false;
  promise!: Promise<unknown>;
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;
  private controller: AbortController | undefined;
  private endReason: unknown = NOT_ENDED;
  private stopFollowing: (() => void) | undefined;

  constructor(
    readonly call: Call,
    readonly number: number,
    /** the attempt deadline, ms, and its queue; undefined for an attempt without one (hedging only) */
    private readonly timeout: number | undefined,
    private readonly queue: DeadlineQueue | undefined,
    /** what the attempt's end is handed to, whose result the promise settles with */
    private readonly end: AttemptEnd | undefined,
  ) {
    resolversInto(this);
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
  start(argumentSignal: ArgumentSignal | undefined, cancel: AbortSignalLike | undefined): void {
    const { call } = this;
    this.queue?.add(this);
    // It follows the call's signal (the caller's, a total deadline) and, hedged, its group's cancel.
    if (!this.follow(call.signal) || !this.follow(cancel)) return;
    const args =
      argumentSignal === undefined
        ? call.args
        : withSignal(call.args, argumentSignal, this.signal());
    let body: unknown;
    try {
      // An Observable method's subscription ends with the attempt: it follows the attempt's signal.
      body = runAttemptFor(
        this,
        call,
        args,
        call.plan.returns === 'promise' ? undefined : this.signal(),
      );
    } catch (error) {
      return this.bodyFailed(error);
    }
    Promise.resolve(body).then(
      (value: unknown) => this.bodySucceeded(value),
      (error: unknown) => this.bodyFailed(error),
    );
  }

  /** Ends the attempt when `signal` aborts; false if it already has (and the attempt is over). */
  private follow(signal: AbortSignalLike | undefined): boolean {
    if (signal === undefined) return true;
    if (signal.aborted) {
      this.abandon(signal.reason);
      return false;
    }
    const onAbort = (): void => this.abandon(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const before = this.stopFollowing;
    this.stopFollowing =
      before === undefined
        ? () => signal.removeEventListener('abort', onAbort)
        : () => {
            before();
            signal.removeEventListener('abort', onAbort);
          };
    return true;
  }

  /** The deadline passed. */
  expire(): void {
    const { plan } = this.call;
    const timeout = this.timeout as number;
    const error = withoutStack(() => new TimeoutError(plan.label, 'attempt', timeout));
    const { events } = plan.engine;
    if (events.has('timeout'))
      events.emit('timeout', {
        method: plan.label,
        kind: 'attempt',
        timeout,
        attempt: this.number,
      });
    this.abandon(error);
  }

  /** Ends the attempt now with `reason`: it fails, its signal aborts, the body is abandoned. */
  abandon(reason: unknown): void {
    if (this.settled) return;
    this.finish();
    this.endReason = reason;
    this.controller?.abort(reason);
    this.settleFailed(reason);
  }

  private bodySucceeded(value: unknown): void {
    if (this.settled) return;
    this.finish();
    const { end } = this;
    if (end === undefined) return this.resolve(value);
    try {
      this.resolve(end.succeeded(value));
    } catch (error) {
      this.reject(error);
    }
  }

  private bodyFailed(error: unknown): void {
    if (this.settled) return;
    this.finish();
    this.settleFailed(error);
  }

  private settleFailed(error: unknown): void {
    const { end } = this;
    if (end === undefined) return this.reject(error);
    try {
      this.resolve(end.failed(error));
    } catch (thrown) {
      this.reject(thrown);
    }
  }

  private finish(): void {
    this.settled = true;
    this.queue?.release();
    if (this.stopFollowing !== undefined) this.stopFollowing();
  }
}

// Its hidden class kept alive (see keep-alive.ts), with a deadline of the representation real ones have.
keepAlive(new TimedAttempt(KEPT_CALL, 1, 0.5, undefined, undefined)).deadline = 0.5;
