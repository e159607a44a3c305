import type { OperationControl, Scenario } from '../harness/types';
import {
  bareRejection,
  cockatielBreaker,
  cockatielWrap,
  opossumFire,
  opossumNoTimeout,
  steadfastAllThree,
  steadfastBreaker,
} from '../variants';

const breaker = steadfastBreaker();
const allThree = steadfastAllThree();

/** Fails calls until one is refused without the operation running: the breaker is open. */
async function openBreaker(call: () => Promise<unknown>, control: OperationControl): Promise<void> {
  control.setFailing(true);
  try {
    for (let attempt = 0; attempt < 100; attempt++) {
      const before = control.calls;
      try {
        await call();
      } catch {
        // expected: the operation fails, then the breaker refuses
      }
      if (control.calls === before) return;
    }
    throw new Error('the breaker did not open after 100 failing calls');
  } finally {
    control.setFailing(false);
  }
}

export const openBreakerRejection: Scenario = {
  id: 'open-breaker',
  title: 'Rejection by an open breaker',
  description:
    "Each breaker is opened first by failing calls; then every call is refused at once with the library's open-circuit error and the operation never runs. " +
    "Retries stop at the refusal (steadfast by design; cockatiel's retry is told not to handle its own open-circuit error). " +
    'The baseline awaits an async function that throws a prebuilt error.',
  kind: 'sequential',
  operation: 'switchable',
  outcome: 'reject',
  attemptsPerCall: 0,
  prepare: openBreaker,
  variants: [
    bareRejection,
    breaker,
    allThree,
    cockatielBreaker(),
    cockatielWrap(),
    opossumFire,
    opossumNoTimeout,
  ],
  ratiosTo: [bareRejection.name],
  countTimers: true,
  targets: [
    {
      label: '@CircuitBreaker open: at most 2 µs per rejected call',
      variant: breaker.name,
      metric: 'ns',
      max: 2000,
    },
    {
      label: 'all three decorators, breaker open: at most 2 µs per rejected call',
      variant: allThree.name,
      metric: 'ns',
      max: 2000,
    },
  ],
};
