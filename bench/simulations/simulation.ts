/** A measurement of behaviour rather than speed, run on a FakeClock: the same figures every run. */
export interface Simulation {
  readonly id: string;
  readonly title: string;
  /** what is simulated and how, in Markdown */
  readonly description: string;
  /** `scale` shrinks the simulated work (1 for `npm run bench`, less for the smoke run) */
  run(scale: number): Promise<SimulationResult>;
}

export interface SimulationResult {
  /** a Markdown table of the figures */
  readonly table: string;
  readonly targets: readonly SimulationTarget[];
}

export interface SimulationTarget {
  readonly label: string;
  readonly value: number;
  /** the value must be at most this (or at least `min`) */
  readonly max?: number;
  readonly min?: number;
  readonly unit?: string;
}

export function targetMet(target: SimulationTarget): boolean {
  return (
    (target.max === undefined || target.value <= target.max) &&
    (target.min === undefined || target.value >= target.min)
  );
}
