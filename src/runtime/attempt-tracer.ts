/**
 * What a tracer (steadfast/opentelemetry's attempt spans) is told of each attempt that runs. Given
 * to `engine.traceAttempts()`; every method is compiled with it from then on.
 */
export interface AttemptTracer {
  /** An attempt of `method` starts (1-based); what this returns is given back to run() and end(). */
  start(method: string, attempt: number): unknown;
  /** Runs the attempt's body inside what start() gave (a span's context, so the body's own spans are its children). */
  run<T>(started: unknown, body: () => T): T;
  /** The attempt ended: `failed`, with `outcome` its error, or not, with it its value. */
  end(started: unknown, failed: boolean, outcome: unknown): void;
}
