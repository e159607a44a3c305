import Redis from 'ioredis';
import { CircuitBreaker, CircuitOpenError, configure, MemoryStore } from '../../src';
import { RedisStore } from '../../src/redis';
import { BREAKER_IDLE_TTL_MS, FLEET, MAX_WINDOW_BATCHES } from '../../src/stores/redis-scripts';
import { decoratorMode, useHarness } from '../support/harness';
import { RedisServer } from '../support/redis-server';
import { describeWithRedis } from '../support/describe-with-redis';
import { breakerNamed, rejectionOf, uniqueCircuit } from '../breaker/support';

const realDelay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (really) until `condition` holds, for work that goes through Redis; fails saying `what`. */
async function until(condition: () => boolean, what: string, withinMs = 3_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${withinMs} ms`);
    await realDelay(2);
  }
}

/** One breaker entry's reply, as the fleet script gives it. */
interface EntryReply {
  state: string;
  epoch: number;
  calls: number;
  failures: number;
  slowCalls: number;
  consecutive: number;
  reason: string;
  flags: number;
}

/** A breaker's state as its hash keeps it packed: what the script reads and writes each run. */
const HEADER_BYTES = 27 * 8;

// The fleet's script driven directly (its time is an argument: no waiting), and breakers in this
// process on a real redis-server: batches, the store's clock, key sizes.
describeWithRedis(`fleet batches (${decoratorMode} decorators)`, () => {
  let server: RedisServer;
  let inspect: Redis;
  const stores: RedisStore[] = [];
  const track = (store: RedisStore): RedisStore => (stores.push(store), store);

  beforeAll(async () => {
    server = await RedisServer.start();
    inspect = new Redis(server.url);
  });
  afterEach(async () => {
    configure({ store: new MemoryStore() });
    while (stores.length > 0) await stores.pop()?.close();
  });
  afterAll(async () => {
    await inspect.quit();
    await server.stop();
  });

  /** Runs one entry of the fleet script for breaker `name` at time `now`, as reporter `reporter`. */
  async function entry(
    name: string,
    settings: string,
    now: number,
    reporter: string,
    op: string,
    epoch: number,
    ...args: (string | number)[]
  ): Promise<EntryReply> {
    const base = `script:circuit:{${name}}`;
    const fields = [name, epoch, 7, settings, ...args];
    const reply = (await inspect.eval(
      FLEET,
      2,
      base,
      `${base}:reporters`,
      now,
      'script:changes',
      reporter,
      op,
      2,
      fields.length,
      ...fields,
    )) as unknown[][];
    const [state, replyEpoch, , , , calls, failures, slowCalls, consecutive, , reason, flags] =
      reply[0] as [string, ...number[]];
    return {
      state,
      epoch: replyEpoch,
      calls,
      failures,
      slowCalls,
      consecutive,
      reason: reason as unknown as string,
      flags,
    };
  }

  /** A batch of `calls` outcomes whose failures are the given ones, in order ('F' failure, 'S' success). */
  const batchOf = (outcomes: string): number[] => {
    let lead = 0;
    let trail = 0;
    let run = 0;
    for (const [index, outcome] of [...outcomes].entries()) {
      if (outcome === 'F') {
        if (lead === index) lead++;
        run = Math.max(run, ++trail);
      } else trail = 0;
    }
    const failures = [...outcomes].filter((outcome) => outcome === 'F').length;
    return [outcomes.length, failures, 0, lead, trail, run];
  };

  describe('a count window under aggregation', () => {
    // count window of 10 calls, failure rate 0.5, minimumCalls 10
    const settings = 'count,10,0,0,,0.5,10,,1,1,60000';

    it('holds exactly the last `size` calls, trimming the oldest batch in proportion, and opens after the batch that reaches the threshold', async () => {
      const name = uniqueCircuit('aggregated');
      expect(
        await entry(name, settings, 0, 'p', 'record', 0, ...batchOf('S'.repeat(10))),
      ).toMatchObject({ state: 'closed', calls: 10, failures: 0 });
      // 4 failures: the window is the last 6 of those successes and them: 4/10.
      expect(await entry(name, settings, 0, 'p', 'record', 0, ...batchOf('FFFF'))).toMatchObject({
        state: 'closed',
        calls: 10,
        failures: 4,
      });
      // One more: 5/10 reaches 0.5.
      const opened = await entry(name, settings, 0, 'p', 'record', 0, ...batchOf('F'));
      expect(opened).toMatchObject({ state: 'open', epoch: 1 });
      expect(opened.reason).toBe('failure rate 5/10 (fleet)');
    });

    it('judges a batch whole: failures followed, in the same batch, by enough successes do not open it', async () => {
      const name = uniqueCircuit('diluted');
      const wide = 'count,100,0,0,,0.5,10,,1,1,60000';
      // Judged call by call, the window would have opened at the 10th call (10 failures of 10).
      const reply = await entry(
        name,
        wide,
        0,
        'p',
        'record',
        0,
        ...batchOf(`${'F'.repeat(10)}${'S'.repeat(90)}`),
      );
      expect(reply).toMatchObject({ state: 'closed', calls: 100, failures: 10 });
    });

    it('prorates the failures of the batch that straddles the window edge, rounded to whole calls', async () => {
      const name = uniqueCircuit('prorated');
      const settings = 'count,10,0,0,,1,10,,1,1,60000';
      await entry(name, settings, 0, 'p', 'record', 0, ...batchOf('FSFSFSFSFF'));
      // 5 new successes push out half of the first batch: 6 failures × 5/10 stay.
      expect(await entry(name, settings, 0, 'p', 'record', 0, ...batchOf('SSSSS'))).toMatchObject({
        calls: 10,
        failures: 3,
      });
      // 3 more: 3 failures × 2/5 = 1.2, rounded to 1, stay.
      expect(await entry(name, settings, 0, 'p', 'record', 0, ...batchOf('SSS'))).toMatchObject({
        calls: 10,
        failures: 1,
      });
    });

    it(`keeps at most ${MAX_WINDOW_BATCHES} aggregates, merging the oldest, with totals still exact`, async () => {
      const name = uniqueCircuit('merged');
      const large = 'count,1000,0,0,,1,10,,1,1,60000';
      let reply: EntryReply | undefined;
      for (let batch = 0; batch < 100; batch++)
        reply = await entry(name, large, 0, 'p', 'record', 0, ...batchOf(batch % 2 ? 'FS' : 'SS'));
      expect(reply).toMatchObject({ state: 'closed', calls: 200, failures: 50 });
      const blob = await inspect.hgetBuffer(`script:circuit:{${name}}`, 'b');
      expect(blob?.length).toBe(HEADER_BYTES + MAX_WINDOW_BATCHES * 24);
    });

    it('runs the consecutive-failures rule across batches as it would call by call', async () => {
      const name = uniqueCircuit('consecutive');
      const rule = 'count,100,0,0,4,,10,,1,1,60000';
      // A run of 2 at the end of one batch and 2 at the start of the next: 4 in a row.
      expect(await entry(name, rule, 0, 'p', 'record', 0, ...batchOf('SSFF'))).toMatchObject({
        state: 'closed',
        consecutive: 2,
      });
      expect(await entry(name, rule, 0, 'q', 'record', 0, ...batchOf('FFSS'))).toMatchObject({
        state: 'open',
        reason: '4 consecutive failures (fleet)',
      });
      // A run inside one batch counts too; a success between runs ends them.
      const other = uniqueCircuit('consecutive-inside');
      expect(await entry(other, rule, 0, 'p', 'record', 0, ...batchOf('FFFSFFF'))).toMatchObject({
        state: 'closed',
        consecutive: 3,
      });
      expect(await entry(other, rule, 0, 'p', 'record', 0, ...batchOf('SFFFFS'))).toMatchObject({
        state: 'open',
      });
    });
  });

  describe('the quorum', () => {
    it("counts a process's failures while they are in a count window, and opens only on failures from `quorum` processes", async () => {
      const name = uniqueCircuit('quorum-count');
      const settings = 'count,10,0,0,,0.5,4,,1,2,60000';
      const a = await entry(name, settings, 0, 'a', 'record', 0, ...batchOf('FFFFF'));
      expect(a).toMatchObject({ state: 'closed', failures: 5 });
      expect(a.flags & 4).toBe(4);
      // b's successes push a's failures out of the window: a no longer counts.
      await entry(name, settings, 0, 'b', 'record', 0, ...batchOf('S'.repeat(10)));
      expect(await inspect.hkeys(`script:circuit:{${name}}:reporters`)).toEqual([]);
      const alone = await entry(name, settings, 0, 'b', 'record', 0, ...batchOf('FFFFF'));
      expect(alone).toMatchObject({ state: 'closed', failures: 5 });
      expect(alone.flags & 4).toBe(4);
      // a fails again while b's failures are in the window: two processes.
      const both = await entry(name, settings, 0, 'a', 'record', 0, ...batchOf('F'));
      expect(both).toMatchObject({ state: 'open' });
      expect(both.reason).toBe('failure rate 6/10 from 2 processes (fleet)');
    });

    it("counts a process's failures for the length of a time window", async () => {
      const settings = 'time,1000,10,100,,0.5,4,,1,2,60000';
      const late = uniqueCircuit('quorum-time-late');
      await entry(late, settings, 10_000, 'a', 'record', 0, ...batchOf('FFFFF'));
      // 1.5 s later, a's failures have left the 1 s window: b is alone.
      const alone = await entry(late, settings, 11_500, 'b', 'record', 0, ...batchOf('FFFFF'));
      expect(alone).toMatchObject({ state: 'closed', calls: 5 });
      expect(alone.flags & 4).toBe(4);
      const soon = uniqueCircuit('quorum-time-soon');
      await entry(soon, settings, 10_000, 'a', 'record', 0, ...batchOf('FFFFF'));
      expect(
        await entry(soon, settings, 10_500, 'b', 'record', 0, ...batchOf('FFFFF')),
      ).toMatchObject({ state: 'open', reason: 'failure rate 10/10 from 2 processes (fleet)' });
    });

    it('opens on consecutive failures only when the run holds failures from `quorum` processes', async () => {
      const name = uniqueCircuit('quorum-run');
      const settings = 'count,100,0,0,3,,10,,1,2,60000';
      const one = await entry(name, settings, 0, 'a', 'record', 0, ...batchOf('FFFFFF'));
      expect(one).toMatchObject({ state: 'closed', consecutive: 6 });
      expect(one.flags & 4).toBe(4);
      expect(await entry(name, settings, 0, 'b', 'record', 0, ...batchOf('F'))).toMatchObject({
        state: 'open',
        reason: '7 consecutive failures (fleet)',
      });
    });
  });

  describe('settings', () => {
    it('are parsed once: a batch without them is decided by the ones the hash holds, and a breaker the store lost asks for them', async () => {
      const name = uniqueCircuit('settings');
      const settings = 'count,10,0,0,2,,10,,1,1,60000';
      expect(await entry(name, '', 0, 'p', 'record', 0, ...batchOf('F'))).toMatchObject({
        flags: 2,
        calls: 0,
      });
      await entry(name, settings, 0, 'p', 'read', 0);
      expect(await entry(name, '', 0, 'p', 'record', 0, ...batchOf('F'))).toMatchObject({
        flags: 0,
        calls: 1,
      });
      expect(await entry(name, '', 0, 'p', 'record', 0, ...batchOf('F'))).toMatchObject({
        state: 'open',
      });
    });
  });

  describe('breakers in this process', () => {
    it("sends the outcomes of all of a process's breakers in one script run per flush", async () => {
      useHarness();
      const store = track(new RedisStore(server.url, { flushInterval: 50 }));
      configure({ store });
      const names = Array.from({ length: 10 }, (_, index) => uniqueCircuit(`batched-${index}`));
      const services = names.map((name) => {
        class Service {
          @CircuitBreaker({ name, consecutiveFailures: 5 })
          async call(fail: boolean): Promise<string> {
            if (fail) throw new Error('down');
            return 'ok';
          }
        }
        return new Service();
      });
      // First calls read each breaker's state (one round trip each); let their outcomes be sent.
      for (const service of services) await service.call(false);
      await realDelay(400);
      const before = await scriptRuns();
      for (let round = 0; round < 20; round++)
        for (const service of services) await service.call(round === 7).catch(() => undefined);
      await until(
        () => names.every((name) => breakerNamed(name).metrics().calls >= 21),
        'the batch',
      );
      expect((await scriptRuns()) - before).toBe(1);
      expect(breakerNamed(names[3]).metrics()).toMatchObject({ calls: 21, failures: 1 });
    });

    it("times openDuration by the store's clock option, so a FakeClock drives it", async () => {
      const h = useHarness();
      const store = track(new RedisStore(server.url, { clock: h.clock, flushInterval: 0 }));
      configure({ store });
      const name = uniqueCircuit('store-clock');
      let runs = 0;
      class Service {
        @CircuitBreaker({ name, consecutiveFailures: 1, openDuration: 1_000 })
        async call(fail: boolean): Promise<string> {
          runs++;
          if (fail) throw new Error('down');
          return 'ok';
        }
      }
      const service = new Service();
      await rejectionOf(service.call(true));
      await until(() => breakerNamed(name).state === 'open', 'the opening');
      expect(Number(await inspect.hget(`steadfast:circuit:{${name}}`, 'ou'))).toBe(
        h.clock.now() + 1_000,
      );
      await h.clock.advance(999);
      const refusal = await rejectionOf(service.call(false));
      expect(refusal).toBeInstanceOf(CircuitOpenError);
      expect((refusal as CircuitOpenError).retryAfter).toBe(1);
      expect(runs).toBe(1);
      await h.clock.advance(1);
      await expect(service.call(false)).resolves.toBe('ok');
      expect(runs).toBe(2);
      await until(() => breakerNamed(name).state === 'closed', 'the close');
    });

    it("keeps a breaker's keys within their documented sizes after 100,000 outcomes, each expiring", async () => {
      useHarness();
      const store = track(new RedisStore(server.url, { flushInterval: 1 }));
      configure({ store });
      const kinds = {
        consecutive: { consecutiveFailures: 5 },
        'large count window': {
          failureRate: { threshold: 1, window: { type: 'count' as const, size: 1_000_000 } },
          quorum: 2,
        },
        'time window': {
          failureRate: { threshold: 1, window: { type: 'time' as const, size: 60_000 } },
          quorum: 2,
        },
      };
      const services = Object.entries(kinds).map(([kind, options]) => {
        const name = uniqueCircuit(kind.replace(/ /g, '-'));
        class Service {
          @CircuitBreaker({ name, ...options })
          async call(fail: boolean): Promise<string> {
            if (fail) throw new Error('down');
            return 'ok';
          }
        }
        return { kind, name, service: new Service() };
      });
      // 1,000 batches of 100 outcomes per breaker, one in ten a failure (never 5 in a row).
      for (let round = 0; round < 1_000; round++) {
        for (const { service } of services)
          for (let call = 0; call < 100; call++)
            await service.call(call % 10 === 3).catch(() => undefined);
        await realDelay(round % 50 === 0 ? 5 : 0);
      }
      await realDelay(100);
      const sizes: Record<string, number> = {};
      for (const { kind, name } of services) {
        expect(breakerNamed(name).state).toBe('closed');
        const state = `steadfast:circuit:{${name}}`;
        const keys = await inspect.keys(`${state}*`);
        expect(keys.filter((key) => key !== state && key !== `${state}:reporters`)).toEqual([]);
        for (const key of keys) {
          const bytes = Number(await inspect.memory('USAGE', key));
          sizes[key === state ? kind : `${kind} (reporters)`] = bytes;
          // The documented bounds: the state hash under 1 KB; the reporters, 128 + 200 bytes a process (here one).
          expect(bytes).toBeLessThan(key === state ? 1_024 : 128 + 200 * 1);
          const ttl = await inspect.pttl(key);
          expect(ttl).toBeGreaterThan(BREAKER_IDLE_TTL_MS - 3_600_000);
          expect(ttl).toBeLessThanOrEqual(BREAKER_IDLE_TTL_MS);
        }
      }
      expect(breakerNamed(services[1].name).metrics()).toMatchObject({
        calls: 100_000,
        failures: 10_000,
      });
      console.log(`breaker key sizes after 100,000 outcomes (bytes): ${JSON.stringify(sizes)}`);
    }, 60_000);
  });

  async function scriptRuns(): Promise<number> {
    const stats = await inspect.info('commandstats');
    let calls = 0;
    for (const match of stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm))
      calls += Number(match[1]);
    return calls;
  }
});
