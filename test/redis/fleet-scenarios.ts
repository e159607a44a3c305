import { median, pause, type BreakerSpec, type FleetMember, type Line } from './fleet-member';

// Scenarios of the multi-process fleet suite written once, for the suite on one redis-server
// (test/redis/fleet.test.ts) and on a Redis Cluster (test/redis-clients/fleet-on-cluster.test.ts).

async function callOk(member: FleetMember, breaker: BreakerSpec): Promise<void> {
  expect(await member.request({ op: 'call', breaker, behaviour: {} })).toMatchObject({
    ok: true,
    ran: true,
  });
}

/**
 * A half-open breaker with halfOpenMaxCalls 2, and 3 processes firing 5 calls each right after its
 * openDuration: 2 bodies run in the whole fleet, 13 calls are refused, and both trials close it
 * for every process.
 */
export async function expectFleetWideTrials(
  members: readonly FleetMember[],
  figures: Record<string, unknown>,
): Promise<void> {
  const breaker: BreakerSpec = {
    name: 'half-open',
    consecutiveFailures: 2,
    openDuration: 800,
    halfOpenMaxCalls: 2,
  };
  const fleet = members.slice(0, 3);
  const [opener, , third] = fleet as [FleetMember, FleetMember, FleetMember];
  for (const member of fleet) await callOk(member, breaker);
  const opened = await opener.request({ op: 'open', breaker, failures: 2 });
  expect(typeof opened.openedAt).toBe('number');

  // Right after openDuration: 3 processes fire 5 calls each, at the same moment.
  const at = (opened.openedAt as number) + 800 + 60;
  const bursts = await Promise.all(
    fleet.map((member) =>
      member.request({ op: 'burst', breaker, count: 5, at, behaviour: { sleep: 300 } }),
    ),
  );
  const sum = (field: string): number =>
    bursts.reduce((total, burst) => total + (burst[field] as number), 0);
  const ran = sum('ran');
  figures.halfOpenTrials = {
    processes: 3,
    callsEach: 5,
    halfOpenMaxCalls: 2,
    bodiesRun: ran,
    refused: sum('refused'),
    perProcess: bursts.map((burst) => burst.ran),
  };

  expect(bursts.flatMap((burst) => burst.other as unknown[])).toEqual([]);
  expect(ran).toBe(2);
  expect(sum('ok')).toBe(2);
  expect(sum('refused')).toBe(13);
  // Both trials succeeded: the fleet's breaker closed, for the process that ran no trial too.
  expect(
    await third.request({ op: 'poll', breaker, until: 'success', every: 10, timeout: 2_000 }),
  ).toMatchObject({ calls: expect.any(Number) });
}

/** isolate() and reset() by the first member reach every other within `limitMs`. */
export async function expectIsolateAndResetCarried(
  members: readonly FleetMember[],
  figures: Record<string, unknown>,
  limitMs: number,
): Promise<void> {
  const breaker: BreakerSpec = {
    name: 'by-hand',
    consecutiveFailures: 5,
    openDuration: 30_000,
  };
  const [operator, ...others] = members as [FleetMember, ...FleetMember[]];
  for (const member of members) await callOk(member, breaker);

  const isolating = others.map((member) =>
    member.request({ op: 'poll', breaker, until: 'rejected', every: 5, timeout: 3_000 }),
  );
  await pause(80);
  const isolated = await operator.request({ op: 'isolate', breaker });
  expect(isolated.state).toBe('isolated');
  const isolateDelays: number[] = [];
  for (const seen of await Promise.all(isolating)) {
    expect(seen).toMatchObject({ state: 'isolated', ran: false });
    isolateDelays.push((seen.at as number) - (isolated.at as number));
  }

  const reopening = others.map((member) =>
    member.request({ op: 'poll', breaker, until: 'success', every: 5, timeout: 3_000 }),
  );
  await pause(80);
  const reset = await operator.request({ op: 'reset', breaker });
  expect(reset.state).toBe('closed');
  const resetDelays: number[] = [];
  for (const seen of await Promise.all(reopening)) {
    expect(seen.timedOut).toBeUndefined();
    resetDelays.push((seen.at as number) - (reset.at as number));
  }

  figures.isolatePropagationMs = { samples: isolateDelays, median: median(isolateDelays) };
  figures.resetPropagationMs = { samples: resetDelays, median: median(resetDelays) };
  for (const delay of [...isolateDelays, ...resetDelays])
    expect(delay).toBeLessThanOrEqual(limitMs);
}

