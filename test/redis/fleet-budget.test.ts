import Redis from 'ioredis';
import {
  configure,
  defaultEngine,
  Idempotent,
  MemoryStore,
  Retryable,
  systemClock,
} from '../../src';
import { RedisStore } from '../../src/redis';
import { BUDGET_DEFAULTS, type RetryBudgetSettings } from '../../src/runtime/budget/budget-options';
import type { FleetBudget } from '../../src/stores/fleet-budget';
import { FLEET } from '../../src/stores/redis-scripts';
import { RecordingLogger } from '../../src/testing';
import { decoratorMode } from '../support/harness';
import { RedisServer } from '../support/redis-server';
import { describeWithRedis } from '../support/describe-with-redis';
import { FleetMember, killRunningMembers, pause, fleetClient } from './fleet-member';

const FLUSH_INTERVAL_MS = 25;

const settingsOf = (name: string, options: Partial<RetryBudgetSettings>): RetryBudgetSettings => ({
  ...BUDGET_DEFAULTS,
  ...options,
  name,
});

const silent = { enabled: false, warn: () => undefined, error: () => undefined };

/** Waits (really) until `condition` holds. */
async function until(condition: () => boolean, withinMs: number, what: string): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${withinMs} ms`);
    await pause(1);
  }
}

describeWithRedis(
  `the fleet retry budget (${decoratorMode} decorators, members on ${fleetClient})`,
  () => {
    let server: RedisServer;
    let inspect: Redis;
    const figures: Record<string, unknown> = {};

    beforeAll(async () => {
      server = await RedisServer.start();
      inspect = new Redis(server.url);
      inspect.on('error', () => undefined);
    });

    afterAll(async () => {
      await killRunningMembers();
      inspect?.disconnect();
      await server?.stop();
      console.log(`fleet budget figures (${decoratorMode} decorators): ${JSON.stringify(figures)}`);
    }, 30_000);

    describe('the fleet script', () => {
      // The script takes the time as an argument: these drive it at chosen times, without waiting.
      const key = 'script-test:budget:{storm}';
      const run = async (
        now: number,
        calls: number,
        retries: number,
        window = 10_000,
        claim = 0,
      ): Promise<{
        flags: number;
        window: number;
        newest: number;
        totals: number[];
        pairs: number[];
      }> => {
        const entry = ['storm', window, claim, calls, retries];
        const reply = (await inspect.eval(
          FLEET,
          1,
          key,
          now,
          'script-test:changes',
          'tester',
          'budget',
          1,
          entry.length,
          ...entry,
        )) as unknown[][];
        const fields = reply[0] as number[];
        return {
          flags: fields[0],
          window: Number(fields[1]),
          newest: fields[2],
          totals: [fields[3], fields[4]],
          pairs: fields.slice(5),
        };
      };

      beforeEach(async () => {
        await inspect.del(key);
      });

      it('adds each batch to the bucket of its time and lets buckets fall out of the window', async () => {
        expect(await run(0, 10, 2, 10_000, 1)).toMatchObject({
          flags: 0,
          newest: 0,
          totals: [10, 2],
        });
        // 1 500 ms later: the second of 10 buckets of 1 000 ms.
        const later = await run(1_500, 5, 1);
        expect(later).toMatchObject({ newest: 1, totals: [15, 3] });
        expect(later.pairs.slice(0, 4)).toEqual([5, 1, 10, 2]);
        expect(later.pairs).toHaveLength(20);
        // At 9 999 both buckets are still in; at 10 000 bucket 0 falls out; at 11 000 bucket 1 too.
        expect((await run(9_999, 0, 0)).totals).toEqual([15, 3]);
        expect((await run(10_000, 1, 0)).totals).toEqual([6, 1]);
        expect((await run(11_000, 0, 0)).totals).toEqual([1, 0]);
        // A window and more without a batch: nothing is left.
        expect(await run(30_000, 0, 1)).toMatchObject({ newest: 30, totals: [0, 1] });
      });

      it('keeps one key of fixed size that expires a window (+ 1 s) after its last batch', async () => {
        for (let i = 0; i < 200; i++) await run(i * 97, 1_000, 100, 10_000, i === 0 ? 1 : 0);
        expect(await inspect.strlen(key)).toBe(25 * 8);
        const pttl = await inspect.pttl(key);
        expect(pttl).toBeGreaterThan(10_000);
        expect(pttl).toBeLessThanOrEqual(11_000);
        expect(await inspect.keys('script-test:budget:*')).toEqual([key]);
      });

      it("counts by the window written last: a process's first batch writes its own, later ones are counted in it", async () => {
        await run(0, 10, 1, 10_000, 1);
        // Another window, not a first batch: counted in the stored window, and said so.
        expect(await run(100, 1, 0, 5_000, 0)).toMatchObject({
          flags: 1,
          window: 10_000,
          totals: [11, 1],
        });
        // A first batch with another window: it replaces the stored one (whose counts mean nothing to it).
        expect(await run(200, 2, 0, 5_000, 1)).toMatchObject({
          flags: 0,
          window: 5_000,
          totals: [2, 0],
        });
      });

      it('answers a budget entry beside breaker entries in one run, and a key of another type without failing the batch', async () => {
        await inspect.hset(key, 'planted', '1');
        const breakerBase = 'script-test:circuit:{beside}';
        const breakerEntry = ['beside', 0, 1, 'count,10,0,0,1,,1,,2,1,1000', 1, 0, 0, 0, 0, 0];
        const other = 'script-test:budget:{other}';
        await inspect.del(breakerBase, `${breakerBase}:reporters`, other);
        const budgetEntry = ['other', 10_000, 1, 3, 1];
        const reply = (await inspect.eval(
          FLEET,
          4,
          key,
          breakerBase,
          `${breakerBase}:reporters`,
          other,
          5_000,
          'script-test:changes',
          'tester',
          'budget',
          1,
          5,
          'storm',
          10_000,
          1,
          1,
          1,
          'record',
          2,
          breakerEntry.length,
          ...breakerEntry,
          'budget',
          1,
          budgetEntry.length,
          ...budgetEntry,
        )) as unknown[][];
        expect(reply[0]).toEqual(['wrong-type']);
        expect(reply[1][0]).toBe('closed');
        expect((reply[2] as number[]).slice(3, 5)).toEqual([3, 1]);
        expect(reply[3]).toBe(5_000);
        expect(await inspect.hget(key, 'planted')).toBe('1');
        await inspect.del(breakerBase, `${breakerBase}:reporters`, other);
      });
    });

    describe('between stores', () => {
      // Two stores are two processes of the fleet (each its own reporter, its own batches).
      let stores: RedisStore[] = [];
      afterEach(async () => {
        await Promise.all(stores.map((store) => store.close()));
        stores = [];
      });

      const budgetsOn = (name: string, settings: Partial<RetryBudgetSettings>): FleetBudget[] => {
        stores = [new RedisStore(server.url), new RedisStore(server.url)];
        return stores.map((store) =>
          store.createBudget(name, settingsOf(name, settings), () => performance.now(), silent),
        );
      };

      const synced = async (budgets: FleetBudget[]): Promise<void> => {
        for (const budget of budgets) budget.callStarted(performance.now());
        await until(
          () => budgets.every((budget) => budget.following === 'fleet'),
          2_000,
          'every budget hearing from the fleet',
        );
      };

      it("sees another process's retries within 2 × flushInterval + 2 round trips while it retries itself", async () => {
        // A floor far above what is spent: nothing is refused; only what each process sees is measured.
        const [a, b] = budgetsOn('exact-retrying', { ratio: 0, minPerSecond: 1_000 });
        await synced([a, b]);
        const delays: number[] = [];
        for (let round = 1; round <= 5; round++) {
          // b retries every 5 ms, as a process in a storm does: its batches go every flushInterval.
          const before = b.usage(performance.now()).retries;
          let ownRetries = 0;
          const retrying = setInterval(() => {
            if (b.tryRetry(performance.now())) ownRetries++;
          }, 5);
          await pause(60);
          const spentAt = performance.now();
          for (let i = 0; i < 15; i++) expect(a.tryRetry(spentAt)).toBe(true);
          await until(
            () => b.usage(performance.now()).retries - before - ownRetries >= 15,
            2_000,
            "a's 15 retries counting in b's view",
          );
          delays.push(performance.now() - spentAt);
          clearInterval(retrying);
          await pause(30);
        }
        figures.retryingViewDelaysMs = delays.map(Math.round);
        // 2 × 25 ms + two round trips on localhost; a loaded 2-core machine may add a timer's lateness.
        expect(Math.min(...delays)).toBeLessThanOrEqual(2 * FLUSH_INTERVAL_MS + 20);
        expect(Math.max(...delays)).toBeLessThanOrEqual(2 * FLUSH_INTERVAL_MS + 100);
      });

      it('sees them within 20 × flushInterval + flushInterval + 2 round trips while it only makes first attempts, and refreshes a stale view on its next call', async () => {
        const [a, b] = budgetsOn('exact-quiet', { ratio: 0, minPerSecond: 1_000 });
        await synced([a, b]);
        await pause(50);
        const calling = setInterval(() => b.callStarted(performance.now()), 5);
        const delays: number[] = [];
        try {
          for (let round = 1; round <= 3; round++) {
            const before = b.usage(performance.now()).retries;
            const spentAt = performance.now();
            for (let i = 0; i < 15; i++) a.tryRetry(spentAt);
            await until(
              () => b.usage(performance.now()).retries - before >= 15,
              3_000,
              "a's retries counting in b's view",
            );
            delays.push(performance.now() - spentAt);
            await pause(Math.random() * 200);
          }
        } finally {
          clearInterval(calling);
        }
        figures.quietViewDelaysMs = delays.map(Math.round);
        expect(Math.max(...delays)).toBeLessThanOrEqual(21 * FLUSH_INTERVAL_MS + 150);

        // b idle, its last counts sent (within 20 × flushInterval) and answered longer than 20 ×
        // flushInterval ago: its next call refreshes its view within flushInterval + a round trip.
        await pause(2 * 21 * FLUSH_INTERVAL_MS + 100);
        const before = b.usage(performance.now()).retries;
        for (let i = 0; i < 15; i++) a.tryRetry(performance.now());
        await pause(FLUSH_INTERVAL_MS + 30);
        expect(b.usage(performance.now()).retries).toBe(before);
        const calledAt = performance.now();
        b.callStarted(calledAt);
        await until(
          () => b.usage(performance.now()).retries - before >= 15,
          2_000,
          "a's retries counting in b's view after b's first call",
        );
        figures.staleViewRefreshMs = Math.round(performance.now() - calledAt);
        expect(performance.now() - calledAt).toBeLessThanOrEqual(FLUSH_INTERVAL_MS + 100);
      });

      it("refuses a retry once the fleet's retries reach ratio × the fleet's calls + the floor", async () => {
        // ratio 0.5, floor 0: 40 calls in a allow 20 retries, whichever process makes them.
        const [a, b] = budgetsOn('exact-ratio', { ratio: 0.5, minPerSecond: 0 });
        await synced([a, b]);
        for (let i = 0; i < 38; i++) a.callStarted(performance.now());
        await stores[0].close();
        const allowed = () => {
          let count = 0;
          while (b.tryRetry(performance.now())) count++;
          return count;
        };
        // b's 2 calls and a's 38 (a's first call is counted too): 0.5 × 41 = 20.5, so 20 retries.
        b.callStarted(performance.now());
        await pause(FLUSH_INTERVAL_MS * 21 + 100);
        expect(allowed()).toBe(20);
        expect(b.usage(performance.now())).toEqual({ calls: 41, retries: 20 });
      });
    });

    it("3 processes share one named budget: one process's retries use it up for the others", async () => {
      const members = await FleetMember.start(server.url, ['spender', 'second', 'third'], {
        precompiled: true,
      });
      // ratio 0: the floor alone, 20 retries in a window of 20 s (1 a second).
      const budget = { name: 'storm', ratio: 0, minPerSecond: 1, window: 20_000 };
      const control = { name: 'storm-control', ratio: 0, minPerSecond: 1, window: 20_000 };
      const [spender, second, third] = members;
      // Each process's first call hears from the fleet (its batch is urgent when it has never heard).
      for (const member of members) {
        expect(await member.request({ op: 'retried', budget, count: 1 })).toMatchObject({ ok: 1 });
        expect(await member.request({ op: 'retried', budget: control, count: 1 })).toMatchObject({
          ok: 1,
        });
      }
      for (const member of members) {
        const deadline = Date.now() + 5_000;
        while ((await member.request({ op: 'budget', budget })).following !== 'fleet') {
          if (Date.now() > deadline) throw new Error(`${member.label} never heard from the fleet`);
          await pause(20);
        }
      }
      // 20 failing calls in one process: all 20 retries fit the budget.
      expect(await spender.request({ op: 'retried', budget, count: 20, fail: true })).toMatchObject(
        {
          calls: 20,
          retries: 20,
          refused: 0,
          otherErrors: [],
        },
      );
      // Its batch (urgent: it has retries) reaches Redis within flushInterval. The others learn of it
      // with their next batch: one call each, its counts sent within 20 × flushInterval (at once when
      // their view is older than that).
      await pause(FLUSH_INTERVAL_MS + 50);
      for (const member of [second, third]) {
        const calledAt = Date.now();
        expect(await member.request({ op: 'retried', budget, count: 1 })).toMatchObject({ ok: 1 });
        let view = await member.request({ op: 'budget', budget });
        while (view.retries !== 20 && Date.now() < calledAt + 3_000) {
          await pause(10);
          view = await member.request({ op: 'budget', budget });
        }
        expect(view).toMatchObject({ following: 'fleet', retries: 20 });
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
      ).toMatchObject({
        retries: 5,
        refused: 0,
      });
      figures.threeProcesses = { spender: 20, second: results[0], third: results[1] };
      await Promise.all(members.map((member) => member.end()));
    }, 180_000);

    it("decides by this process's counts while Redis is down (logged once), and follows the fleet again once it answers", async () => {
      const logger = new RecordingLogger();
      const store = new RedisStore(server.url, { commandTimeout: 200 });
      const other = new RedisStore(server.url);
      // ratio 0, 10 retries a window: the other process spends all ten before Redis stops.
      const name = 'down-budget';
      const settings = { ratio: 0, minPerSecond: 1, window: 10_000 };
      configure({ store, logger, clock: systemClock });
      let bodies = 0;
      class Inventory {
        @Idempotent()
        @Retryable({ maxAttempts: 2, initialDelay: 1, maxDelay: 1, budget: { name, ...settings } })
        async stock(fail: boolean): Promise<number> {
          bodies++;
          if (fail) throw new Error('inventory failed');
          return 1;
        }
      }
      const inventory = new Inventory();
      try {
        await inventory.stock(false);
        const budget = defaultEngine.budgetFor(settingsOf(name, settings), {}, name) as FleetBudget;
        await until(() => budget.following === 'fleet', 2_000, 'the budget hearing from the fleet');
        const spender = other.createBudget(name, settingsOf(name, settings), Date.now, silent);
        spender.callStarted(Date.now());
        for (let i = 0; i < 10; i++) expect(spender.tryRetry(Date.now())).toBe(true);
        await other.close();
        await pause(FLUSH_INTERVAL_MS + 50);
        // The fleet's ten retries count here: a retry now is refused.
        await inventory.stock(false);
        await until(() => budget.usage(Date.now()).retries === 10, 2_000, 'the fleet spending 10');
        await expect(inventory.stock(true)).rejects.toThrow('inventory failed');
        expect(budget.refused).toBe(1);

        await server.kill();
        // A call's batch fails (within commandTimeout): from then on this process's own counts decide.
        await inventory.stock(false);
        await until(() => budget.following === 'local', 3_000, 'the budget falling back');
        bodies = 0;
        const outcomes = await Promise.allSettled(
          Array.from({ length: 20 }, () => inventory.stock(true)),
        );
        // No call failed because of Redis: each with the body's error; 10 retries (this process's
        // floor, as a local budget), 10 refused.
        expect(outcomes.map((outcome) => outcome.status)).toEqual(Array(20).fill('rejected'));
        for (const outcome of outcomes)
          expect((outcome as PromiseRejectedResult).reason).toMatchObject({
            message: 'inventory failed',
          });
        expect(bodies).toBe(30);
        expect(budget.refused).toBe(11);
        for (let i = 0; i < 5; i++) await inventory.stock(false);
        await pause(1_100);
        await inventory.stock(false);
        await pause(300);
        const fellBack = logger
          .at('warn')
          .filter((line) =>
            line.message.includes(`retry budget '${name}': the shared store failed`),
          );
        expect(fellBack).toHaveLength(1);

        await server.launch();
        const deadline = Date.now() + 10_000;
        while (budget.following !== 'fleet' && Date.now() < deadline) {
          await inventory.stock(false);
          await pause(100);
        }
        expect(budget.following).toBe('fleet');
        expect(
          logger
            .at('warn')
            .filter((line) =>
              line.message.includes(`retry budget '${name}': the shared store answers again`),
            ),
        ).toHaveLength(1);
      } finally {
        await store.close();
        configure({ store: new MemoryStore(), logger: console, clock: systemClock });
      }
    }, 40_000);
  },
);
