// steadfast/opentelemetry: the engine's events reported as OpenTelemetry metrics and span events.
// Only this entry point loads @opentelemetry/api.
export { instrument, type InstrumentOptions } from './instrument';
