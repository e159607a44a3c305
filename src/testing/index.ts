export { FakeClock } from './fake-clock';
export { RecordingLogger, type LogEntry } from './recording-logger';
export {
  describeIdempotencyStoreConformance,
  idempotencyStoreConformanceChecks,
  runIdempotencyStoreConformance,
  type ConformanceTestFramework,
  type IdempotencyStoreConformanceCheck,
  type IdempotencyStoreConformanceClock,
  type IdempotencyStoreConformanceOptions,
  type IdempotencyStoreConformanceReport,
  type IdempotencyStoreConformanceSettings,
} from './idempotency-store-conformance';
