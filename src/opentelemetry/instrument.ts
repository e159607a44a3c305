import {
  context,
  metrics,
  trace,
  type Attributes,
  type BatchObservableResult,
  type MeterProvider,
  type Observable,
  type TracerProvider,
} from '@opentelemetry/api';
import { defaultEngine, ResilienceEngine } from '../runtime/engine';
import { ConfigError } from '../runtime/errors';
import { OptionChecker } from '../runtime/validation';
import type { EngineEventName, EngineListener } from '../runtime/events';
import { ATTRIBUTES, INSTRUMENTS, SCOPE_NAME, SPAN_EVENTS } from './names';
import { errorType } from './error-type';
import { steadfastVersion } from './version';
import { AttemptSpans, callSpan } from './attempt-spans';
import { CIRCUIT_STATES, TallyBook } from './tallies';

/** What `instrument()` accepts. */
export interface InstrumentOptions {
  /** the engine to report (default: `defaultEngine`, the one every decorator uses) */
  readonly engine?: ResilienceEngine;
  /** where the instruments are made (default: the global one, `metrics.getMeterProvider()`) */
  readonly meterProvider?: MeterProvider;
  /** where attempt spans are made (default: the global one, `trace.getTracerProvider()`) */
  readonly tracerProvider?: TracerProvider;
  /** one child span `steadfast.attempt` per attempt, active while its body runs (default: false) */
  readonly attemptSpans?: boolean;
}

const OPTION_KEYS = ['engine', 'meterProvider', 'tracerProvider', 'attemptSpans'] as const;

/** Engines being reported: a second instrument() would count every call twice. */
const instrumented = new WeakSet<ResilienceEngine>();

/**
 * Starts reporting `engine` to OpenTelemetry: metrics (the `steadfast.*` instruments), events on
 * the active span, and with `attemptSpans` one span per attempt. Returns the function that stops
 * it: every listener, the gauges' callback and the attempt tracer are removed, and the counts not
 * yet collected are handed to the counters.
 */
