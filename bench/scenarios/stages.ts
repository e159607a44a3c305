import type { Scenario } from '../harness/types';
import {
  bare,
  cockatielBulkhead,
  cockatielFallback,
  cockatielTimeout,
  cockatielWrapAll,
  handWrittenRetry,
  steadfastAllSix,
  steadfastAllThree,
  steadfastBulkhead,
  steadfastFallback,
  steadfastRetryTimeout,
  steadfastTimeout,
} from '../variants';

const allThree = steadfastAllThree();
const versusFloor = `ratio:${handWrittenRetry.name}` as const;

/**
 * Runs last: a @Timeout method's first attempt starts Node's AsyncLocalStorage (for attemptSignal()),
 * and on Node 20 every promise of the process costs more from then on, the bare call's too. The
 * scenarios before this one run without it; this one's bare row shows the difference.
 */
export const stagesHappyPath: Scenario = {
  id: 'stages-happy-path',
  title: 'Happy path with timeouts, bulkheads and fallbacks',
  description:
    'The same call that succeeds at once, through the newer stages: a deadline that never fires, a bulkhead that never queues, a fallback that never answers. ' +
    "Run after every other scenario, since a @Timeout method turns on AsyncLocalStorage for the rest of the process (on Node 20 it makes every promise dearer, the bare call included: compare this bare row with the happy path's). " +
    "Timers per call show that steadfast's deadlines share one timer per duration, where cockatiel starts one per call.",
  kind: 'sequential',
  operation: 'succeed',
  outcome: 'resolve',
  attemptsPerCall: 1,
  variants: [
    bare,
    handWrittenRetry,
    allThree,
    steadfastTimeout,
    steadfastRetryTimeout,
    steadfastBulkhead,
    steadfastFallback,
    steadfastAllSix,
    cockatielTimeout,
    cockatielBulkhead,
    cockatielFallback,
    cockatielWrapAll,
  ],
  ratiosTo: [bare.name, handWrittenRetry.name],
  countTimers: true,
  targets: [
    {
      label: '@Idempotent @Retryable @Timeout: at most 1.5× the hand-written retry decorator',
      variant: steadfastRetryTimeout.name,
      metric: versusFloor,
      max: 1.5,
    },
    {
      label: 'all six decorators: at most 2.0× the hand-written retry decorator',
      variant: steadfastAllSix.name,
      metric: versusFloor,
      max: 2.0,
    },
    {
      label: 'a deadline on the happy path starts no timer per call',
      variant: steadfastRetryTimeout.name,
      metric: 'timers',
      max: 0.01,
    },
  ],
};
