import { CircuitBreaker, configure } from '../../src';
import type { RedisStore } from '../../src/redis';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface Stock {
  read(fail: boolean): Promise<string>;
}

/** A service with a fleet breaker `name` (2 consecutive failures open it for a minute) on `store`. */
export function stockOn(store: RedisStore, name: string): Stock {
  configure({ store });
  class Stock {
    @CircuitBreaker({ name, consecutiveFailures: 2, openDuration: 60_000 })
    async read(fail: boolean): Promise<string> {
      if (fail) throw new Error('down');
      return 'ok';
    }
  }
  return new Stock();
}

/**
 * What `stock` rejects with once the fleet's opening reaches it, polling every 20 ms for up to 1 s
 * (the documented bound is 100 ms; a loaded machine needs more); undefined if it never refuses.
 */
export async function refusalReaching(stock: Stock): Promise<unknown> {
  for (let tries = 0; tries < 50; tries++) {
    await pause(20);
    const refused = await stock.read(false).then(
      () => undefined,
      (error: unknown) => error,
    );
    if (refused !== undefined) return refused;
  }
  return undefined;
}

/** The conformance suites' place in the standard project: skipped, saying why. */
export const skipConformance = (name: string): void => {
  it.skip(`${name} (in the legacy project only: the store contract has no decorators)`, () =>
    undefined);
};
