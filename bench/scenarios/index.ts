import type { Scenario } from '../harness/types';
import { concurrency } from './concurrency';
import { failurePath } from './failure-path';
import { happyPath } from './happy-path';
import { heapGrowth } from './heap-growth';
import { openBreakerRejection } from './open-breaker';
import { keyedFirstCall, keyedReplay } from './idempotency';
import { stagesHappyPath } from './stages';
import { instrumentedHappyPath } from './instrumented';

/**
 * Every scenario `npm run bench` runs, in this order. A new scenario is a file here and a line below.
 * The stages scenario stays last: it turns on AsyncLocalStorage for the rest of the process.
 */
export const scenarios: readonly Scenario[] = [
  happyPath,
  failurePath,
  openBreakerRejection,
  concurrency,
  heapGrowth,
  keyedFirstCall,
  keyedReplay,
  instrumentedHappyPath,
  stagesHappyPath,
];
