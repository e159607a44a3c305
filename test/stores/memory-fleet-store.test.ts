import { CircuitBreaker, CircuitOpenError, configure, defaultEngine, MemoryStore } from '../../src';
import type { SharedBreakerStore } from '../../src';
import { ASK_ASYNC, REFUSED, type Breaker } from '../../src/runtime/breaker/breaker';
import { resolveBreakerSettings } from '../../src/runtime/breaker/breaker-options';
import type { CircuitBreakerOptions } from '../../src/runtime/breaker/breaker-options';
import { exchangedBreaker } from '../../src/stores/exchanged-breakers';
import { MemoryFleetStore } from '../../src/testing';
import { deferred } from '../support/deferred';
import { decoratorMode, useHarness, type Harness } from '../support/harness';

// A fleet in one process: this process's decorated class is one member (the default engine, on a
// MemoryFleetStore or a store of the test's own), and a breaker made over another view of the same
// store is a second member, with a reporter of its own. Batches go on real (unref'd) timers, 25 ms
// for failures and 500 ms for successes; time in the breakers is the harness's FakeClock.

const silent = { enabled: false, warn: () => undefined, error: () => undefined };

/** Waits in real time (polling) until `condition` holds; fails after `ms`. */
async function until(condition: () => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Another view of `store`: another process, as far as the store can tell. */
function viewOf(
  store: SharedBreakerStore,
  options: { watch?: boolean } = {},
): SharedBreakerStore & { exchanges: number } {
  const view = {
    exchanges: 0,
    exchangeBreakers: (
      reporter: string,
      requests: Parameters<SharedBreakerStore['exchangeBreakers']>[1],
    ) => {
      view.exchanges++;
      return store.exchangeBreakers(reporter, requests);
    },
  };
  if (options.watch === false) return view;
  return Object.assign(view, {
    watchBreakers: (listener: Parameters<NonNullable<SharedBreakerStore['watchBreakers']>>[0]) =>
      (store.watchBreakers as NonNullable<SharedBreakerStore['watchBreakers']>)(listener),
  });
}

/** The other member's breaker `name`, made as an engine makes one. */
function memberBreaker(
  store: SharedBreakerStore,
  name: string,
  options: CircuitBreakerOptions,
  harness: Harness,
): Breaker {
  const settings = resolveBreakerSettings(options, undefined);
  return exchangedBreaker(
    store,
    name,
    settings,
    () => harness.clock.now(),
    { stateChanged: () => undefined },
    silent,
  );
}

/** One call through the other member's breaker: 'refused', or the body's outcome recorded. */
async function call(breaker: Breaker, outcome: 'ok' | 'fail'): Promise<'ran' | 'refused'> {
  let permit = breaker.tryAcquire();
  if (permit === ASK_ASYNC) permit = await breaker.acquireAsync();
  if (permit === REFUSED) return 'refused';
  if (outcome === 'ok') breaker.succeeded(permit, 'ok', 1);
  else breaker.failed(permit, new Error('down'), 1);
  return 'ran';
}

describe(`a fleet on a MemoryFleetStore or a SharedBreakerStore of one's own (${decoratorMode} decorators)`, () => {
  afterEach(() => {
    configure({ store: new MemoryStore() });
  });

  function service(name: string, options: Omit<CircuitBreakerOptions, 'name'>) {
    class Service {
      runs = 0;
      gate: Promise<void> | undefined;
      @CircuitBreaker({ name, ...options })
      async call(fail: boolean): Promise<string> {
        this.runs++;
        await this.gate;
        if (fail) throw new Error('down');
        return 'ok';
      }
    }
    return new Service();
  }

  it("refuses the other member's calls once this one's failures opened the breaker, and reports why", async () => {
    const harness = useHarness();
    const store = new MemoryFleetStore({ clock: harness.clock });
    configure({ store });
    const name = `fleet-open-${decoratorMode}`;
    const options = { consecutiveFailures: 2, openDuration: 10_000 };
    const here = service(name, options);
    const other = memberBreaker(viewOf(store), name, options, harness);
    expect(await call(other, 'ok')).toBe('ran');

    await expect(here.call(true)).rejects.toThrow('down');
    await expect(here.call(true)).rejects.toThrow('down');
    // The failures reach the store in a batch; the opening reaches the other member by its watch.
    await until(() => other.state === 'open');
    expect(await call(other, 'ok')).toBe('refused');
    await expect(here.call(false)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(here.runs).toBe(2);
    const opened = harness.events('stateChange').find((event) => event.to === 'open');
    expect(opened?.reason).toMatch(/2 consecutive failures \(fleet\)/);
  });

  it('admits halfOpenMaxCalls trial calls across the members, not per member', async () => {
    const harness = useHarness();
    const store = new MemoryFleetStore({ clock: harness.clock });
    configure({ store });
    const name = `fleet-half-open-${decoratorMode}`;
    const options = { consecutiveFailures: 1, openDuration: 1_000, halfOpenMaxCalls: 1 };
    const here = service(name, options);
    const other = memberBreaker(viewOf(store), name, options, harness);
    expect(await call(other, 'ok')).toBe('ran');
    await expect(here.call(true)).rejects.toThrow('down');
    await until(() => other.state === 'open');

    await harness.clock.advance(1_000);
    const trialGate = deferred<void>();
    here.gate = trialGate.promise;
    const trial = here.call(false);
    await until(() => here.runs === 2);
    // This member holds the fleet's one trial permit: the other is refused while it runs.
    expect(await call(other, 'ok')).toBe('refused');
    trialGate.resolve();
    await expect(trial).resolves.toBe('ok');
    await until(() => other.state === 'closed');
    expect(await call(other, 'ok')).toBe('ran');
  });

  it('without watchBreakers, lets a member learn of an opening in its next exchange', async () => {
    const harness = useHarness();
    const store = new MemoryFleetStore({ clock: harness.clock });
    configure({ store });
    const name = `fleet-unwatched-${decoratorMode}`;
    const options = { consecutiveFailures: 1, openDuration: 60_000 };
    const here = service(name, options);
    const unwatched = viewOf(store, { watch: false });
    const other = memberBreaker(unwatched, name, options, harness);
    expect(await call(other, 'ok')).toBe('ran');
    await until(() => unwatched.exchanges >= 2); // the read, then the batch with its success

    await expect(here.call(true)).rejects.toThrow('down');
    await until(() => defaultEngine.breaker(name).state === 'open');
    expect(other.state).toBe('closed');
    // Its next outcome goes in a batch (a success: within 500 ms), whose reply is the fleet's state.
    expect(await call(other, 'ok')).toBe('ran');
    await until(() => other.state === 'open');
    expect(await call(other, 'ok')).toBe('refused');
  });

  it('lets a refusing member that missed a reset read the fleet again within a second of the opening, and run again', async () => {
    const harness = useHarness();
    const store = new MemoryFleetStore({ clock: harness.clock });
    configure({ store });
    const name = `fleet-missed-reset-${decoratorMode}`;
    const options = { consecutiveFailures: 1, openDuration: 60_000 };
    const here = service(name, options);
    // No watch: the reset's message never reaches it, as when its subscriber was reconnecting.
    const unwatched = viewOf(store, { watch: false });
    const other = memberBreaker(unwatched, name, options, harness);
    expect(await call(other, 'fail')).toBe('ran');
    await until(() => other.state === 'open');
    defaultEngine.breaker(name).reset();
    await until(() => defaultEngine.breaker(name).state === 'closed');
    await expect(here.call(false)).resolves.toBe('ok');

    // Within the first second of its opening it refuses without asking the store.
    const before = unwatched.exchanges;
    await harness.clock.advance(999);
    expect(await call(other, 'ok')).toBe('refused');
    expect(unwatched.exchanges).toBe(before);
    // From a second on, a refused call reads the fleet's state: closed, so the next call runs.
    await harness.clock.advance(1);
    expect(await call(other, 'ok')).toBe('refused');
    await until(() => other.state === 'closed');
    expect(unwatched.exchanges).toBe(before + 1);
    expect(await call(other, 'ok')).toBe('ran');
  });

  it('carries on with local state while the store fails, warns once, and follows the fleet again once it answers', async () => {
    const harness = useHarness();
    const fleet = new MemoryFleetStore({ clock: harness.clock });
    let down = false;
    const flaky = Object.assign(new MemoryStore(), {
      exchangeBreakers: (
        reporter: string,
        requests: Parameters<SharedBreakerStore['exchangeBreakers']>[1],
      ) =>
        down
          ? Promise.reject(new Error('connection refused'))
          : fleet.exchangeBreakers(reporter, requests),
    });
    configure({ store: flaky });
    const name = `fleet-flaky-${decoratorMode}`;
    const here = service(name, { consecutiveFailures: 3, openDuration: 60_000 });
    await expect(here.call(false)).resolves.toBe('ok');

    down = true;
    await expect(here.call(true)).rejects.toThrow('down');
    await until(() =>
      harness.logger.entries.some((entry) => /the shared store failed/.test(entry.message)),
    );
    // Local state: calls go on, and two more failures open the breaker here (3 in a row).
    await expect(here.call(true)).rejects.toThrow('down');
    await expect(here.call(true)).rejects.toThrow('down');
    await expect(here.call(false)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(
      harness.logger.entries.filter((entry) => /the shared store failed/.test(entry.message)),
    ).toHaveLength(1);

    down = false;
    // The fleet never opened: once the store answers (a resync a second after the failure), the
    // member follows the fleet's closed state.
    await harness.clock.advance(1_000);
    await expect(here.call(false)).rejects.toBeInstanceOf(CircuitOpenError);
    await until(() => defaultEngine.breaker(name).state === 'closed');
    await expect(here.call(false)).resolves.toBe('ok');
    expect(
      harness.logger.entries.some((entry) => /the shared store answers again/.test(entry.message)),
    ).toBe(true);
  });

  it('takes a reply that does not fit the contract for the store failing, and says what was wrong', async () => {
    const harness = useHarness();
    const wrong = Object.assign(new MemoryStore(), {
      exchangeBreakers: async () => ({ replies: [], at: harness.clock.now() }),
    });
    configure({ store: wrong });
    const here = service(`fleet-wrong-${decoratorMode}`, { consecutiveFailures: 1 });
    await expect(here.call(false)).resolves.toBe('ok');
    const warning = harness.logger.entries.find((entry) =>
      /the shared store failed/.test(entry.message),
    );
    expect(warning?.message).toMatch(/answered 0 replies to 1 requests/);
    await expect(here.call(true)).rejects.toThrow('down');
    await expect(here.call(false)).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('gives up on a store that never answers after a second: the call runs on local state', async () => {
    const harness = useHarness();
    const silentStore = Object.assign(new MemoryStore(), {
      exchangeBreakers: () => new Promise<never>(() => undefined),
    });
    configure({ store: silentStore });
    const here = service(`fleet-silent-${decoratorMode}`, { consecutiveFailures: 1 });
    const started = Date.now();
    await expect(here.call(false)).resolves.toBe('ok');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(5_000);
    const warning = harness.logger.entries.find((entry) =>
      /the shared store failed/.test(entry.message),
    );
    expect(warning?.message).toMatch(/did not answer within 1000 ms/);
  });

  it('carries on without the watch when watchBreakers() throws, and ignores a change that does not fit the contract', async () => {
    const harness = useHarness();
    const fleet = new MemoryFleetStore({ clock: harness.clock });
    const exchangeBreakers: SharedBreakerStore['exchangeBreakers'] = (reporter, requests) =>
      fleet.exchangeBreakers(reporter, requests);
    const throwing = Object.assign(new MemoryStore(), {
      exchangeBreakers,
      watchBreakers: () => {
        throw new Error('no pub/sub here');
      },
    });
    configure({ store: throwing });
    const name = `fleet-bad-watch-${decoratorMode}`;
    const first = service(name, { consecutiveFailures: 1 });
    await expect(first.call(false)).resolves.toBe('ok');
    expect(
      harness.logger.entries.find((entry) => /watchBreakers\(\) failed/.test(entry.message))
        ?.message,
    ).toMatch(/no pub\/sub here/);

    // A watch that reports garbage: the breaker keeps the state the store decided.
    let tell: (change: unknown) => void = () => undefined;
    const garbling = Object.assign(new MemoryStore(), {
      exchangeBreakers,
      watchBreakers: (listener: (change: unknown) => void) => {
        tell = listener;
        return { ready: Promise.resolve(), close: () => undefined };
      },
    });
    configure({ store: garbling });
    const other = `fleet-garbled-${decoratorMode}`;
    const second = service(other, { consecutiveFailures: 1 });
    await expect(second.call(false)).resolves.toBe('ok');
    tell({
      name: other,
      state: 'exploded',
      epoch: 9,
      since: 0,
      openUntil: 0,
      openings: 1,
      reason: '',
    });
    tell({
      name: other,
      state: 'open',
      epoch: 'nine',
      since: 0,
      openUntil: 0,
      openings: 1,
      reason: '',
    });
    tell(undefined);
    expect(defaultEngine.breaker(other).state).toBe('closed');
    await expect(second.call(false)).resolves.toBe('ok');
  });

  it('keeps per-instance breakers in the process: they send the store nothing', async () => {
    const harness = useHarness();
    const fleet = new MemoryFleetStore({ clock: harness.clock });
    const counted = Object.assign(new MemoryStore(), viewOf(fleet));
    configure({ store: counted });
    const here = service(`fleet-instance-${decoratorMode}`, {
      consecutiveFailures: 1,
      scope: 'instance',
    });
    await expect(here.call(true)).rejects.toThrow('down');
    await expect(here.call(false)).rejects.toBeInstanceOf(CircuitOpenError);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(counted.exchanges).toBe(0);
  });

  it('refuses a store that shares breakers but holds no idempotency records, saying what it lacks', () => {
    const fleet = new MemoryFleetStore();
    const breakersOnly = { exchangeBreakers: fleet.exchangeBreakers.bind(fleet) };
    expect(() => configure({ store: breakersOnly as never })).toThrow(
      /store.*claim\(\), complete\(\), release\(\) and read\(\)/,
    );
  });

  it('refuses a MemoryFleetStore option it does not know, or a clock without now(), naming it', () => {
    expect(() => new MemoryFleetStore({ clok: 1 } as never)).toThrow(/clok/);
    expect(() => new MemoryFleetStore({ clock: {} as never })).toThrow(/clock/);
    expect(() => new MemoryFleetStore({ maxEntries: 0 })).toThrow(/maxEntries/);
  });
});
