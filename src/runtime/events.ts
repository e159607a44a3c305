import { ConfigError } from './errors';

/** Why a call finally failed. */
export type FailureReason =
  /** every attempt failed (or `retryOnResult` rejected every result) */
  | 'exhausted'
  /** the error is not one `retryOn` retries, or one the library never retries */
  | 'not-retryable'
  /** the caller's AbortSignal aborted */
  | 'aborted'
  /** the next sleep would end past `maxElapsed` */
  | 'budget'
  /** a circuit breaker refused the attempt */
  | 'circuit-open'
  /** the call ran past its total `@Timeout` (an attempt timeout ends a call as 'exhausted' or 'not-retryable') */
  | 'timeout'
  /** a bulkhead had no slot (and no room to queue, or the queue timed out) */
  | 'bulkhead-full'
  /** the fallback handler threw: the call rejects with what it threw */
  | 'fallback-failed'
  /** the retry budget refused the retry that would have followed (see `retryBudget`) */
  | 'retry-budget';

export interface RetryEvent {
  /** `Class.method` */
  readonly method: string;
  /** the attempt that failed, 1-based */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** ms before the next attempt */
  readonly delay: number;
  /** the failed attempt's error; undefined when `retryOnResult` rejected a result */
  readonly error: unknown;
}

export interface SuccessEvent {
  readonly method: string;
  /** attempts made, the successful one included */
  readonly attempts: number;
  /** ms from the call's start to its end, on the engine's clock */
  readonly duration: number;
}

export interface FailureEvent {
  readonly method: string;
  readonly attempts: number;
  readonly reason: FailureReason;
  /** what the caller receives as rejection; undefined when the call resolves with a rejected result */
  readonly error: unknown;
  /** ms from the call's start to its end, on the engine's clock */
  readonly duration: number;
}

export type CircuitState = 'closed' | 'open' | 'half-open' | 'isolated';

export interface StateChangeEvent {
  readonly circuit: string;
  readonly from: CircuitState;
  readonly to: CircuitState;
  readonly reason: string;
}

export interface RejectedEvent {
  readonly circuit: string;
  readonly method: string;
  readonly state: 'open' | 'half-open' | 'isolated';
  readonly retryAfter: number;
}

export interface DeduplicatedEvent {
  readonly method: string;
  /** 'replayed': a recorded result was returned; 'joined': the call shared one in flight */
  readonly how: 'replayed' | 'joined';
  /** ms from the call's start to its answer ('replayed'); 0 for 'joined', which is emitted as it joins */
  readonly duration: number;
}

export interface TimeoutEvent {
  readonly method: string;
  /** 'attempt': one attempt ran past its deadline (the body is abandoned); 'total': the call did */
  readonly kind: 'attempt' | 'total';
  /** the deadline, ms */
  readonly timeout: number;
  /** the attempt that was running, 1-based (0 if none was) */
  readonly attempt: number;
}

export interface FallbackEvent {
  readonly method: string;
  /** the call's final failure, which the fallback answered */
  readonly error: unknown;
  /** ms from the call's start to the failure the fallback answered */
  readonly duration: number;
}

export interface BulkheadRejectedEvent {
  readonly method: string;
  readonly bulkhead: string;
  /** 'full': no slot and no room to queue; 'queue-timeout': waited queueTimeout in the queue */
  readonly reason: 'full' | 'queue-timeout';
}

export interface HedgeEvent {
  readonly method: string;
  /** the retry attempt the hedge belongs to, 1-based */
  readonly attempt: number;
  /** which extra attempt this is in its group: 1 for the first hedge */
  readonly hedge: number;
  /** ms the attempts before it were given (the hedge delay at the time) */
  readonly delay: number;
}

/** Every event the engine emits, by name. */
export interface EngineEvents {
  retry: RetryEvent;
  success: SuccessEvent;
  failure: FailureEvent;
  stateChange: StateChangeEvent;
  rejected: RejectedEvent;
  deduplicated: DeduplicatedEvent;
  timeout: TimeoutEvent;
  fallback: FallbackEvent;
  bulkheadRejected: BulkheadRejectedEvent;
  hedge: HedgeEvent;
}

export type EngineEventName = keyof EngineEvents;
export type EngineListener<E extends EngineEventName> = (event: EngineEvents[E]) => void;

/** A tiny typed emitter. A listener that throws never breaks the call being reported. */
/** Every event name, in the order of EngineEvents. */
export const EVENT_NAMES: readonly EngineEventName[] = [
  'retry',
  'success',
  'failure',
  'stateChange',
  'rejected',
  'deduplicated',
  'timeout',
  'fallback',
  'bulkheadRejected',
  'hedge',
];

type Listeners = { [E in EngineEventName]: EngineListener<E>[] };

/** One own array per event: a fixed shape, so has() on the hot path is a property read, never found on a polluted Object.prototype. */
function emptyListeners(): Listeners {
  return {
    retry: [],
    success: [],
    failure: [],
    stateChange: [],
    rejected: [],
    deduplicated: [],
    timeout: [],
    fallback: [],
    bulkheadRejected: [],
    hedge: [],
  };
}

/** A tiny typed emitter. A listener that throws never breaks the call being reported. */
export class EventHub {
  private readonly listeners: Listeners = emptyListeners();

  on<E extends EngineEventName>(name: E, listener: EngineListener<E>): () => void {
    if (!EVENT_NAMES.includes(name))
      throw new ConfigError(
        `on(): '${String(name)}' is not an event (events: ${EVENT_NAMES.join(', ')})`,
        'event',
      );
    if (typeof listener !== 'function')
      throw new ConfigError(`on('${name}'): the listener must be a function`, 'listener');
    (this.listeners[name] as EngineListener<E>[]).push(listener);
    return () => this.off(name, listener);
  }

  off<E extends EngineEventName>(name: E, listener: EngineListener<E>): void {
    if (!EVENT_NAMES.includes(name)) return;
    const list = this.listeners[name] as EngineListener<E>[];
    const index = list.indexOf(listener);
    if (index >= 0) list.splice(index, 1);
  }

  /** Whether anyone listens to how calls end (success, failure, fallback, deduplicated): calls are then timed. */
  get timesCalls(): boolean {
    const { success, failure, fallback, deduplicated } = this.listeners;
    return success.length + failure.length + fallback.length + deduplicated.length > 0;
  }

  /** Cheap check so the hot path builds no payload nobody reads. */
  has(name: EngineEventName): boolean {
    return this.listeners[name].length > 0;
  }

  emit<E extends EngineEventName>(name: E, event: EngineEvents[E]): void {
    const list = this.listeners[name] as EngineListener<E>[];
    if (list.length === 0) return;
    for (const listener of list.slice()) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own; the call goes on.
      }
    }
  }
}