export function instrument(options: InstrumentOptions = {}): () => void {
  const { engine, meterProvider, tracerProvider, attemptSpans } = checkOptions(options);
  if (instrumented.has(engine))
    throw new ConfigError(
      'instrument(): this engine is already instrumented; call the function the first instrument() returned to stop it first',
      'engine',
    );

  const version = steadfastVersion();
  const meter = meterProvider.getMeter(SCOPE_NAME, version);
  const book = new TallyBook({
    calls: meter.createCounter(INSTRUMENTS.calls, {
      unit: '{call}',
      description: 'Calls of decorated methods, each counted once, by how it ended',
    }),
    retries: meter.createCounter(INSTRUMENTS.retries, {
      unit: '{retry}',
      description: 'Failed attempts that were retried',
    }),
    deduplicated: meter.createCounter(INSTRUMENTS.deduplicated, {
      unit: '{call}',
      description:
        'Keyed calls answered without running the body: a recorded result, or one in flight',
    }),
    timeouts: meter.createCounter(INSTRUMENTS.timeouts, {
      unit: '{timeout}',
      description: 'Deadlines that passed: an attempt’s or a whole call’s',
    }),
    fallbacks: meter.createCounter(INSTRUMENTS.fallbacks, {
      unit: '{call}',
      description: 'Final failures answered by a @Fallback',
    }),
    hedges: meter.createCounter(INSTRUMENTS.hedges, {
      unit: '{hedge}',
      description: 'Extra attempts started by @Hedge',
    }),
    budgetRefused: meter.createCounter(INSTRUMENTS.budgetRefused, {
      unit: '{retry}',
      description: 'Retries a retry budget refused (the call failed instead)',
    }),
    breakerTransitions: meter.createCounter(INSTRUMENTS.breakerTransitions, {
      unit: '{transition}',
      description: 'Circuit breaker state changes, by the state entered',
    }),
    breakerRejected: meter.createCounter(INSTRUMENTS.breakerRejected, {
      unit: '{call}',
      description: 'Attempts refused by a circuit breaker that was not closed',
    }),
    bulkheadRejected: meter.createCounter(INSTRUMENTS.bulkheadRejected, {
      unit: '{call}',
      description:
        'Attempts a bulkhead refused: no slot and no room to queue, or out of queue time',
    }),
  });
  const duration = meter.createHistogram(INSTRUMENTS.callDuration, {
    unit: 's',
    description: 'Duration of calls of decorated methods, from the call to its answer',
    advice: {
      explicitBucketBoundaries: [
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
      ],
    },
  });
  const breakerState = meter.createObservableGauge(INSTRUMENTS.breakerState, {
    description: 'Circuit breaker state: 1 for the current state, 0 for the others',
  });
  const bulkheadRunning = meter.createObservableGauge(INSTRUMENTS.bulkheadRunning, {
    unit: '{call}',
    description: 'Attempts holding a bulkhead slot',
  });
  const bulkheadQueued = meter.createObservableGauge(INSTRUMENTS.bulkheadQueued, {
    unit: '{call}',
    description: 'Attempts waiting for a bulkhead slot',
  });
  const observables: Observable[] = [breakerState, bulkheadRunning, bulkheadQueued];
  const bulkheadAttributes = new Map<string, Attributes>();
  // Runs at each collection, before the counters are read: so the counts reach them first.
  const observe = (result: BatchObservableResult): void => {
    book.flush();
    for (const breaker of engine.breakers()) {
      const { states } = book.breaker(breaker.name);
      const current = breaker.state;
      CIRCUIT_STATES.forEach((state, index) =>
        result.observe(breakerState, state === current ? 1 : 0, states[index]),
      );
    }
    for (const bulkhead of engine.bulkheads()) {
      let attributes = bulkheadAttributes.get(bulkhead.name);
      if (attributes === undefined) {
        attributes = Object.freeze({ [ATTRIBUTES.bulkheadName]: bulkhead.name });
        bulkheadAttributes.set(bulkhead.name, attributes);
      }
      result.observe(bulkheadRunning, bulkhead.running, attributes);
      result.observe(bulkheadQueued, bulkhead.queued, attributes);
    }
  };

  // Installed first: it is the step that can refuse (another tracer on this engine).
  const removeTracer = attemptSpans
    ? engine.traceAttempts(
        new AttemptSpans(
          tracerProvider.getTracer(SCOPE_NAME, version),
          () => context.active(),
          (active, body) => context.with(active, body),
        ),
      )
    : undefined;

  const seconds = (ms: number): number => ms / 1000;
  const listeners: (() => void)[] = [];
  const on = <E extends EngineEventName>(name: E, listener: EngineListener<E>): void =>
    void listeners.push(engine.on(name, listener));

  on('success', (event) => {
    const method = book.method(event.method);
    method.success.count++;
    duration.record(seconds(event.duration), method.durations.success);
  });
  on('failure', (event) => {
    const method = book.method(event.method);
    const type = errorType(event.error);
    const span = callSpan(context.active());
    span?.addEvent(SPAN_EVENTS.failure, {
      [ATTRIBUTES.errorType]: type,
      [ATTRIBUTES.failureReason]: event.reason,
      [ATTRIBUTES.attempts]: event.attempts,
    });
    // Its fallback was reported (and counted) first: the call is counted once, as `fallback`.
    if (event.reason === 'fallback-failed') return;
    if (event.reason === 'retry-budget') method.budgetRefused.count++;
    if (event.reason === 'circuit-open') {
      method.rejected.count++;
      duration.record(seconds(event.duration), method.durations.rejected);
      return;
    }
    method.failure(type).count++;
    duration.record(seconds(event.duration), method.durations.failure);
  });
  on('fallback', (event) => {
    const method = book.method(event.method);
    const type = errorType(event.error);
    method.fallback.count++;
    method.fallbackOf(type).count++;
    duration.record(seconds(event.duration), method.durations.fallback);
    callSpan(context.active())?.addEvent(SPAN_EVENTS.fallback, { [ATTRIBUTES.errorType]: type });
  });
  on('deduplicated', (event) => {
    const method = book.method(event.method);
    method.deduplicated.count++;
    if (event.how === 'replayed') {
      method.replayed.count++;
      duration.record(seconds(event.duration), method.durations.deduplicated);
    } else {
      // A joined call is answered when the call it joined ends: it has no duration of its own.
      method.joined.count++;
    }
  });
  on('retry', (event) => {
    book.method(event.method).retries.count++;
    callSpan(context.active())?.addEvent(SPAN_EVENTS.retry, {
      [ATTRIBUTES.retryAttempt]: event.attempt,
      [ATTRIBUTES.errorType]: errorType(event.error),
      [ATTRIBUTES.delayMs]: event.delay,
    });
  });
  on('rejected', (event) => {
    book.breaker(event.circuit).rejected.count++;
    callSpan(context.active())?.addEvent(SPAN_EVENTS.rejected, {
      [ATTRIBUTES.breakerName]: event.circuit,
      [ATTRIBUTES.breakerState]: event.state,
    });
  });
  on('stateChange', (event) => {
    book.breaker(event.circuit).transitions[event.to].count++;
  });
  on('timeout', (event) => {
    book.method(event.method).timeout(event.kind).count++;
    callSpan(context.active())?.addEvent(SPAN_EVENTS.timeout, {
      [ATTRIBUTES.timeoutKind]: event.kind,
      [ATTRIBUTES.retryAttempt]: event.attempt,
    });
  });
  on('bulkheadRejected', (event) => {
    book.bulkheadRejected(event.bulkhead, event.reason).count++;
  });
  on('hedge', (event) => {
    book.method(event.method).hedges.count++;
    callSpan(context.active())?.addEvent(SPAN_EVENTS.hedge, {
      [ATTRIBUTES.retryAttempt]: event.attempt,
      [ATTRIBUTES.hedge]: event.hedge,
    });
  });
  meter.addBatchObservableCallback(observe, observables);
  instrumented.add(engine);

  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    for (const off of listeners) off();
    meter.removeBatchObservableCallback(observe, observables);
    removeTracer?.();
    // What was counted since the last collection reaches the next one.
    book.flush();
    instrumented.delete(engine);
  };
}

