import type { Scenario } from '../harness/types';
import {
  bare,
  cockatielWrap,
  handWrittenRetry,
  opossumFire,
  steadfastAllThree,
  steadfastBreaker,
  steadfastRetry,
} from '../variants';

const breaker = steadfastBreaker();
const allThree = steadfastAllThree();
const ONE_MB = 1_000_000;

export const heapGrowth: Scenario = {
  id: 'heap-growth',
  title: 'Heap growth over many calls',
  description:
    'Heap in use after a full GC, before and after a long run of successful calls (after a warm-up run, so that compiled code and lazily built state are already there): what stays behind is what calls leak.',
  kind: 'heap',
  operation: 'succeed',
  outcome: 'resolve',
  attemptsPerCall: 1,
  variants: [
    bare,
    handWrittenRetry,
    steadfastRetry,
    breaker,
    allThree,
    cockatielWrap(),
    opossumFire,
  ],
  ratiosTo: [],
  targets: [
    {
      label: 'all three decorators: heap growth under 1 MB',
      variant: allThree.name,
      metric: 'heapGrowth',
      max: ONE_MB,
    },
    {
      label: '@Retryable + @Idempotent: heap growth under 1 MB',
      variant: steadfastRetry.name,
      metric: 'heapGrowth',
      max: ONE_MB,
    },
    {
      label: '@CircuitBreaker: heap growth under 1 MB',
      variant: breaker.name,
      metric: 'heapGrowth',
      max: ONE_MB,
    },
  ],
};
