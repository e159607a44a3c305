import { retryStorm } from './retry-storm';
import type { Simulation } from './simulation';
import { tailLatency } from './tail-latency';

/** The simulations `npm run bench` runs after its scenarios: behaviour, on a FakeClock. */
export const simulations: readonly Simulation[] = [retryStorm, tailLatency];
