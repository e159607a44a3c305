import type { Call } from './call';
import type { AttemptStage } from './plan';
import { runBodyOutside } from './attempt-signal';

/** The innermost stage of a method without attempt deadlines: the body, its outcome as a promise. */
export class MethodStage implements AttemptStage {
  run(call: Call): Promise<unknown> {
    try {
      return Promise.resolve(runBodyOutside(call.plan.method, call.thisArg, call.args));
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
