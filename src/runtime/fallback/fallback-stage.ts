import type { Call } from '../call';
import { ConfigError, isSteadfastError } from '../errors';
import { describeError } from '../log';
import { logFinal } from '../outcome';
import { hasMethod } from '../validation';
import type { CallStage, FailureHandler } from '../plan';
import type { FallbackSettings } from './fallback-options';
import { asValues } from '../../rxjs/observable-call';

/**
 * fallback(…), the outermost stage: when the call fails finally, the handler's value is its result.
 * ConfigError and NotIdempotentError are programming errors and always reach the caller.
 */
export class FallbackStage implements CallStage, FailureHandler {
  constructor(
    private readonly settings: FallbackSettings,
    private readonly next: CallStage,
  ) {}

  handles(error: unknown): boolean {
    if (
      isSteadfastError(error) &&
      (error.code === 'STEADFAST_CONFIG' || error.code === 'STEADFAST_NOT_IDEMPOTENT')
    )
      return false;
    const { on } = this.settings;
    if (on === undefined) return true;
    if (typeof on === 'function') {
      try {
        return on(error) === true;
      } catch {
        return false;
      }
    }
    for (const errorClass of on) if (error instanceof errorClass) return true;
    return false;
  }

  run(call: Call): Promise<unknown> {
    return this.next.run(call).then(undefined, (error: unknown) => this.answer(call, error));
  }

  private async answer(call: Call, error: unknown): Promise<unknown> {
    // Nobody listens to a call whose subscriber unsubscribed.
    if (!this.handles(error) || call.unsubscribed?.aborted === true) throw error;
    const { plan } = call;
    const { engine, label } = plan;
    if (engine.events.has('fallback'))
      engine.events.emit('fallback', { method: label, error, duration: call.duration() });
    if (engine.log.enabled) {
      engine.log.warn(`${label} failed (${describeError(error)}); answered by its fallback`, {
        method: label,
        attempt: call.attempt,
        maxAttempts: plan.retry.maxAttempts,
        reason: call.reason,
        error,
      });
    }
    try {
      const answer = await this.invoke(call, error);
      // An Observable method's call gives values: a fallback's Observable gives its own, anything else is one value.
      return plan.policy.returns === 'observable'
        ? await asValues(answer, call.unsubscribed)
        : answer;
    } catch (thrown) {
      logFinal(plan, call.attempt, 'fallback-failed', thrown, undefined, call.duration());
      throw thrown;
    }
  }

  private invoke(call: Call, error: unknown): unknown {
    const { handler } = this.settings;
    if (typeof handler === 'function')
      return handler.call(call.thisArg, error, ...(call.args as never[]));
    const method = (call.thisArg as Record<string, unknown> | null | undefined)?.[handler];
    if (typeof method !== 'function' || !hasMethod(call.thisArg, handler)) {
      throw new ConfigError(
        `@Fallback on ${call.plan.label}: option 'handler' names '${handler}', which is not a method of the class`,
        'handler',
        call.plan.label,
      );
    }
    return (method as (...args: unknown[]) => unknown).call(call.thisArg, error, ...call.args);
  }
}
