import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  DataPointType,
  InstrumentType,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

/** A reader that exports nowhere: the test collects from it when it wants to look. */
class CollectingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** One instrument as the SDK collected it: what a test compares. */
export interface CollectedMetric {
  readonly name: string;
  readonly type: InstrumentType;
  readonly unit: string;
  readonly points: readonly {
    readonly attributes: Record<string, unknown>;
    /** a sum's or a gauge's value; a histogram's count */
    readonly value: number;
    /** a histogram's sum */
    readonly sum?: number;
  }[];
}

export interface Metrics {
  readonly meterProvider: MeterProvider;
  /** collects now: every instrument of the meter named `steadfast`, by name */
  collect(): Promise<Map<string, CollectedMetric>>;
  /** collects, and gives every instrument of every meter (to show nothing was reported) */
  collectAll(): Promise<MetricData[]>;
  shutdown(): Promise<void>;
}

/**
 * The instrument's kind (Counter, ObservableGauge…). The SDK's descriptor is the instrument's own
 * (InstrumentDescriptor, with `type`), though MetricData types it without.
 */
function kindOf(metric: MetricData): InstrumentType {
  const { type } = metric.descriptor as MetricData['descriptor'] & { type?: InstrumentType };
  if (type === undefined) throw new Error(`${metric.descriptor.name}: the SDK gave no kind`);
  return type;
}

function pointValue(point: DataPoint<unknown>, type: DataPointType): number {
  return type === DataPointType.HISTOGRAM
    ? (point.value as Histogram).count
    : (point.value as number);
}

/** A real sdk-metrics MeterProvider with a reader the test collects from. */
export function metricsHarness(): Metrics {
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const collectAll = async (): Promise<MetricData[]> => {
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw errors[0];
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  };
  return {
    meterProvider,
    collectAll,
    async collect() {
      const { resourceMetrics } = await reader.collect();
      const byName = new Map<string, CollectedMetric>();
      for (const scope of resourceMetrics.scopeMetrics) {
        if (scope.scope.name !== 'steadfast') continue;
        for (const metric of scope.metrics) {
          byName.set(metric.descriptor.name, {
            name: metric.descriptor.name,
            type: kindOf(metric),
            unit: metric.descriptor.unit,
            points: (metric.dataPoints as DataPoint<unknown>[]).map((point) => ({
              attributes: { ...point.attributes },
              value: pointValue(point, metric.dataPointType),
              ...(metric.dataPointType === DataPointType.HISTOGRAM
                ? { sum: (point.value as Histogram).sum }
                : {}),
            })),
          });
        }
      }
      return byName;
    },
    shutdown: () => meterProvider.shutdown(),
  };
}

/** Points sorted by their attributes, so a test can compare them as a list. */
export function sortedPoints(metric: CollectedMetric | undefined): CollectedMetric['points'] {
  if (metric === undefined) return [];
  return [...metric.points].sort((a, b) =>
    JSON.stringify(Object.entries(a.attributes).sort()).localeCompare(
      JSON.stringify(Object.entries(b.attributes).sort()),
    ),
  );
}

export interface Traces {
  readonly tracerProvider: BasicTracerProvider;
  readonly exporter: InMemorySpanExporter;
  /** every span ended so far */
  spans(): ReadableSpan[];
  shutdown(): Promise<void>;
}

/**
 * A real sdk-trace-base provider exporting to memory, and the async-hooks context manager set as
 * the global one (so a span made active stays active across `await`s).
 */
export function tracesHarness(): Traces {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  return {
    tracerProvider,
    exporter,
    spans: () => exporter.getFinishedSpans(),
    async shutdown() {
      await tracerProvider.shutdown();
      context.disable();
      trace.disable();
    },
  };
}
