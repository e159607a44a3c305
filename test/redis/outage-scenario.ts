import type { BreakerSpec, FleetMember, Line } from './fleet-member';

// What a fleet member must do while its store is down, shared by the fleet suite on one
// redis-server (test/redis/fleet.test.ts) and on a Redis Cluster (test/redis-clients/).

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
