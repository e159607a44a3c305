import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { CircuitBreakerHealthIndicator, type CircuitHealthResult } from 'steadfast/nestjs';

/**
 * Breaker states for a readiness probe. With @nestjs/terminus installed, the same indicator goes
 * into a HealthCheckService: `this.health.check([() => this.circuits.isHealthy('circuits')])`.
 */
@Controller('health')
export class HealthController {
  constructor(private readonly circuits: CircuitBreakerHealthIndicator) {}

  @Get()
  async check(): Promise<CircuitHealthResult> {
    const result = await this.circuits.isHealthy('circuits');
    if (result.circuits?.status === 'down') throw new ServiceUnavailableException(result);
    return result;
  }
}
