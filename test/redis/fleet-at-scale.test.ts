import Redis from 'ioredis';
import { decoratorMode } from '../support/harness';
import { RedisServer } from '../support/redis-server';
import { describeWithRedis } from '../support/describe-with-redis';
import {
  FleetMember,
  killRunningMembers,
  pause,
  type BreakerSpec,
  type Line,
  fleetClient,
} from './fleet-member';

/** How far the two skewed members' engine clocks are from the real one (and from each other: twice that). */
const SKEW_MS = 30_000;
/** How late after openDuration a trial may start on a loaded machine (members poll every 20 ms). */
const HALF_OPEN_SLACK_MS = 600;

const refusedState = (line: Line): string | undefined =>
  (line.error as { code?: string; state?: string } | undefined)?.code === 'STEADFAST_CIRCUIT_OPEN'
    ? (line.error as { state: string }).state
    : undefined;

// Real processes on one redis-server, in real time: clocks, quorums across processes and leases are
// about processes and time by nature. Each scenario is bounded to a few seconds.
describeWithRedis(
  `the fleet at scale (${decoratorMode} decorators, members on ${fleetClient})`,
  () => {
    let server: RedisServer;
    let inspect: Redis;
    let members: FleetMember[] = [];
    let ahead: FleetMember;
    let behind: FleetMember;
    const figures: Record<string, unknown> = {};

    beforeAll(async () => {
      server = await RedisServer.start();
      inspect = new Redis(server.url);
      inspect.on('error', () => undefined);
      const [plain, [aheadMember], [behindMember]] = await Promise.all([
        FleetMember.start(server.url, ['member-1', 'member-2', 'member-3'], { precompiled: true }),
        FleetMember.start(server.url, ['ahead'], {
          precompiled: true,
          env: { CLOCK_OFFSET_MS: String(SKEW_MS) },
        }),
        FleetMember.start(server.url, ['behind'], {
          precompiled: true,
          env: { CLOCK_OFFSET_MS: String(-SKEW_MS) },
        }),
      ]);
      members = plain;
      ahead = aheadMember;
      behind = behindMember;
    }, 180_000);

    afterEach(async () => {
      await killRunningMembers([...members, ahead, behind]);
    });

    afterAll(async () => {
      figures.exitCodes = await Promise.all(
        [...members, ahead, behind].map((member) => member.end()),
      );
      await killRunningMembers();
      inspect?.disconnect();
      await server?.stop();
      console.log(
        `fleet-at-scale figures (${decoratorMode} decorators): ${JSON.stringify(figures)}`,
      );
    }, 30_000);

    async function callOk(member: FleetMember, breaker: BreakerSpec): Promise<void> {
      expect(await member.request({ op: 'call', breaker, behaviour: {} }, 5_000)).toMatchObject({
        ok: true,
        ran: true,
      });
    }

    describe("Redis's clock", () => {
      it(`makes two processes whose engine clocks differ by ±${SKEW_MS / 1000} s agree on an openDuration of 1 s`, async () => {
        const breaker: BreakerSpec = {
          name: 'skewed-clocks',
          consecutiveFailures: 1,
          openDuration: 1_000,
        };
        for (const member of [ahead, behind]) await callOk(member, breaker);
        const opened = await ahead.request({ op: 'open', breaker, failures: 1 });
        expect(opened.openedAt).toEqual(expect.any(Number));
        const failedAt = opened.failedAt as number;
        const watched = await behind.request({
          op: 'watch',
          breaker,
          state: 'open',
          timeout: 2_000,
        });
        expect(watched).toMatchObject({ state: 'open' });

        // Both refuse with about 1 s to wait: not 31 s (behind the opener) nor nothing (ahead of it).
        const retryAfters: number[] = [];
        for (const member of [ahead, behind]) {
          const refused = await member.request({ op: 'call', breaker, behaviour: {} });
          expect(refusedState(refused)).toBe('open');
          const retryAfter = (refused.error as { retryAfter: number }).retryAfter;
          retryAfters.push(retryAfter);
          expect(retryAfter).toBeGreaterThan(500);
          expect(retryAfter).toBeLessThanOrEqual(1_000);
        }

        // Both call every 20 ms until a call runs: one is the fleet's trial, the other runs once it has closed.
        const polls = await Promise.all(
          [ahead, behind].map((member) =>
            member.request(
              { op: 'poll', breaker, until: 'success', every: 20, timeout: 5_000 },
              10_000,
            ),
          ),
        );
        for (const poll of polls) expect(poll).toMatchObject({ others: [] });
        expect(polls.map((poll) => poll.timedOut)).toEqual([undefined, undefined]);
        const trials = polls.filter((poll) => poll.bodyState === 'half-open');
        expect(trials).toHaveLength(1);
        const trialAt = trials[0].bodyStartedAt as number;
        expect(trialAt).toBeGreaterThanOrEqual(failedAt + 1_000);
        expect(trialAt).toBeLessThanOrEqual(
          (opened.openedAt as number) + 1_000 + HALF_OPEN_SLACK_MS,
        );
        // Neither saw the breaker refuse as open well past openDuration.
        for (const poll of polls)
          expect(poll.lastRefusedAt ?? 0).toBeLessThanOrEqual(trialAt + HALF_OPEN_SLACK_MS);
        figures.skewedClocks = {
          skewMs: SKEW_MS,
          retryAfters,
          trialAfterOpeningMs: trialAt - (opened.openedAt as number),
        };
      });
    });

    describe('quorum 2', () => {
      it('opens the breaker only in the process whose calls fail when the failures come from one process', async () => {
        const breaker: BreakerSpec = {
          name: 'quorum-one-process',
          consecutiveFailures: 3,
          quorum: 2,
          openDuration: 30_000,
        };
        const [faulty, healthy, watcher] = members;
        for (const member of members) await callOk(member, breaker);
        const linesBefore = faulty.lines.length;
        const watching = watcher.request({ op: 'watch', breaker, state: 'open', timeout: 800 });
        expect(
          await faulty.request({
            op: 'calls',
            breaker,
            count: 3,
            every: 0,
            behaviour: { fail: true },
          }),
        ).toMatchObject({ ok: 0, ran: 3 });

        // The faulty process stops calling at once, by itself…
        const refused = await faulty.request({ op: 'call', breaker, behaviour: {} });
        expect(refused).toMatchObject({ ran: false });
        expect(refusedState(refused)).toBe('open');
        const opening = await faulty.waitForLine(
          (line) =>
            line.event === 'stateChange' && line.circuit === breaker.name && line.to === 'open',
          2_000,
          `its breaker '${breaker.name}' opening`,
          linesBefore,
        );
        expect(opening.reason).toMatch(/this process only/);
        // …while the fleet stays closed: the others never see it open (the batch has long reached Redis).
        expect(await watching).toMatchObject({ timedOut: true, state: 'closed' });
        for (const member of [healthy, watcher]) await callOk(member, breaker);
        expect(await inspect.hget(`steadfast:circuit:{${breaker.name}}`, 'st')).not.toBe('open');
      });

      it('opens the breaker for the whole fleet when the failures come from two processes', async () => {
        const breaker: BreakerSpec = {
          name: 'quorum-two-processes',
          consecutiveFailures: 3,
          quorum: 2,
          openDuration: 30_000,
        };
        const [first, second, bystander] = members;
        for (const member of members) await callOk(member, breaker);
        // The successes above reach the fleet (within 20 × flushInterval: 500 ms) before the failures below.
        await pause(650);
        const watching = bystander.request({ op: 'watch', breaker, state: 'open', timeout: 3_000 });
        // Two failures each: fewer than the 3 either process would open on alone, 4 in a row for the fleet.
        for (const member of [first, second]) {
          expect(
            await member.request({
              op: 'calls',
              breaker,
              count: 2,
              every: 0,
              behaviour: { fail: true },
            }),
          ).toMatchObject({ ok: 0, ran: 2 });
        }
        expect(await watching).toMatchObject({ state: 'open' });
        const refused = await bystander.request({ op: 'call', breaker, behaviour: {} });
        expect(refused).toMatchObject({ ran: false });
        expect(refusedState(refused)).toBe('open');
        const opening = await bystander.waitForLine(
          (line) =>
            line.event === 'stateChange' && line.circuit === breaker.name && line.to === 'open',
          2_000,
          `seeing '${breaker.name}' open`,
        );
        expect(opening.reason).toMatch(/consecutive failures \(fleet\)/);
      });
    });

    describe('claims that outlive their lease', () => {
      it('runs a body that takes 5× its lease once, while duplicates call it from other processes', async () => {
        const [owner, ...duplicates] = members;
        const key = 'long-run';
        const list = 'long-run-bodies';
        const lease = 400;
        const at = Date.now() + 200;
        const options = { lease, wait: 5_000 };
        const run = owner.request(
          {
            op: 'keyed',
            key,
            payload: { order: 1 },
            at,
            options,
            behaviour: { sleep: 5 * lease, push: list },
          },
          15_000,
        );
        // Duplicates arrive during the run: before, and well after, the lease would have lapsed unrenewed.
        const calls = duplicates.flatMap((member, index) =>
          [300, 1_100].map((delay) =>
            member.request(
              {
                op: 'keyed',
                key,
                payload: { order: 1 },
                at: at + delay + index * 200,
                options,
                behaviour: { push: list },
              },
              15_000,
            ),
          ),
        );
        const [ran, ...duplicated] = await Promise.all([run, ...calls]);
        expect(ran).toMatchObject({ ok: true, ran: true, value: { by: owner.pid } });
        for (const reply of duplicated) {
          expect(reply).toMatchObject({ ok: true, ran: false });
          expect(reply.value).toEqual(ran.value);
          // Each started while the body ran (and waited for it).
          expect(reply.startedAt as number).toBeLessThan(ran.at as number);
        }
        expect(await inspect.lrange(list, 0, -1)).toEqual([String(owner.pid)]);
        expect(owner.lines.filter((line) => line.log === 'error')).toEqual([]);
        figures.longRun = {
          lease,
          bodyMs: (ran.at as number) - (ran.startedAt as number),
          duplicates: duplicated.length,
        };
      });

      it('lets one later call run once the owner was killed (kill -9), after its lease', async () => {
        const [doomed] = await FleetMember.start(server.url, ['doomed-owner'], {
          precompiled: true,
        });
        const [first, second] = members;
        const key = 'orphaned';
        const list = 'orphaned-bodies';
        const lease = 1_000;
        const options = { lease, wait: 3_000 };
        void doomed
          .request(
            {
              op: 'keyed',
              key,
              payload: {},
              options,
              behaviour: { sleep: 60_000, announce: true, push: list },
            },
            90_000,
          )
          .catch(() => undefined);
        await doomed.waitForLine(
          (line) => line.event === 'keyed-body' && line.key === key,
          5_000,
          'its keyed body starting',
        );
        doomed.kill();
        await doomed.whenExited();
        const killedAt = Date.now();

        // The claim holds for the rest of its lease: a duplicate now waits, then gives up.
        const early = await first.request({
          op: 'keyed',
          key,
          payload: {},
          options: { lease, wait: 200 },
        });
        expect(early).toMatchObject({
          ok: false,
          ran: false,
          error: { code: 'STEADFAST_IDEMPOTENCY_IN_PROGRESS' },
        });

        // After the lease, two processes call at once: exactly one runs the body, the other gets its result.
        const at = killedAt + lease + 300;
        const later = await Promise.all(
          [first, second].map((member) =>
            member.request(
              { op: 'keyed', key, payload: {}, at, options, behaviour: { push: list } },
              10_000,
            ),
          ),
        );
        for (const reply of later) expect(reply).toMatchObject({ ok: true });
        const runners = later.filter((reply) => reply.ran === true);
        expect(runners).toHaveLength(1);
        for (const reply of later) expect(reply.value).toEqual(runners[0].value);
        const runner = [first, second][later.indexOf(runners[0])];
        // The body never finished in the killed process: only the later run is on the list.
        expect(await inspect.lrange(list, 0, -1)).toEqual([String(runner.pid)]);
      }, 60_000);
    });
  },
);
