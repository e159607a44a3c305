import {
  Bulkhead,
  CircuitBreaker,
  Fallback,
  Idempotent,
  Retryable,
  Timeout,
  attemptSignal,
  defaultEngine,
  type EngineEventName,
  type SteadfastMethodDecorator,
} from '../../src';
import {
  DownstreamError,
  decoratorMode,
  deferred,
  hang,
  useStageHarness,
  type Deferred,
} from './support';

type StageName =
  'Fallback' | 'Idempotent' | 'Retryable' | 'CircuitBreaker' | 'Bulkhead' | 'Timeout';

/** Each decorator with the options of the scripted scenario; a fresh decorator per class. */
const DECORATORS: Record<StageName, () => SteadfastMethodDecorator> = {
  Fallback: () =>
    Fallback((error: unknown, id: string) => `fallback for ${id} after ${describeError(error)}`),
  Idempotent: () => Idempotent({ key: (id: string) => id }),
  Retryable: () => Retryable({ maxAttempts: 3, initialDelay: 50, jitter: 'none' }),
  CircuitBreaker: () => CircuitBreaker({ consecutiveFailures: 3, openDuration: 10_000 }),
  Bulkhead: () => Bulkhead(1, 1),
  Timeout: () => Timeout({ attempt: 100, total: 300 }),
};

/** The order of the pipeline in the spec, outermost first (Timeout's total and attempt stages sit apart). */
const PIPELINE_ORDER: readonly StageName[] = [
  'Fallback',
  'Idempotent',
  'Retryable',
  'Bulkhead',
  'CircuitBreaker',
  'Timeout',
];

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, index) =>
    permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [
      item,
      ...rest,
    ]),
  );
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const kind = (error as { kind?: unknown }).kind;
  return typeof kind === 'string' ? `${error.name}(${kind})` : error.name;
}

/** Events and log entries as plain data, errors replaced by their description, so two runs compare. */
function plain(value: unknown): unknown {
  if (value instanceof Error) return describeError(value);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, plain(field)]));
  return value;
}

type Behaviour = 'hang' | 'throw' | 'ok' | 'gate';

/** What each key's body does on its 1st, 2nd, 3rd run. */
const SCRIPT: Record<string, readonly Behaviour[]> = {
  a: ['hang', 'throw', 'ok'],
  b: ['hang', 'hang', 'hang'],
  c: ['throw'],
  d: ['ok'],
  e: ['gate'],
  f: ['ok'],
  g: ['ok'],
};

type Body = (id: string) => Promise<string>;

/** The one method, with the six decorators written in `order` (top to bottom). */
function defineInOrder(
  order: readonly StageName[],
  body: Body,
): { quote(id: string): Promise<string> } {
  const [d0, d1, d2, d3, d4, d5] = order.map((name) => DECORATORS[name]()) as [
    SteadfastMethodDecorator,
    SteadfastMethodDecorator,
    SteadfastMethodDecorator,
    SteadfastMethodDecorator,
    SteadfastMethodDecorator,
    SteadfastMethodDecorator,
  ];
  class Quotes {
    @d0
    @d1
    @d2
    @d3
    @d4
    @d5
    async quote(id: string): Promise<string> {
      return body(id);
    }
  }
  return new Quotes();
}

const EVENT_NAMES: EngineEventName[] = [
  'retry',
  'success',
  'failure',
  'stateChange',
  'rejected',
  'deduplicated',
  'timeout',
  'fallback',
  'bulkheadRejected',
];

/**
 * Runs the scripted scenario against the method decorated in `order`, on a fresh FakeClock:
 * 1. 'a' times out, fails, then succeeds on attempt 3 (within the total deadline);
 * 2. 'a' again is replayed;
 * 3. 'b' hangs on every attempt: the total deadline passes during the second sleep, the fallback answers;
 * 4. 'c' fails once: the third failure in a row opens the breaker, the fallback answers its refusal;
 * 5. 'd' is refused by the open breaker without running;
 * 6-8. after openDuration, 'e' takes the bulkhead's slot and the half-open permit, 'f' queues,
 *      'g' finds the bulkhead full; 'e' succeeds and closes the breaker; 'f' then runs.
 */
