import { configure, defaultEngine, type EngineEventName, type EngineEvents } from '../../src';
import { FakeClock, RecordingLogger } from '../../src/testing';

declare const STEADFAST_DECORATOR_MODE: 'legacy' | 'standard';

/** Which decorator mode this run of the suite compiles with (jest runs every file in both). */
export const decoratorMode: 'legacy' | 'standard' = STEADFAST_DECORATOR_MODE;

export interface Harness {
  readonly clock: FakeClock;
  readonly logger: RecordingLogger;
  /** Sets the values `random()` returns next, in order; 0.5 once they run out. */
  randomValues(...values: number[]): void;
  /** Every event of one kind emitted since the harness was set up. */
  events<E extends EngineEventName>(name: E): EngineEvents[E][];
}

/** Points defaultEngine at a FakeClock, a RecordingLogger and a scripted random source. */
export function useHarness(): Harness {
  const clock = new FakeClock(1_000_000);
  const logger = new RecordingLogger();
  const queued: number[] = [];
  configure({ clock, logger, random: () => queued.shift() ?? 0.5, defaults: {} });
  const seen: Partial<Record<EngineEventName, unknown[]>> = {};
  const names: EngineEventName[] = [
    'retry',
    'success',
    'failure',
    'stateChange',
    'rejected',
    'deduplicated',
    'timeout',
    'fallback',
    'bulkheadRejected',
    'hedge',
  ];
  const unsubscribe = names.map((name) =>
    defaultEngine.on(name, (event: unknown) => void (seen[name] ??= []).push(event)),
  );
  harnessCleanups.push(() => unsubscribe.forEach((off) => off()));
  return {
    clock,
    logger,
    randomValues: (...values) => void queued.push(...values),
    events: <E extends EngineEventName>(name: E) => (seen[name] ?? []) as EngineEvents[E][],
  };
}

const harnessCleanups: (() => void)[] = [];
afterEach(() => {
  while (harnessCleanups.length > 0) harnessCleanups.pop()?.();
});
