// What the README's blocks use of @nestjs/terminus (not installed here), with the signatures of
// terminus 11 (lib/health-check/health-check.service.ts, lib/health-indicator/health-indicator.ts).
export type HealthIndicatorStatus = 'up' | 'down';

export type HealthIndicatorResult = {
  [key: string]: { status: HealthIndicatorStatus; [optionalKeys: string]: any };
};

export type HealthIndicatorFunction = () =>
  PromiseLike<HealthIndicatorResult> | HealthIndicatorResult;

export interface HealthCheckResult {
  status: 'error' | 'ok' | 'shutting_down';
  info?: HealthIndicatorResult;
  error?: HealthIndicatorResult;
  details: HealthIndicatorResult;
}

export declare class HealthCheckService {
  check(healthIndicators: HealthIndicatorFunction[]): Promise<HealthCheckResult>;
}

export interface HealthCheckOptions {
  noCache?: boolean;
  swaggerDocumentation?: boolean;
}

export declare const HealthCheck: (
  options?: HealthCheckOptions,
) => (target: any, key: any, descriptor: PropertyDescriptor) => void;
