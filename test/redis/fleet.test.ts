import Redis from 'ioredis';
import { decoratorMode } from '../support/harness';
import { RedisServer } from '../support/redis-server';
import { describeWithRedis } from '../support/describe-with-redis';
import {
  expectFleetWideTrials,
  expectIsolateAndResetCarried,
  expectLocalStateWhileDown,
  OUTAGE_BREAKERS,
  recovered,
} from './fleet-scenarios';
import {
  FleetMember,
  killRunningMembers,
  median,
  pause,
  type BreakerSpec,
  fleetClient,
} from './fleet-member';

/** The documented propagation bound is 100 ms; the tests allow 150 for a busy CI machine. */
const PROPAGATION_LIMIT_MS = 150;

// A fleet of real processes on one redis-server (and a second one, with AOF persistence, for the
// restart scenario).
// Every member is a child process on this machine, so they share one wall clock; each scenario
// runs in real time and is bounded to about a second. Four members are shared by the scenarios
// (started once: ts-node start-up is the expensive part); scenarios that need a process that has
// never run anything start their own and end it (or kill it, in afterEach).
describeWithRedis(
  `a fleet on one Redis (${decoratorMode} decorators, members on ${fleetClient})`,
  () => {
    let server: RedisServer;
    let inspect: Redis;
    let members: FleetMember[] = [];
    const figures: Record<string, unknown> = {};

    beforeAll(async () => {
      server = await RedisServer.start();
      inspect = new Redis(server.url);
      inspect.on('error', () => undefined);
      members = await FleetMember.start(server.url, [
        'member-1',
        'member-2',
        'member-3',
        'member-4',
      ]);
    }, 120_000);

    afterEach(async () => {
      await killRunningMembers(members);
    });

    afterAll(async () => {
      figures.sharedMemberExitCodes = await Promise.all(members.map((member) => member.end()));
      await killRunningMembers();
      inspect?.disconnect();
      await server?.stop();
      console.log(
        `fleet figures (${decoratorMode} decorators): ${JSON.stringify(figures, null, 1)}`,
      );
    }, 30_000);

    const callOk = async (member: FleetMember, breaker: BreakerSpec): Promise<void> => {
      expect(await member.request({ op: 'call', breaker, behaviour: {} })).toMatchObject({
        ok: true,
        ran: true,
      });
    };

    describe('idempotency keys', () => {
      it('runs the body exactly once when 4 processes race on one key, and all get the same result', async () => {
        const rounds: { bodies: number; listed: number; duplicateWaitMs: number[] }[] = [];
        for (let round = 1; round <= 3; round++) {
          const key = `race-${round}`;
          const list = `race-runs-${round}`;
          const at = Date.now() + 300;
          const replies = await Promise.all(
            members.map((member) =>
              member.request({
                op: 'keyed',
                key,
                payload: { round, amount: 1_250 },
                at,
                behaviour: { sleep: 100, push: list },
              }),
            ),
          );

          expect(replies.map((reply) => reply.ok)).toEqual([true, true, true, true]);
          const runners = replies.filter((reply) => reply.ran === true);
          expect(runners).toHaveLength(1);
          for (const reply of replies) expect(reply.value).toEqual(runners[0].value);
          const runnerPid = members[replies.indexOf(runners[0])].pid;
          expect(runners[0].value).toMatchObject({
            by: runnerPid,
            payload: { round, amount: 1_250 },
          });
          const listed = await inspect.lrange(list, 0, -1);
          expect(listed).toEqual([String(runnerPid)]);
          // The duplicates really overlapped the run: they started before it ended and waited for it.
          const duplicates = replies.filter((reply) => reply.ran !== true);
          for (const duplicate of duplicates)
            expect(duplicate.startedAt as number).toBeLessThan(runners[0].at as number);
          rounds.push({
            bodies: runners.length,
            listed: listed.length,
            duplicateWaitMs: duplicates.map(
              (reply) => (reply.at as number) - (reply.startedAt as number),
            ),
          });
        }
        figures.raceOf4Processes = rounds;
        figures.raceDuplicateWaitMedianMs = median(
          rounds.flatMap((round) => round.duplicateWaitMs),
        );
      });

      it('lets a waiting duplicate in another process run the body when the first run fails', async () => {
        const [first, second, third] = members;
        const key = 'fails-first';
        const list = 'fails-first-runs';
        const at = Date.now() + 200;
        const [failed, recovered] = await Promise.all([
          first.request({
            op: 'keyed',
            key,
            payload: { n: 1 },
            at,
            behaviour: { sleep: 200, fail: true },
          }),
          second.request({
            op: 'keyed',
            key,
            payload: { n: 1 },
            at: at + 50,
            behaviour: { push: list },
          }),
        ]);

        expect(failed).toMatchObject({ ok: false, ran: true, error: { name: 'Error' } });
        expect(recovered).toMatchObject({ ok: true, ran: true, value: { by: second.pid } });
        expect(recovered.at as number).toBeGreaterThanOrEqual(failed.at as number);
        expect(await inspect.lrange(list, 0, -1)).toEqual([String(second.pid)]);

        const replayed = await third.request({ op: 'keyed', key, payload: { n: 1 } });
        expect(replayed).toMatchObject({ ok: true, ran: false });
        expect(replayed.value).toEqual(recovered.value);
      });

      it('refuses the same key with different arguments in another process', async () => {
        const [first, second] = members;
        expect(
          await first.request({ op: 'keyed', key: 'conflict', payload: { amount: 100 } }),
        ).toMatchObject({ ok: true, ran: true });
        const conflict = await second.request({
          op: 'keyed',
          key: 'conflict',
          payload: { amount: 101 },
        });
        expect(conflict).toMatchObject({
          ok: false,
          ran: false,
          error: { code: 'STEADFAST_IDEMPOTENCY_CONFLICT' },
        });
      });

      it('makes a duplicate wait for a run in progress elsewhere up to `wait`, then fail with IdempotencyInProgressError', async () => {
        const [first, second] = members;
        const at = Date.now() + 200;
        const slowRun = first.request({
          op: 'keyed',
          key: 'slow',
          payload: {},
          at,
          behaviour: { sleep: 1_000 },
        });
        const duplicate = await second.request({
          op: 'keyed',
          key: 'slow',
          payload: {},
          at: at + 100,
          options: { wait: 300 },
        });

        expect(duplicate).toMatchObject({
          ok: false,
          ran: false,
          error: { code: 'STEADFAST_IDEMPOTENCY_IN_PROGRESS' },
        });
        const waited = (duplicate.error as { waited: number }).waited;
        expect(waited).toBeGreaterThanOrEqual(300);
        expect(waited).toBeLessThan(300 + 250 + 100);
        expect(await slowRun).toMatchObject({ ok: true, ran: true });
        figures.inProgressWait = {
          wait: 300,
          waited,
          measuredMs: (duplicate.at as number) - (duplicate.startedAt as number),
        };
      });
    });

    describe('named breakers', () => {
      it('counts the outcomes of every process in one window', async () => {
        const [first, second, third] = members;
        const breaker: BreakerSpec = {
          name: 'shared-window',
          consecutiveFailures: 4,
          openDuration: 30_000,
        };
        for (const member of [first, second, third]) await callOk(member, breaker);
        // Successes alone reach the fleet within 20 × flushInterval (500 ms): these are counted before the failures.
        await pause(650);

        const firstFailures = await first.request({
          op: 'calls',
          breaker,
          count: 2,
          every: 0,
          behaviour: { fail: true },
        });
        expect(firstFailures).toMatchObject({ ok: 0, ran: 2 });
        await pause(100);
        // Two failures in a row are not four: the fleet's breaker is still closed.
        expect(await third.request({ op: 'state', breaker })).toMatchObject({ state: 'closed' });

        // The third process watches its breaker's state without calling (a success would break the run).
        const watching = third.request({ op: 'watch', breaker, state: 'open', timeout: 2_000 });
        await pause(30);
        expect(
          await second.request({
            op: 'calls',
            breaker,
            count: 2,
            every: 0,
            behaviour: { fail: true },
          }),
        ).toMatchObject({ ok: 0, ran: 2 });
        expect(await watching).toMatchObject({ state: 'open' });
        expect(await third.request({ op: 'call', breaker, behaviour: {} })).toMatchObject({
          ok: false,
          ran: false,
          error: { code: 'STEADFAST_CIRCUIT_OPEN', state: 'open' },
        });
      });

      it(`rejects in another process within ${PROPAGATION_LIMIT_MS} ms of an opening (documented bound: 100 ms)`, async () => {
        const [opener, watcherA, watcherB] = members;
        const delays: number[] = [];
        for (let trial = 1; trial <= 5; trial++) {
          const breaker: BreakerSpec = {
            name: `propagation-${trial}`,
            consecutiveFailures: 3,
            openDuration: 30_000,
          };
          for (const member of [opener, watcherA, watcherB]) await callOk(member, breaker);
          const watches = [watcherA, watcherB].map((watcher) =>
            watcher.request({ op: 'poll', breaker, until: 'rejected', every: 5, timeout: 3_000 }),
          );
          await pause(80);

          const opened = await opener.request({ op: 'open', breaker, failures: 3 });
          expect(typeof opened.openedAt).toBe('number');
          for (const seen of await Promise.all(watches)) {
            expect(seen).toMatchObject({ state: 'open', ran: false });
            const delay = (seen.at as number) - (opened.openedAt as number);
            delays.push(delay);
            expect(delay).toBeLessThanOrEqual(PROPAGATION_LIMIT_MS);
          }
        }
        figures.openingPropagationMs = {
          samples: delays,
          median: median(delays),
          max: Math.max(...delays),
        };
      });

      it("rejects a process's FIRST call through a breaker already open in the fleet, without running the body", async () => {
        const [opener] = members;
        const breaker: BreakerSpec = {
          name: 'first-call',
          consecutiveFailures: 2,
          openDuration: 60_000,
        };
        await callOk(opener, breaker);
        expect((await opener.request({ op: 'open', breaker, failures: 2 })).openedAt).toEqual(
          expect.any(Number),
        );

        const [newcomer] = await FleetMember.start(server.url, ['newcomer']);
        const first = await newcomer.request({ op: 'call', breaker, behaviour: {} });
        expect(first).toMatchObject({
          ok: false,
          ran: false,
          error: { code: 'STEADFAST_CIRCUIT_OPEN', state: 'open', circuit: 'first-call' },
        });
        expect((first.error as { retryAfter: number }).retryAfter).toBeGreaterThan(50_000);
        expect(await newcomer.request({ op: 'state', breaker })).toMatchObject({
          state: 'open',
          bodies: 0,
        });
        // It ends by itself once its store is closed: nothing of the library holds it open.
        expect(await newcomer.end()).toBe(0);
        expect(newcomer.lines.some((line) => line.exit === 'closed')).toBe(true);
      });

      it('admits halfOpenMaxCalls trial calls across the whole fleet, not per process', async () => {
        await expectFleetWideTrials(members, figures);
      });

      it(`carries isolate() and reset() from one process to the others within ${PROPAGATION_LIMIT_MS} ms`, async () => {
        await expectIsolateAndResetCarried(members, figures, PROPAGATION_LIMIT_MS);
      });

      it('carries isolate() to the fleet even from a process that has not called through the breaker yet', async () => {
        const breaker: BreakerSpec = {
          name: 'isolated-by-newcomer',
          consecutiveFailures: 5,
          openDuration: 30_000,
        };
        const [caller, , , operator] = members;
        await callOk(caller, breaker);
        const watching = caller.request({
          op: 'poll',
          breaker,
          until: 'rejected',
          every: 5,
          timeout: 1_500,
        });
        await pause(80);
        // member-4 has never touched this breaker: an operator's admin endpoint, say.
        const isolated = await operator.request({ op: 'isolate', breaker });
        const seen = await watching;
        expect(seen).toMatchObject({ state: 'isolated' });
        expect((seen.at as number) - (isolated.at as number)).toBeLessThanOrEqual(
          PROPAGATION_LIMIT_MS,
        );
      });
    });

    describe('Redis restarted with persistence', () => {
      // A server of its own, with AOF (fsync always): the shared server above runs without
      // persistence, as Redis does by default, so that fsync does not weigh on the propagation figures.
      let persistent: RedisServer;
      beforeAll(async () => {
        persistent = await RedisServer.start({ persistent: true });
      });
      afterAll(async () => {
        await persistent?.stop();
      });

      it('keeps an open breaker and a completed idempotency record: a new process sees both after the restart', async () => {
        const breaker: BreakerSpec = {
          name: 'persisted',
          consecutiveFailures: 2,
          openDuration: 120_000,
        };
        const [before] = await FleetMember.start(persistent.url, ['before-restart']);
        await callOk(before, breaker);
        expect((await before.request({ op: 'open', breaker, failures: 2 })).openedAt).toEqual(
          expect.any(Number),
        );
        const recorded = await before.request({
          op: 'keyed',
          key: 'persisted-order',
          payload: { order: 77 },
          behaviour: { push: 'persisted-runs' },
        });
        expect(recorded).toMatchObject({ ok: true, ran: true });
        expect(await before.end()).toBe(0);

        await persistent.kill();
        await persistent.launch();

        const [after] = await FleetMember.start(persistent.url, ['after-restart']);
        const call = await after.request({ op: 'call', breaker, behaviour: {} });
        expect(call).toMatchObject({
          ok: false,
          ran: false,
          error: { code: 'STEADFAST_CIRCUIT_OPEN', state: 'open' },
        });
        const replayed = await after.request({
          op: 'keyed',
          key: 'persisted-order',
          payload: { order: 77 },
          behaviour: { push: 'persisted-runs' },
        });
        expect(replayed).toMatchObject({ ok: true, ran: false });
        expect(replayed.value).toEqual(recorded.value);
        const counter = new Redis(persistent.url);
        try {
          expect(await counter.lrange('persisted-runs', 0, -1)).toEqual([String(before.pid)]);
        } finally {
          counter.disconnect();
        }
        expect(await after.end()).toBe(0);
      }, 120_000);
    });

    describe('Redis down', () => {
      it('keeps breaker calls succeeding on local state, follows the fleet again after Redis returns, and applies onStoreError to keyed calls', async () => {
        const [member, operator] = members;
        const { followed, local } = OUTAGE_BREAKERS;
        await callOk(member, followed);
        await callOk(member, local);

        await server.kill();
        const killedAt = Date.now();
        await expectLocalStateWhileDown(member, figures, 2_000);

        await server.launch();
        const launchedAt = Date.now();
        figures.outageMs = launchedAt - killedAt;

        // Calls drive the resync (a second after the last failure): the locally open breaker follows
        // the fleet's (closed) state again.
        const reopened = await member.request({
          op: 'poll',
          breaker: local,
          until: 'success',
          every: 20,
          timeout: 6_000,
        });
        expect(reopened.timedOut).toBeUndefined();
        expect(await member.lineMatching(recovered('outage-local'), 1_000)).toBeDefined();

        const watching = member.request({
          op: 'poll',
          breaker: followed,
          until: 'rejected',
          every: 5,
          timeout: 8_000,
        });
        const back = await member.lineMatching(recovered('outage'), 6_000);
        expect(back).toBeDefined();
        figures.resyncAfterRestartMs = (back?.at as number) - launchedAt;
        await pause(50);
        await callOk(operator, followed);
        const isolated = await operator.request({ op: 'isolate', breaker: followed });
        const seen = await watching;
        expect(seen).toMatchObject({ state: 'isolated' });
        figures.isolateAfterRestartPropagationMs = (seen.at as number) - (isolated.at as number);
        expect((seen.at as number) - (isolated.at as number)).toBeLessThanOrEqual(
          PROPAGATION_LIMIT_MS,
        );
        // And keyed calls work again.
        expect(
          await member.request({ op: 'keyed', key: 'after-outage', payload: {} }),
        ).toMatchObject({ ok: true, ran: true });
      }, 60_000);
    });
  },
);