function checkOptions(options: InstrumentOptions): {
  engine: ResilienceEngine;
  meterProvider: MeterProvider;
  tracerProvider: TracerProvider;
  attemptSpans: boolean;
} {
  const checker = new OptionChecker('instrument()', undefined);
  const given = checker.object('', options, OPTION_KEYS);
  const { engine, meterProvider, tracerProvider, attemptSpans } = given;
  if (engine !== undefined && !(engine instanceof ResilienceEngine))
    checker.fail('engine', 'must be a ResilienceEngine (defaultEngine, or one you made)', engine);
  if (meterProvider !== undefined && !hasFunction(meterProvider, 'getMeter'))
    checker.fail('meterProvider', 'must be a MeterProvider (with getMeter())', meterProvider);
  if (tracerProvider !== undefined && !hasFunction(tracerProvider, 'getTracer'))
    checker.fail('tracerProvider', 'must be a TracerProvider (with getTracer())', tracerProvider);
  if (attemptSpans !== undefined && typeof attemptSpans !== 'boolean')
    checker.fail('attemptSpans', 'must be a boolean', attemptSpans);
  return {
    engine: (engine as ResilienceEngine | undefined) ?? defaultEngine,
    meterProvider: (meterProvider as MeterProvider | undefined) ?? metrics.getMeterProvider(),
    tracerProvider: (tracerProvider as TracerProvider | undefined) ?? trace.getTracerProvider(),
    attemptSpans: attemptSpans === true,
  };
}

function hasFunction(value: unknown, name: string): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>)[name] === 'function'
  );
}