async function observe(order: readonly StageName[]) {
  const h = useStageHarness();
  const runs: string[] = [];
  const gates = new Map<string, Deferred<string>>();
  const quotes = defineInOrder(order, async (id) => {
    const run = runs.filter((entry) => entry.startsWith(`${id}#`)).length + 1;
    runs.push(`${id}#${run}${attemptSignal() === undefined ? ' without attemptSignal()' : ''}`);
    const behaviour = SCRIPT[id]?.[run - 1];
    if (behaviour === 'hang') return hang();
    if (behaviour === 'throw') throw new DownstreamError(`${id} failed on run ${run}`);
    if (behaviour === 'gate') {
      const gate = deferred<string>();
      gates.set(id, gate);
      return gate.promise;
    }
    if (behaviour === 'ok') return `quote ${id} from run ${run}`;
    throw new Error(`unscripted run ${run} of ${id}`);
  });
  const outcomes: string[] = [];
  const call = (id: string): void => {
    const index = outcomes.push('pending') - 1;
    quotes.quote(id).then(
      (value) => void (outcomes[index] = `${id}: ${value}`),
      (error: unknown) => void (outcomes[index] = `${id} rejected: ${describeError(error)}`),
    );
  };
  const snapshots: unknown[] = [];
  const snapshot = (): void => {
    const { state } = defaultEngine.breaker('Quotes.quote');
    const { running, queued, rejected } = defaultEngine.bulkhead('Quotes.quote');
    snapshots.push({
      at: h.clock.now() - origin,
      outcomes: [...outcomes],
      runs: runs.length,
      breaker: state,
      bulkhead: { running, queued, rejected },
    });
  };
  const origin = h.clock.now();

  call('a');
  await h.clock.advance(300);
  call('a');
  await h.clock.flush();
  call('b');
  await h.clock.advance(300);
  call('c');
  await h.clock.flush();
  call('d');
  await h.clock.flush();
  snapshot();
  await h.clock.advance(10_000);
  call('e');
  call('f');
  call('g');
  await h.clock.flush();
  snapshot();
  gates.get('e')?.resolve('quote e from run 1');
  await h.clock.flush();
  await h.clock.flush();
  snapshot();
  await h.clock.runAll();

  return {
    outcomes,
    runs,
    snapshots,
    events: Object.fromEntries(EVENT_NAMES.map((name) => [name, plain(h.events(name))])),
    log: h.logger.entries.map(({ level, message, fields }) => ({
      level,
      message,
      fields: plain(fields),
    })),
  };
}

describe(`one pipeline, whatever the order of the decorators (${decoratorMode} decorators)`, () => {
  let reference: Awaited<ReturnType<typeof observe>> | undefined;

  it('runs the scripted scenario through the pipeline of the spec', async () => {
    reference = await observe(PIPELINE_ORDER);

    expect(reference.outcomes).toEqual([
      'a: quote a from run 3',
      'a: quote a from run 3',
      'b: fallback for b after TimeoutError(total)',
      'c: fallback for c after CircuitOpenError',
      'd: fallback for d after CircuitOpenError',
      'e: quote e from run 1',
      'f: quote f from run 1',
      'g: fallback for g after BulkheadRejectedError',
    ]);
    expect(reference.runs).toEqual(['a#1', 'a#2', 'a#3', 'b#1', 'b#2', 'c#1', 'e#1', 'f#1']);
    expect(reference.snapshots).toEqual([
      expect.objectContaining({
        breaker: 'open',
        bulkhead: { running: 0, queued: 0, rejected: 0 },
      }),
      expect.objectContaining({
        runs: 7,
        breaker: 'half-open',
        bulkhead: { running: 1, queued: 1, rejected: 1 },
      }),
      expect.objectContaining({
        runs: 8,
        breaker: 'closed',
        bulkhead: { running: 0, queued: 0, rejected: 1 },
      }),
    ]);
    const { events } = reference;
    expect(events.deduplicated).toEqual([
      { method: 'Quotes.quote', how: 'replayed', duration: expect.any(Number) },
    ]);
    expect(events.timeout).toEqual([
      { method: 'Quotes.quote', kind: 'attempt', timeout: 100, attempt: 1 },
      { method: 'Quotes.quote', kind: 'attempt', timeout: 100, attempt: 1 },
      { method: 'Quotes.quote', kind: 'attempt', timeout: 100, attempt: 2 },
      // (which attempt a deadline during a sleep reports is checked in test/timeout/total-timeout.test.ts)
      expect.objectContaining({ method: 'Quotes.quote', kind: 'total', timeout: 300 }),
    ]);
    expect(events.fallback).toEqual([
      // the total deadline passed after 300 ms; the refusals and the rejection were answered at once
      { method: 'Quotes.quote', error: 'TimeoutError(total)', duration: 300 },
      { method: 'Quotes.quote', error: 'CircuitOpenError', duration: 0 },
      { method: 'Quotes.quote', error: 'CircuitOpenError', duration: 0 },
      { method: 'Quotes.quote', error: 'BulkheadRejectedError', duration: 0 },
    ]);
    expect(events.failure).toEqual([]);
    expect(events.bulkheadRejected).toEqual([
      { method: 'Quotes.quote', bulkhead: 'Quotes.quote', reason: 'full' },
    ]);
    expect((events.stateChange as { to: string }[]).map(({ to }) => to)).toEqual([
      'open',
      'half-open',
      'closed',
    ]);
  });

  const orders = permutations<StageName>([
    'Fallback',
    'Idempotent',
    'Retryable',
    'CircuitBreaker',
    'Bulkhead',
    'Timeout',
  ]);

  it('covers every one of the 720 orders, the reverse ones included', () => {
    expect(new Set(orders.map((order) => order.join())).size).toBe(720);
    expect(orders.map((order) => order.join())).toContain([...PIPELINE_ORDER].reverse().join());
  });

  it.each(orders.map((order) => [order.join(' '), order] as const))(
    'gives the same body runs, events, logs and outcomes written as %s',
    async (_title, order) => {
      reference ??= await observe(PIPELINE_ORDER);
      const observed = await observe(order);

      expect(observed).toEqual(reference);
    },
  );
});
