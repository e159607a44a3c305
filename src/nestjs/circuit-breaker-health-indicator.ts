import { Inject, Injectable } from '@nestjs/common';
import { ResilienceEngine } from '../runtime/engine';
import type { CircuitState } from '../runtime/events';

/** Which breakers `isHealthy()` reports, and which states count as down. */
export interface CircuitHealthOptions {
  /** breaker names; default: every class-scoped breaker in use (`engine.breakers()`) */
  readonly circuits?: readonly string[];
  /** states that make the indicator down; default `['open', 'isolated']` */
  readonly downWhen?: readonly CircuitState[];
}

/** The shape of `@nestjs/terminus`'s `HealthIndicatorResult`, with each breaker's state. */
export type CircuitHealthResult = Record<
  string,
  { status: 'up' | 'down'; circuits: Record<string, CircuitState> }
>;

/**
 * Breaker states as a health indicator for `@nestjs/terminus` (which steadfast does not import: the
 * result has terminus's shape, so this class works with or without it):
 *
 * ```ts
 * check() { return this.health.check([() => this.circuits.isHealthy('circuits')]); }
 * ```
 *
 * terminus 11 and 12 (the `HealthIndicatorService` generation) read a resolved result whose status
 * is `down` as a failed check. Report breakers on a readiness probe, not a liveness one: an open breaker
 * means a dependency is down, and restarting this process does not cure that.
 */
export class CircuitBreakerHealthIndicator {
  constructor(private readonly engine: ResilienceEngine) {}

  async isHealthy(
    key = 'circuits',
    options: CircuitHealthOptions = {},
  ): Promise<CircuitHealthResult> {
    const handles =
      options.circuits === undefined
        ? this.engine.breakers()
        : options.circuits.map((name) => this.engine.breaker(name));
    const downWhen = options.downWhen ?? ['open', 'isolated'];
    const circuits: Record<string, CircuitState> = {};
    let status: 'up' | 'down' = 'up';
    for (const handle of handles) {
      const state = handle.state;
      circuits[handle.name] = state;
      if (downWhen.includes(state)) status = 'down';
    }
    return { [key]: { status, circuits } };
  }
}

// steadfast is compiled with standard decorators and Nest's are legacy ones: they are applied by call.
Injectable()(CircuitBreakerHealthIndicator);
Inject(ResilienceEngine)(CircuitBreakerHealthIndicator, undefined, 0);
