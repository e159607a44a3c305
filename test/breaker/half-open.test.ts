import { CircuitBreaker, ConfigError, type CircuitBreakerOptions } from '../../src';
import { decoratorMode, useHarness, type Harness } from '../support/harness';
import {
  breakerNamed,
  deferred,
  DownstreamError,
  refusalOf,
  rejectionOf,
  settle,
  uniqueCircuit,
  type Deferred,
} from './support';

/** A service whose body waits on whatever gate the caller passes, so trials stay in flight. */
function gatedService(options: CircuitBreakerOptions) {
  let runs = 0;
  class Warehouse {
    @CircuitBreaker(options)
    async ship(gate: Promise<string>): Promise<string> {
      runs++;
      return gate;
    }
  }
  return { warehouse: new Warehouse(), runs: () => runs };
}

const failed = (): Promise<string> => Promise.reject(new DownstreamError('down'));
const transitions = (h: Harness): string[] =>
  h.events('stateChange').map(({ from, to }) => `${from}->${to}`);

describe(`@CircuitBreaker half-open (${decoratorMode} decorators)`, () => {
  it('decides on half-open at the next call after openDuration, with no timer of its own', async () => {
    const h = useHarness();
    const name = uniqueCircuit('half-open-lazy');
    const { warehouse, runs } = gatedService({ name, consecutiveFailures: 1, openDuration: 1_000 });
    await rejectionOf(warehouse.ship(failed()));

    await h.clock.advance(999);
    expect((await refusalOf(warehouse.ship(Promise.resolve('early')))).retryAfter).toBe(1);

    await h.clock.advance(60_000);
    // Long past openDuration, but nothing has asked: no transition has happened on its own.
    expect(transitions(h)).toEqual(['closed->open']);
    expect(h.clock.pending).toBe(0);

    await expect(warehouse.ship(Promise.resolve('trial'))).resolves.toBe('trial');
    expect(transitions(h)).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
    expect(h.events('stateChange')[1]).toEqual({
      circuit: name,
      from: 'open',
      to: 'half-open',
      reason: 'openDuration elapsed',
    });
    expect(runs()).toBe(2);
  });

  it('runs exactly halfOpenMaxCalls trial bodies and refuses the rest as half-open', async () => {
    const h = useHarness();
    const name = uniqueCircuit('half-open-trials');
    const { warehouse, runs } = gatedService({
      name,
      consecutiveFailures: 1,
      openDuration: 1_000,
      halfOpenMaxCalls: 3,
    });
    await rejectionOf(warehouse.ship(failed()));
    await h.clock.advance(1_000);

    const gates: Deferred<string>[] = [deferred(), deferred(), deferred()];
    const trials = gates.map((gate) => settle(warehouse.ship(gate.promise)));
    const extra = await refusalOf(warehouse.ship(Promise.resolve('extra')));

    expect(runs()).toBe(1 + 3);
    expect(extra.state).toBe('half-open');
    expect(extra.circuit).toBe(name);
    expect(extra.retryAfter).toBe(0);
    expect(breakerNamed(name).metrics()).toMatchObject({
      state: 'half-open',
      trialCalls: 3,
      rejected: 1,
    });

    gates[0]?.resolve('one');
    gates[1]?.resolve('two');
    await h.clock.flush();
    // Two trials succeeded; the third is still running, so the breaker has not decided yet.
    expect(breakerNamed(name).metrics()).toMatchObject({ state: 'half-open', trialCalls: 1 });
    await refusalOf(warehouse.ship(Promise.resolve('still extra')));

    gates[2]?.resolve('three');
    expect(await Promise.all(trials)).toEqual([
      { ok: true, value: 'one' },
      { ok: true, value: 'two' },
      { ok: true, value: 'three' },
    ]);
    expect(breakerNamed(name).state).toBe('closed');
    expect(h.events('stateChange').at(-1)).toEqual({
      circuit: name,
      from: 'half-open',
      to: 'closed',
      reason: 'all trial calls succeeded',
    });
    await expect(warehouse.ship(Promise.resolve('after'))).resolves.toBe('after');
  });

  it('admits trial calls one after another until halfOpenMaxCalls have succeeded', async () => {
    const h = useHarness();
    const name = uniqueCircuit('half-open-sequential');
    const { warehouse, runs } = gatedService({
      name,
      consecutiveFailures: 1,
      openDuration: 1_000,
      halfOpenMaxCalls: 2,
    });
    await rejectionOf(warehouse.ship(failed()));
    await h.clock.advance(1_000);

    await expect(warehouse.ship(Promise.resolve('first trial'))).resolves.toBe('first trial');
    expect(breakerNamed(name).state).toBe('half-open');
    await expect(warehouse.ship(Promise.resolve('second trial'))).resolves.toBe('second trial');
    expect(breakerNamed(name).state).toBe('closed');
    expect(runs()).toBe(3);
  });

  it('reopens as soon as one trial fails, whatever the other trials do afterwards', async () => {
    const h = useHarness();
    const name = uniqueCircuit('half-open-reopen');
    const { warehouse, runs } = gatedService({
      name,
      consecutiveFailures: 1,
      openDuration: 1_000,
      halfOpenMaxCalls: 3,
    });
    await rejectionOf(warehouse.ship(failed()));
    await h.clock.advance(1_000);

    const gates: Deferred<string>[] = [deferred(), deferred(), deferred()];
    const trials = gates.map((gate) => settle(warehouse.ship(gate.promise)));
    gates[0]?.resolve('fine');
    gates[1]?.reject(new DownstreamError('still down'));
    await h.clock.flush();
    expect(breakerNamed(name).state).toBe('open');
    expect(h.events('stateChange').at(-1)).toEqual({
      circuit: name,
      from: 'half-open',
      to: 'open',
      reason: 'a trial call failed',
    });

    // The last trial succeeding late does not close the reopened breaker.
    gates[2]?.resolve('late');
    await Promise.all(trials);
    expect(breakerNamed(name).state).toBe('open');
    const refusal = await refusalOf(warehouse.ship(Promise.resolve('refused')));
    expect(refusal.state).toBe('open');
    expect(refusal.retryAfter).toBe(1_000);
    expect(runs()).toBe(4);
  });

  it('reopens when a trial call is slow, though it succeeded', async () => {
    const h = useHarness();
    const name = uniqueCircuit('half-open-slow');
    let runs = 0;
    class Printer {
      @CircuitBreaker({
        name,
        consecutiveFailures: 1,
        openDuration: 1_000,
        slowCall: { duration: 200, rateThreshold: 1 },
      })
      async print(ms: number): Promise<string> {
        runs++;
        await h.clock.sleep(ms);
        if (runs === 1) throw new DownstreamError('jammed');
        return 'printed';
      }
    }
    const printer = new Printer();
    const first = settle(printer.print(0));
    await h.clock.advance(0);
    await first;
    await h.clock.advance(1_000);

    const trial = settle(printer.print(500));
    await h.clock.advance(500);
    expect(await trial).toEqual({ ok: true, value: 'printed' });
    expect(breakerNamed(name).state).toBe('open');
    expect(h.events('stateChange').at(-1)?.reason).toBe('a trial call was slow');
  });

  it('grows the open time with openDuration(openings), capped by maxOpenDuration, and starts over once closed', async () => {
    const h = useHarness();
    const name = uniqueCircuit('half-open-growth');
    const asked: number[] = [];
    const { warehouse } = gatedService({
      name,
      consecutiveFailures: 1,
      openDuration: (openings) => {
        asked.push(openings);
        return 1_000 * 2 ** (openings - 1);
      },
      maxOpenDuration: 3_000,
    });
    const retryAfter = async () =>
      (await refusalOf(warehouse.ship(Promise.resolve('refused')))).retryAfter;

    await rejectionOf(warehouse.ship(failed()));
    expect(await retryAfter()).toBe(1_000);
    await h.clock.advance(1_000);
    await rejectionOf(warehouse.ship(failed()));
    expect(await retryAfter()).toBe(2_000);
    await h.clock.advance(2_000);
    await rejectionOf(warehouse.ship(failed()));
    expect(await retryAfter()).toBe(3_000); // 4 000 wanted, capped
    await h.clock.advance(2_999);
    expect(await retryAfter()).toBe(1);
    await h.clock.advance(1);
    await rejectionOf(warehouse.ship(failed()));
    expect(await retryAfter()).toBe(3_000); // 8 000 wanted, capped
    expect(breakerNamed(name).metrics().openings).toBe(4);

    await h.clock.advance(3_000);
    await expect(warehouse.ship(Promise.resolve('recovered'))).resolves.toBe('recovered');
    await rejectionOf(warehouse.ship(failed()));
    expect(await retryAfter()).toBe(1_000);
    expect(asked).toEqual([1, 2, 3, 4, 1]);
  });

  it('caps a growing openDuration at the default maxOpenDuration of 600 000 ms', async () => {
    useHarness();
    const name = uniqueCircuit('half-open-default-cap');
    const { warehouse } = gatedService({
      name,
      consecutiveFailures: 1,
      openDuration: () => 86_400_000,
    });

    await rejectionOf(warehouse.ship(failed()));
    expect((await refusalOf(warehouse.ship(Promise.resolve('refused')))).retryAfter).toBe(600_000);
  });

  it('keeps a fixed openDuration longer than the default maxOpenDuration, or refuses it at definition, but never shortens it silently', async () => {
    useHarness();
    const name = uniqueCircuit('half-open-long-fixed');
    const oneHour = 3_600_000;
    let service: ReturnType<typeof gatedService>;
    try {
      service = gatedService({ name, consecutiveFailures: 1, openDuration: oneHour });
    } catch (error) {
      // Refusing the option outright would also keep the contract ("nothing invalid is accepted silently").
      expect(error).toBeInstanceOf(ConfigError);
      expect(['openDuration', 'maxOpenDuration']).toContain((error as ConfigError).option);
      return;
    }

    await rejectionOf(service.warehouse.ship(failed()));
    expect((await refusalOf(service.warehouse.ship(Promise.resolve('refused')))).retryAfter).toBe(
      oneHour,
    );
  });

  it('ignores the outcome of a call admitted while closed that ends during half-open: it spends no trial permit', async () => {
    const h = useHarness();
    const name = uniqueCircuit('half-open-stale');
    const { warehouse, runs } = gatedService({
      name,
      consecutiveFailures: 1,
      openDuration: 1_000,
      halfOpenMaxCalls: 1,
    });
    const straggler = deferred<string>();
    const stragglerCall = settle(warehouse.ship(straggler.promise));
    await rejectionOf(warehouse.ship(failed()));
    await h.clock.advance(1_000);

    const trial = deferred<string>();
    const trialCall = settle(warehouse.ship(trial.promise));
    straggler.reject(new DownstreamError('late failure from before the opening'));
    await stragglerCall;
    expect(breakerNamed(name).metrics()).toMatchObject({ state: 'half-open', trialCalls: 1 });
    await refusalOf(warehouse.ship(Promise.resolve('extra')));

    trial.resolve('recovered');
    expect(await trialCall).toEqual({ ok: true, value: 'recovered' });
    expect(breakerNamed(name).state).toBe('closed');
    expect(runs()).toBe(3);
  });
});
