import type { Scenario } from '../harness/types';
import {
  asyncRetry,
  ATTEMPTS,
  bare,
  cockatielRetry,
  cockatielWrap,
  handWrittenRetry,
  NEVER_OPENS,
  pRetry,
  steadfastAllThree,
  steadfastRetry,
  typescriptRetryDecorator,
} from '../variants';

const allThree = steadfastAllThree(NEVER_OPENS);

export const failurePath: Scenario = {
  id: 'failure-path',
  title: `Failure path: ${ATTEMPTS} failed attempts, zero delay`,
  description:
    `A logical call whose operation always rejects (a prebuilt error), retried with zero delay until all ${ATTEMPTS} attempts have failed; the call rejects. ` +
    'Breakers count every failure but never open. The bare row is one failed `await` (one attempt). ' +
    'Timers are counted per logical call: a zero delay needs none.',
  kind: 'sequential',
  operation: 'fail',
  outcome: 'reject',
  attemptsPerCall: ATTEMPTS,
  attemptsOf: { [bare.name]: 1 },
  variants: [
    bare,
    handWrittenRetry,
    steadfastRetry,
    allThree,
    cockatielRetry,
    cockatielWrap(NEVER_OPENS),
    typescriptRetryDecorator,
    pRetry,
    asyncRetry,
  ],
  ratiosTo: [bare.name, handWrittenRetry.name],
  countTimers: true,
  targets: [
    {
      label: '@Retryable + @Idempotent: at most 1.5 µs per attempt',
      variant: steadfastRetry.name,
      metric: 'nsPerAttempt',
      max: 1500,
    },
    {
      label: '@Retryable + @Idempotent: no timer at all',
      variant: steadfastRetry.name,
      metric: 'timers',
      max: 0,
    },
    {
      label: 'all three decorators: at most 1.5 µs per attempt',
      variant: allThree.name,
      metric: 'nsPerAttempt',
      max: 1500,
    },
    {
      label: 'all three decorators: no timer at all',
      variant: allThree.name,
      metric: 'timers',
      max: 0,
    },
  ],
};
