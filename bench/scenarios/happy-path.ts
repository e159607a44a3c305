import type { Scenario } from '../harness/types';
import {
  asyncRetry,
  bare,
  cockatielBreaker,
  cockatielRetry,
  cockatielWrap,
  handWrittenRetry,
  opossumFire,
  opossumNoTimeout,
  pRetry,
  steadfastAllThree,
  steadfastBreaker,
  steadfastIdempotent,
  steadfastRetry,
  typescriptRetryDecorator,
} from '../variants';

const breaker = steadfastBreaker();
const allThree = steadfastAllThree();
const cockatielCircuit = cockatielBreaker();
const cockatielWrapped = cockatielWrap();
const versusFloor = `ratio:${handWrittenRetry.name}` as const;

export const happyPath: Scenario = {
  id: 'happy-path',
  title: 'Happy path: a call that succeeds at once',
  description:
    'What the resilience layer costs on every successful call: `await` of a decorated method (or a wrapped function) whose body resolves at once. ' +
    'The hand-written retry decorator is the floor a decorator can reach; steadfast is held to it.',
  kind: 'sequential',
  operation: 'succeed',
  outcome: 'resolve',
  attemptsPerCall: 1,
  variants: [
    bare,
    handWrittenRetry,
    steadfastIdempotent,
    steadfastRetry,
    breaker,
    allThree,
    cockatielRetry,
    cockatielCircuit,
    cockatielWrapped,
    opossumFire,
    opossumNoTimeout,
    typescriptRetryDecorator,
    pRetry,
    asyncRetry,
  ],
  ratiosTo: [bare.name, handWrittenRetry.name],
  countTimers: true,
  references: {
    [bare.name]: 1,
    [handWrittenRetry.name]: 3.0,
    [cockatielRetry.name]: 4.3,
    [cockatielCircuit.name]: 4.3,
    [cockatielWrapped.name]: 12.5,
    [opossumFire.name]: 29,
    [opossumNoTimeout.name]: 16,
    [typescriptRetryDecorator.name]: 129,
    [pRetry.name]: 250,
  },
  targets: [
    {
      label: 'all three decorators: at most 1.0× the hand-written retry decorator',
      variant: allThree.name,
      metric: versusFloor,
      max: 1.0,
    },
    {
      label: '@Retryable + @Idempotent: at most 1.1× the hand-written retry decorator',
      variant: steadfastRetry.name,
      metric: versusFloor,
      max: 1.1,
    },
    {
      label: '@CircuitBreaker alone: at most 1.1× the hand-written retry decorator',
      variant: breaker.name,
      metric: versusFloor,
      max: 1.1,
    },
    {
      label: '@Idempotent alone: at most 1.1× the hand-written retry decorator',
      variant: steadfastIdempotent.name,
      metric: versusFloor,
      max: 1.1,
    },
  ],
};
