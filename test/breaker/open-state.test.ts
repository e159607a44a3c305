import {
  CircuitBreaker,
  CircuitOpenError,
  isCircuitOpenError,
  isSteadfastError,
  SteadfastError,
} from '../../src';
import { decoratorMode, useHarness } from '../support/harness';
import { breakerNamed, DownstreamError, refusalOf, rejectionOf, uniqueCircuit } from './support';

/** A ledger whose breaker opens on its first failure and stays open for 5 s. */
function openLedger(name: string) {
  let runs = 0;
  let failing = true;
  class Ledger {
    @CircuitBreaker({ name, consecutiveFailures: 1, openDuration: 5_000 })
    async post(entry: string): Promise<string> {
      runs++;
      if (failing) throw new DownstreamError('ledger down');
      return `posted ${entry}`;
    }
  }
  return {
    ledger: new Ledger(),
    runs: () => runs,
    recover: () => void (failing = false),
  };
}

describe(`@CircuitBreaker while open (${decoratorMode} decorators)`, () => {
  it('refuses calls without running the body, with a CircuitOpenError that says which circuit and for how long', async () => {
    const h = useHarness();
    const name = uniqueCircuit('open-refusal');
    const { ledger, runs, recover } = openLedger(name);
    await rejectionOf(ledger.post('a'));
    recover();
    await h.clock.advance(1_200);

    const refusal = await refusalOf(ledger.post('b'));

    expect(runs()).toBe(1);
    expect(refusal).toBeInstanceOf(SteadfastError);
    expect(refusal).toBeInstanceOf(Error);
    expect(refusal.circuit).toBe(name);
    expect(refusal.state).toBe('open');
    expect(refusal.retryAfter).toBe(3_800);
    expect(refusal.code).toBe('STEADFAST_CIRCUIT_OPEN');
    expect(refusal.name).toBe('CircuitOpenError');
    expect(refusal.message).toContain(name);
    expect(isCircuitOpenError(refusal)).toBe(true);
    expect(isSteadfastError(refusal)).toBe(true);
  });

  it('is not fooled into recognising an ordinary error as a CircuitOpenError', () => {
    const lookalike = Object.assign(new Error('circuit open'), {
      code: 'STEADFAST_CIRCUIT_OPEN',
      circuit: 'x',
      state: 'open',
    });
    expect(isCircuitOpenError(lookalike)).toBe(false);
    expect(isCircuitOpenError(new DownstreamError('down'))).toBe(false);
    expect(isCircuitOpenError(undefined)).toBe(false);
  });

  it('counts down retryAfter as the clock moves, to 1 ms before trial calls are let through', async () => {
    const h = useHarness();
    const name = uniqueCircuit('open-countdown');
    const { ledger } = openLedger(name);
    await rejectionOf(ledger.post('a'));

    expect((await refusalOf(ledger.post('b'))).retryAfter).toBe(5_000);
    await h.clock.advance(2_500);
    expect((await refusalOf(ledger.post('c'))).retryAfter).toBe(2_500);
    await h.clock.advance(2_499);
    expect((await refusalOf(ledger.post('d'))).retryAfter).toBe(1);
    expect(breakerNamed(name).state).toBe('open');
  });

  it('reports each refusal as a rejected event and in metrics().rejected', async () => {
    const h = useHarness();
    const name = uniqueCircuit('open-rejected');
    const { ledger } = openLedger(name);
    await rejectionOf(ledger.post('a'));
    await h.clock.advance(1_000);

    await refusalOf(ledger.post('b'));
    await refusalOf(ledger.post('c'));
    await refusalOf(ledger.post('d'));

    expect(h.events('rejected')).toEqual([
      { circuit: name, method: 'Ledger.post', state: 'open', retryAfter: 4_000 },
      { circuit: name, method: 'Ledger.post', state: 'open', retryAfter: 4_000 },
      { circuit: name, method: 'Ledger.post', state: 'open', retryAfter: 4_000 },
    ]);
    expect(breakerNamed(name).metrics()).toMatchObject({ state: 'open', rejected: 3, calls: 0 });
  });

  it('logs the first refusal of an opening at warn, and emits a failure event for every refusal', async () => {
    const h = useHarness();
    const name = uniqueCircuit('open-logged');
    const { ledger } = openLedger(name);
    await rejectionOf(ledger.post('a'));
    h.logger.clear();

    const refusal = await refusalOf(ledger.post('b'));
    await refusalOf(ledger.post('c'));

    expect(h.logger.at('error')).toEqual([]);
    const warnings = h.logger.at('warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain('Ledger.post refused');
    expect(warnings[0]?.message).toContain(name);
    expect(warnings[0]?.fields).toMatchObject({
      method: 'Ledger.post',
      circuit: name,
      state: 'open',
      error: refusal,
    });
    expect(h.events('failure').slice(-2)).toEqual([
      expect.objectContaining({ method: 'Ledger.post', reason: 'circuit-open', error: refusal }),
      expect.objectContaining({ method: 'Ledger.post', reason: 'circuit-open' }),
    ]);
  });

  it('logs 50 refused calls as a handful of lines: the first, then one count per 10 s, and the rest when the breaker leaves open', async () => {
    const h = useHarness();
    const name = uniqueCircuit('open-volume');
    let runs = 0;
    class Ledger {
      @CircuitBreaker({ name, consecutiveFailures: 1, openDuration: 60_000 })
      async post(): Promise<string> {
        runs++;
        throw new DownstreamError('ledger down');
      }
    }
    const ledger = new Ledger();
    await rejectionOf(ledger.post());
    expect(h.logger.at('error')).toHaveLength(1); // the failure that opened it: a final failure, logged
    h.logger.clear();

    for (let call = 0; call < 25; call++) await refusalOf(ledger.post());
    await h.clock.advance(10_000);
    for (let call = 0; call < 25; call++) await refusalOf(ledger.post());
    await h.clock.advance(50_000);
    expect(breakerNamed(name).state).toBe('half-open'); // openDuration has passed: reading the state moves it

    const lines = h.logger.entries.map((entry) => `${entry.level} ${entry.message}`);
    expect(lines).toEqual([
      expect.stringMatching(/^warn Ledger\.post refused: circuit '.*' is open/),
      expect.stringMatching(/^warn circuit '.*' refused 25 more calls in the last 10 s$/),
      expect.stringMatching(/^warn circuit '.*' refused 24 more calls in the last 50 s$/),
      expect.stringMatching(/^warn circuit '.*' open -> half-open/),
    ]);
    expect(runs).toBe(1);
    expect(h.events('failure').filter((event) => event.reason === 'circuit-open')).toHaveLength(50);
  });

  it('still logs every failed attempt and every other final failure, each once', async () => {
    const h = useHarness();
    const name = uniqueCircuit('open-others');
    const { ledger, recover } = openLedger(name);
    await rejectionOf(ledger.post('a'));
    await refusalOf(ledger.post('b'));
    await h.clock.advance(5_000);
    await rejectionOf(ledger.post('trial fails')); // half-open: the trial fails, the breaker opens again
    await refusalOf(ledger.post('c'));
    recover();

    const errors = h.logger.at('error').map((entry) => entry.message);
    expect(errors).toEqual([
      expect.stringContaining('ledger down'),
      expect.stringContaining('ledger down'),
    ]);
    // One first-refusal line for each opening.
    expect(
      h.logger.at('warn').filter((entry) => entry.message.includes('refused: circuit')),
    ).toHaveLength(2);
  });

  it('refuses with a fresh error each time, not one shared instance', async () => {
    useHarness();
    const name = uniqueCircuit('open-fresh');
    const { ledger } = openLedger(name);
    await rejectionOf(ledger.post('a'));

    const first = await refusalOf(ledger.post('b'));
    const second = await refusalOf(ledger.post('c'));
    expect(second).not.toBe(first);
    expect(second).toBeInstanceOf(CircuitOpenError);
  });
});
