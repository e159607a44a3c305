import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { CircuitBreaker, Idempotent, ResilienceEngine, Retryable } from '../../src';
import { instrument } from '../../src/opentelemetry';
import { callMethod } from '../../src/runtime/pipeline';
import { policyOf } from '../../src/runtime/policy';
import type { Operation } from '../harness/operations';
import type { SetupContext, Subject, Variant } from '../harness/types';
import { ATTEMPTS, FAILURES_TO_OPEN, OPEN_MS } from './equivalence';

/*
 * `steadfast all three`, each variant on an engine of its own, so that one variant's listeners
 * never reach another's calls and none is switched on and off between batches (which would measure
 * the JIT re-optimising, not the steady state of a process that stays instrumented). The decorated
 * method is called as its decorator's wrapper calls it, `callMethod(engine, policy, this, args)`,
 * with the variant's engine in place of defaultEngine: the same pipeline, stage for stage.
 */

const RETRY = { maxAttempts: ATTEMPTS, initialDelay: 0, jitter: 'none' } as const;
const CONFIG =
  `@Idempotent() @Retryable({ maxAttempts: ${ATTEMPTS}, initialDelay: 0, jitter: 'none' }) ` +
  `@CircuitBreaker({ name, consecutiveFailures: ${FAILURES_TO_OPEN}, openDuration: ${OPEN_MS} }), on an engine of its own`;

/** A reader that never exports: the SDK aggregates, nothing leaves the process. */
class SilentReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** What a variant attaches to its engine: returns what runs after each batch and what stops it. */
interface Attachment {
  readonly afterBatch?: () => void;
  stop(): void | Promise<void>;
}

function onOwnEngine(
  name: string,
  config: string,
  attach: (engine: ResilienceEngine) => Attachment,
): Variant {
  return {
    name,
    library: 'steadfast',
    config: `${CONFIG}${config}`,
    setup(op: Operation, context: SetupContext): Subject {
      class Service {
        @Idempotent()
        @Retryable(RETRY)
        @CircuitBreaker({
          name: context.key,
          consecutiveFailures: FAILURES_TO_OPEN,
          openDuration: OPEN_MS,
        })
        call(): Promise<number> {
          return op();
        }
      }
      const policy = policyOf(Service.prototype.call);
      if (policy === undefined) throw new Error(`${name}: the method has no policy`);
      const engine = new ResilienceEngine({ logger: false });
      const service = new Service();
      const attached = attach(engine);
      return {
        target: { call: (): unknown => callMethod(engine, policy, service, []) },
        invoke: 't.call()',
        ...(attached.afterBatch === undefined ? {} : { afterBatch: attached.afterBatch }),
        dispose: () => attached.stop(),
      };
    },
  };
}

export const steadfastOwnEngine: Variant = onOwnEngine(
  'steadfast all three, own engine',
  '',
  () => ({ stop: () => undefined }),
);

/**
 * With one listener that does nothing on `success`: what the engine itself costs once someone
 * listens to how calls end (each call is timed: two clock reads, and its event is built), the part
 * of instrument()'s cost that is not OpenTelemetry's.
 */
export const steadfastOwnEngineListened: Variant = onOwnEngine(
  'steadfast all three, own engine, a no-op success listener',
  "; engine.on('success', () => {})",
  (engine) => ({ stop: engine.on('success', () => undefined) }),
);

/**
 * With instrument() on a real sdk-metrics MeterProvider whose reader never exports; the reader
 * collects after each batch, outside the timed loop (as a periodic reader would, every minute).
 */
export const steadfastOwnEngineInstrumented: Variant = onOwnEngine(
  'steadfast all three, own engine, instrument()',
  '; instrument({ engine, meterProvider }) on an sdk-metrics MeterProvider whose reader never exports',
  (engine) => {
    const reader = new SilentReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const stop = instrument({ engine, meterProvider });
    return {
      afterBatch: () => void reader.collect(),
      async stop() {
        stop();
        await meterProvider.shutdown();
      },
    };
  },
);
