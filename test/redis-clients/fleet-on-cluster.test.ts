import Redis, { Cluster } from 'ioredis';
import { decoratorMode } from '../support/harness';
import { RedisCluster } from '../support/redis-cluster';
import {
  FleetMember,
  fleetClient,
  killRunningMembers,
  median,
  pause,
  type BreakerSpec,
} from '../redis/fleet-member';
import {
  expectFleetWideTrials,
  expectIsolateAndResetCarried,
  expectLocalStateWhileDown,
  OUTAGE_BREAKERS,
  recovered,
} from '../redis/fleet-scenarios';
import { describeWithCluster } from '../support/describe-with-cluster';

/** The documented propagation bound is 100 ms; the tests allow 150 for a busy CI machine, as on one Redis. */
const PROPAGATION_LIMIT_MS = 150;
/**
 * A member whose open breaker missed a published reset reads the fleet's state at most once a second
 * while it refuses calls (documented: it follows within about a second of its calls); the test
 * allows 3 000 ms on a loaded 2-core machine.
 */
const MISSED_RESET_LIMIT_MS = 3_000;
/** The members' stores batch with the default flushInterval. */
const FLUSH_INTERVAL_MS = 25;

// The multi-process fleet suite of test/redis (fleet, fleet-budget), on a real three-primary Redis
// Cluster on 127.0.0.1: every member is a child process whose store speaks through a cluster client
// (ioredis Cluster in the legacy project, node-redis createCluster in the standard one). The names
// used hash to slots on every node. Four members, transpiled once, are shared by the scenarios; the
// whole-Cluster outage runs last, since the nodes come back empty.
describeWithCluster(
  `a fleet on a Redis Cluster (${decoratorMode} decorators, members on ${fleetClient} cluster clients)`,
  () => {
    let cluster: RedisCluster;
    let inspect: Cluster;
    let members: FleetMember[] = [];
    const figures: Record<string, unknown> = {};

    beforeAll(async () => {
      cluster = await RedisCluster.start();
      inspect = new Cluster(cluster.seeds);
      inspect.on('error', () => undefined);
      members = await FleetMember.start(
        { clusterUrls: cluster.urls },
        ['member-1', 'member-2', 'member-3', 'member-4'],
        { precompiled: true },
      );
    }, 120_000);

    afterEach(async () => {
      await killRunningMembers(members);
    });

    afterAll(async () => {
      figures.sharedMemberExitCodes = await Promise.all(members.map((member) => member.end()));
      await killRunningMembers();
      inspect?.disconnect();
      await cluster?.stop();
      console.log(
        `fleet-on-cluster figures (${decoratorMode} decorators, ${fleetClient}): ${JSON.stringify(figures, null, 1)}`,
      );
    }, 30_000);

    /** How many of the Cluster's nodes hold a key matching `pattern`. */
    async function nodesHolding(pattern: string): Promise<number> {
      let holding = 0;
      for (const url of cluster.urls) {
        const node = new Redis(url);
        try {
          if ((await node.keys(pattern)).length > 0) holding++;
        } finally {
          node.disconnect();
        }
      }
      return holding;
    }

    const callOk = async (member: FleetMember, breaker: BreakerSpec): Promise<void> => {
      expect(await member.request({ op: 'call', breaker, behaviour: {} })).toMatchObject({
        ok: true,
        ran: true,
      });
    };

    it('runs each body exactly once when 4 processes race on 8 keys spread over the nodes, and all get the same result', async () => {
      const duplicateWaitMs: number[] = [];
      for (let round = 1; round <= 2; round++) {
        const keys = Array.from({ length: 8 }, (_, index) => `race-${round}-${index}`);
        // One list a round: a member's concurrent keyed calls share one behaviour.
        const list = `race-runs-${round}`;
        const at = Date.now() + 400;
        const races = keys.map((key) =>
          Promise.all(
            members.map((member) =>
              member.request({
                op: 'keyed',
                key,
                payload: { round, key },
                at,
                behaviour: { sleep: 100, push: list },
              }),
            ),
          ),
        );
        const runnerPids: string[] = [];
        for (const [index, replies] of (await Promise.all(races)).entries()) {
          expect(replies.map((reply) => reply.ok)).toEqual([true, true, true, true]);
          const runners = replies.filter((reply) => reply.ran === true);
          expect(runners).toHaveLength(1);
          for (const reply of replies) expect(reply.value).toEqual(runners[0].value);
          const runnerPid = members[replies.indexOf(runners[0])].pid;
          expect(runners[0].value).toMatchObject({
            by: runnerPid,
            payload: { round, key: keys[index] },
          });
          runnerPids.push(String(runnerPid));
          // The duplicates really overlapped the run: they started before it ended and waited for it.
          for (const duplicate of replies.filter((reply) => reply.ran !== true)) {
            expect(duplicate.startedAt as number).toBeLessThan(runners[0].at as number);
            duplicateWaitMs.push((duplicate.at as number) - (duplicate.startedAt as number));
          }
        }
        expect((await inspect.lrange(list, 0, -1)).sort()).toEqual(runnerPids.sort());
      }
      figures.raceDuplicateWaitMedianMs = median(duplicateWaitMs);
      // The race's 16 records (the first in this Cluster; their keys are hashes) are on several nodes.
      const holding = await nodesHolding('steadfast:idempotency:*');
      figures.raceRecordNodes = holding;
      expect(holding).toBeGreaterThan(1);
    });

    it(`rejects in another process within ${PROPAGATION_LIMIT_MS} ms of an opening, with the breakers on every node (documented bound: 100 ms)`, async () => {
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
      // The five breakers' hash tags fall on all three nodes: the opening is published from each.
      expect(await nodesHolding('steadfast:circuit:{propagation-*}')).toBe(3);
    });

    it('admits halfOpenMaxCalls trial calls across the whole fleet, not per process', async () => {
      await expectFleetWideTrials(members, figures);
    });

    it(`carries isolate() and reset() from one process to the others within ${PROPAGATION_LIMIT_MS} ms`, async () => {
      await expectIsolateAndResetCarried(members, figures, PROPAGATION_LIMIT_MS);
    });

    /** How many connections in pub/sub mode the Cluster's nodes hold together. */
    async function subscriberConnections(): Promise<number> {
      let count = 0;
      for (const url of cluster.urls) {
        const node = new Redis(url);
        try {
          const list = String(await node.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
          count += list.split('\n').filter((line) => line.trim() !== '').length;
        } finally {
          node.disconnect();
        }
      }
      return count;
    }

    /** The URL of the node that holds `key`'s slot: the others answer MOVED. */
    async function nodeHoldingSlotOf(key: string): Promise<string> {
      for (const url of cluster.urls) {
        const node = new Redis(url);
        try {
          await node.exists(key);
          return url;
        } catch (error) {
          if (!String(error).includes('MOVED')) throw error;
        } finally {
          node.disconnect();
        }
      }
      throw new Error(`no node holds the slot of ${key}`);
    }

    /**
     * Keeps every member's subscription down for `ms`, so that what is published meanwhile is lost:
     * the node that publishes (`publisher`) has its pub/sub connections killed again and again; the
     * others kill theirs and pause their clients (CLIENT PAUSE ALL, in the same transaction), so a
     * subscriber that reconnects there cannot subscribe before the pause lapses. Both clients
     * subscribe again within a millisecond or so of a kill: killing alone lets some messages through.
     * Resolves, once started, with a promise of the number of connections killed.
     */
    async function holdSubscribersDown(
      publisher: string,
      ms: number,
    ): Promise<{ killed: Promise<number> }> {
      const killers = [new Redis(publisher), new Redis(publisher)];
      const pausers = cluster.urls.filter((url) => url !== publisher).map((url) => new Redis(url));
      await Promise.all([...killers, ...pausers].map((node) => node.ping()));
      const until = Date.now() + ms;
      const paused = pausers.map(async (pauser) => {
        const replies = await pauser
          .multi()
          .call('CLIENT', 'KILL', 'TYPE', 'pubsub')
          .call('CLIENT', 'PAUSE', String(ms), 'ALL')
          .exec();
        return Number(replies?.[0]?.[1] ?? 0);
      });
      const killing = killers.map(async (killer) => {
        let killed = 0;
        while (Date.now() < until)
          killed += Number(await killer.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
        return killed;
      });
      const killed = Promise.all([...paused, ...killing]).then((counts) => {
        for (const node of [...killers, ...pausers]) node.disconnect();
        return counts.reduce((sum, count) => sum + count, 0);
      });
      return { killed };
    }

    it(`follows a reset() whose published message it missed (its subscriptions held down on every node meanwhile) within ${MISSED_RESET_LIMIT_MS} ms, on its calls (documented: about a second)`, async () => {
      const [, , operator, observer] = members;
      const trials: Record<string, unknown>[] = [];
      // Set before the trials: a failing trial's figures are printed too.
      figures.missedReset = trials;
      const publishers = new Set<string>();
      let candidate = 0;
      // A trial in which pub/sub still delivered the reset proves nothing: up to 3, until one missed
      // it. Each trial's breaker is on another node (node-redis resubscribes on the same node).
      for (let trial = 1; trial <= 3; trial++) {
        let name: string;
        let publisher: string;
        do {
          name = `missed-reset-${++candidate}`;
          publisher = await nodeHoldingSlotOf(`steadfast:circuit:{${name}}`);
        } while (publishers.has(publisher));
        publishers.add(publisher);
        const breaker: BreakerSpec = { name, consecutiveFailures: 3, openDuration: 60_000 };
        await callOk(observer, breaker);
        await callOk(operator, breaker);
        const subscribers = await subscriberConnections();
        const opened = await observer.request({ op: 'open', breaker, failures: 3 });
        expect(typeof opened.openedAt).toBe('number');
        const from = observer.lines.length;
        // The observer calls every 100 ms from its opening on: refused until it follows the reset.
        const following = observer.request(
          { op: 'poll', breaker, until: 'success', every: 100, timeout: 6_000 },
          10_000,
        );
        // The reset comes about 1.2 s after the opening: the observer has read the state once by then.
        await pause(1_000);
        const held = await holdSubscribersDown(publisher, 700);
        await pause(200);
        const reset = await operator.request({ op: 'reset', breaker });
        expect(reset.state).toBe('closed');
        const killed = await held.killed;
        const seen = await following;
        const closed = observer.lines
          .slice(from)
          .find(
            (line) =>
              line.event === 'stateChange' && line.circuit === breaker.name && line.to === 'closed',
          );
        // Pub/sub brings the operator's reason; a read of the fleet's state brings its own.
        const missed = closed?.reason !== 'reset by hand';
        const followMs = (seen.at as number) - (reset.at as number);
        trials.push({
          missedByPubSub: missed,
          followedBy: closed?.reason ?? 'nothing: still refusing',
          followMs: seen.timedOut === true ? 'never' : followMs,
          refusedAfterReset: (seen.lastRefusedAt as number) > (reset.at as number),
          killedConnections: killed,
        });
        expect(seen.timedOut).toBeUndefined();
        expect(seen.others).toEqual([]);
        expect(followMs).toBeLessThanOrEqual(MISSED_RESET_LIMIT_MS);
        // Every member subscribes again (the scenarios after this one count on pub/sub).
        const deadline = Date.now() + 10_000;
        while ((await subscriberConnections()) < subscribers) {
          if (Date.now() > deadline) throw new Error('the members did not all subscribe again');
          await pause(50);
        }
        if (missed) break;
      }
      if (!trials.some((trial) => trial.missedByPubSub === true))
        console.log(
          `missed-reset scenario (${fleetClient}): pub/sub delivered the reset in all ${trials.length} trials, so the read while refusing was not exercised`,
        );
    }, 60_000);

    it("shares one named retry budget: one process's retries use it up for the others", async () => {
      // ratio 0: the floor alone, 20 retries in a window of 20 s (1 a second).
      const budget = { name: 'storm', ratio: 0, minPerSecond: 1, window: 20_000 };
      const control = { name: 'storm-control', ratio: 0, minPerSecond: 1, window: 20_000 };
      const [spender, second, third] = members;
      // Each process's first call hears from the fleet (its batch is urgent when it has never heard).
      for (const member of [spender, second, third]) {
        expect(await member.request({ op: 'retried', budget, count: 1 })).toMatchObject({ ok: 1 });
        expect(await member.request({ op: 'retried', budget: control, count: 1 })).toMatchObject({
          ok: 1,
        });
      }
      for (const member of [spender, second, third]) {
        const deadline = Date.now() + 5_000;
        while ((await member.request({ op: 'budget', budget })).following !== 'fleet') {
          if (Date.now() > deadline) throw new Error(`${member.label} never heard from the fleet`);
          await pause(20);
        }
      }
      // 20 failing calls in one process: all 20 retries fit the budget.
      expect(await spender.request({ op: 'retried', budget, count: 20, fail: true })).toMatchObject(
        { calls: 20, retries: 20, refused: 0, otherErrors: [] },
      );
      // Its batch (urgent: it has retries) reaches Redis within flushInterval. The others learn of it
      // with their next batch: one call each, its counts sent within 20 × flushInterval.
      await pause(FLUSH_INTERVAL_MS + 50);
      const learnedMs: number[] = [];
      for (const member of [second, third]) {
        const calledAt = Date.now();
        expect(await member.request({ op: 'retried', budget, count: 1 })).toMatchObject({ ok: 1 });
        let view = await member.request({ op: 'budget', budget });
        while (view.retries !== 20 && Date.now() < calledAt + 3_000) {
          await pause(10);
          view = await member.request({ op: 'budget', budget });
        }
        expect(view).toMatchObject({ following: 'fleet', retries: 20 });
        learnedMs.push(Date.now() - calledAt);
        expect(Date.now() - calledAt).toBeLessThanOrEqual(21 * FLUSH_INTERVAL_MS + 250);
      }
      const results = await Promise.all(
        [second, third].map((member) =>
          member.request({ op: 'retried', budget, count: 5, fail: true }),
        ),
      );
      for (const result of results)
        expect(result).toMatchObject({ calls: 5, retries: 0, refused: 5, otherErrors: [] });
      // Another budget, of the same size, is untouched.
      expect(
        await second.request({ op: 'retried', budget: control, count: 5, fail: true }),
      ).toMatchObject({ retries: 5, refused: 0 });
      figures.budget = { spent: 20, learnedMs, second: results[0], third: results[1] };
    }, 30_000);

    // Last: the nodes come back without what they held (no persistence), only their nodes.conf.
    it('keeps breaker calls succeeding on local state while every node is down, follows the fleet again once the Cluster is back, and applies onStoreError to keyed calls', async () => {
      const [member, operator] = members;
      const { followed, local } = OUTAGE_BREAKERS;
      await callOk(member, followed);
      await callOk(member, local);

      await cluster.kill();
      const killedAt = Date.now();
      await expectLocalStateWhileDown(member, figures, 3_000);

      await cluster.restart();
      const readyAt = Date.now();
      figures.outageMs = readyAt - killedAt;

      // Calls drive the resync: the locally open breaker follows the fleet's (closed) state again,
      // once the client has found the restarted nodes.
      const reopened = await member.request(
        { op: 'poll', breaker: local, until: 'success', every: 20, timeout: 15_000 },
        20_000,
      );
      expect(reopened.timedOut).toBeUndefined();
      expect(await member.lineMatching(recovered('outage-local'), 2_000)).toBeDefined();

      const watching = member.request(
        { op: 'poll', breaker: followed, until: 'rejected', every: 5, timeout: 20_000 },
        25_000,
      );
      const back = await member.lineMatching(recovered('outage'), 15_000);
      expect(back).toBeDefined();
      figures.resyncAfterRestartMs = (back?.at as number) - readyAt;
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
      expect(await member.request({ op: 'keyed', key: 'after-outage', payload: {} })).toMatchObject(
        { ok: true, ran: true },
      );
    }, 90_000);
  },
);
