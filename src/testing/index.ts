export { FakeClock } from './fake-clock';
export { RecordingLogger, type LogEntry } from './recording-logger';
