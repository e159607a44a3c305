export { FakeClock } from './fake-clock';
export { RecordingLogger, type LogEntry } from './recording-logger';
export {
  describeIdempotencyStoreConformance,
  idempotencyStoreConformanceChecks,
  runIdempotencyStoreConformance,
  type IdempotencyStoreConformanceCheck,
  type IdempotencyStoreConformanceClock,
  type IdempotencyStoreConformanceOptions,
  type IdempotencyStoreConformanceReport,
  type IdempotencyStoreConformanceSettings,
} from './idempotency-store-conformance';
export type { ConformanceTestFramework } from './conformance-runner';
export { MemoryFleetStore, type MemoryFleetStoreOptions } from './memory-fleet-store';
export {
  describeSharedBreakerStoreConformance,
  runSharedBreakerStoreConformance,
  sharedBreakerStoreConformanceChecks,
  type SharedBreakerStoreConformanceCheck,
  type SharedBreakerStoreConformanceOptions,
  type SharedBreakerStoreConformanceReport,
  type SharedBreakerStoreConformanceSettings,
} from './shared-breaker-store-conformance';