/** A breaker the fleet decides, and one whose failures during the outage open it locally. */
export const OUTAGE_BREAKERS: { readonly followed: BreakerSpec; readonly local: BreakerSpec } = {
  followed: { name: 'outage', consecutiveFailures: 3, openDuration: 60_000 },
  local: { name: 'outage-local', consecutiveFailures: 3, openDuration: 60_000 },
};

/** The warn line of breaker `name` falling back to local state. */
export const fellBack =
  (name: string) =>
  (line: Line): boolean =>
    line.log === 'warn' &&
    line.circuit === name &&
    String(line.message).includes('shared store failed');

/** The warn line of breaker `name` following the fleet again. */
export const recovered =
  (name: string) =>
  (line: Line): boolean =>
    line.log === 'warn' &&
    line.circuit === name &&
    String(line.message).includes('the shared store answers again');

/**
 * With the store down (both breakers used before it went): no call fails or waits because of it,
 * the body's own failures still open a breaker locally, keyed calls follow `onStoreError`, and each
 * breaker's fallback is logged once. `lineWaitMs`: how long a warn line may take to show.
 */
export async function expectLocalStateWhileDown(
  member: FleetMember,
  figures: Record<string, unknown>,
  lineWaitMs: number,
): Promise<void> {
  const { followed, local } = OUTAGE_BREAKERS;
  const during = await member.request({
    op: 'calls',
    breaker: followed,
    count: 40,
    every: 20,
    behaviour: {},
  });
  expect(during).toMatchObject({ ok: 40, failed: [], ran: 40 });
  figures.outageCallMaxLatencyMs = during.maxMs;
  expect(during.maxMs as number).toBeLessThan(400);
  expect(await member.lineMatching(fellBack(followed.name), lineWaitMs)).toBeDefined();

  // The body's own failures still count, locally: the breaker opens after 3 of them.
  expect(await member.request({ op: 'call', breaker: local, behaviour: {} })).toMatchObject({
    ok: true,
    ran: true,
  });
  expect(await member.lineMatching(fellBack(local.name), lineWaitMs)).toBeDefined();
  const failures = await member.request({
    op: 'calls',
    breaker: local,
    count: 3,
    every: 0,
    behaviour: { fail: true },
  });
  expect(failures).toMatchObject({ ok: 0, ran: 3 });
  expect((failures.failed as { name: string }[]).map((error) => error.name)).toEqual([
    'Error',
    'Error',
    'Error',
  ]);
  expect(await member.request({ op: 'call', breaker: local, behaviour: {} })).toMatchObject({
    ok: false,
    ran: false,
    error: { code: 'STEADFAST_CIRCUIT_OPEN', state: 'open' },
  });

  // Keyed calls: 'reject' (the default) refuses without running the body; 'proceed' runs it.
  const rejected = await member.request({ op: 'keyed', key: 'during-outage', payload: {} });
  expect(rejected).toMatchObject({
    ok: false,
    ran: false,
    error: { code: 'STEADFAST_IDEMPOTENCY_STORE' },
  });
  const proceeded = await member.request({
    op: 'keyed',
    key: 'during-outage',
    payload: {},
    options: { onStoreError: 'proceed' },
  });
  expect(proceeded).toMatchObject({ ok: true, ran: true });

  // The fallback was logged once per breaker, however many calls went through it.
  expect(member.lines.filter(fellBack(followed.name))).toHaveLength(1);
  expect(member.lines.filter(fellBack(local.name))).toHaveLength(1);
}
