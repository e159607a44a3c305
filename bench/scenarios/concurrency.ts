import type { Scenario } from '../harness/types';
import {
  bare,
  cockatielBreaker,
  cockatielWrap,
  handWrittenRetry,
  opossumFire,
  opossumNoTimeout,
  steadfastAllThree,
  steadfastBreaker,
} from '../variants';

const breaker = steadfastBreaker();
const allThree = steadfastAllThree();

export const concurrency: Scenario = {
  id: 'concurrency',
  title: 'Calls in flight at once through one closed breaker',
  description:
    'Waves of calls started together on one instance (one breaker), each waiting on a gate that opens once the whole wave is in flight; ns per call covers start, release and settle. ' +
    "Heap per in-flight call is measured after a full GC with the whole wave pending; the extra is beyond the bare call's own promise and frame. For scale, the issue quotes cockatiel wrap at 2.3 KB extra.",
  kind: 'concurrent',
  operation: 'gated',
  outcome: 'resolve',
  attemptsPerCall: 1,
  variants: [
    bare,
    handWrittenRetry,
    breaker,
    allThree,
    cockatielBreaker(),
    cockatielWrap(),
    opossumFire,
    opossumNoTimeout,
  ],
  ratiosTo: [bare.name],
  targets: [
    {
      label: '@CircuitBreaker, calls in flight: at most 5× bare per call',
      variant: breaker.name,
      metric: `ratio:${bare.name}`,
      max: 5,
    },
    {
      label: '@CircuitBreaker: at most 600 bytes extra heap per in-flight call',
      variant: breaker.name,
      metric: 'extraBytesInFlight',
      max: 600,
    },
    {
      label: 'all three decorators, calls in flight: at most 5× bare per call',
      variant: allThree.name,
      metric: `ratio:${bare.name}`,
      max: 5,
    },
    {
      label: 'all three decorators: at most 600 bytes extra heap per in-flight call',
      variant: allThree.name,
      metric: 'extraBytesInFlight',
      max: 600,
    },
  ],
};
