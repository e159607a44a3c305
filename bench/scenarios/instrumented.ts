import type { Scenario } from '../harness/types';
import { bare } from '../variants';
import {
  steadfastOwnEngine,
  steadfastOwnEngineInstrumented,
  steadfastOwnEngineListened,
} from '../variants/steadfast-instrumented';

export const instrumentedHappyPath: Scenario = {
  id: 'instrumented-happy-path',
  title: 'Happy path with OpenTelemetry metrics: instrument() on the real SDK',
  description:
    'The happy path of `steadfast all three`, without and with `instrument()` from steadfast/opentelemetry on a real `@opentelemetry/sdk-metrics` MeterProvider whose reader never exports (no exporter I/O; the reader collects between batches). ' +
    'Instrumented, each call adds one to its `steadfast.calls` count (handed to the SDK counter at each collection) and records its duration in the SDK histogram `steadfast.call.duration`. ' +
    'Each steadfast row has an engine of its own, instrumented (or not) for the whole run. The row with a listener that does nothing shows the part of the cost the engine itself spends once calls are timed; the rest is the SDK’s histogram measurement and steadfast’s listener.',
  kind: 'sequential',
  operation: 'succeed',
  outcome: 'resolve',
  attemptsPerCall: 1,
  variants: [bare, steadfastOwnEngine, steadfastOwnEngineListened, steadfastOwnEngineInstrumented],
  ratiosTo: [bare.name, steadfastOwnEngine.name],
  extraOver: [steadfastOwnEngine.name],
  countTimers: true,
  targets: [
    {
      label: 'instrument(): at most +250 ns per call over the uninstrumented happy path',
      variant: steadfastOwnEngineInstrumented.name,
      metric: `extra:${steadfastOwnEngine.name}`,
      max: 250,
    },
  ],
};
