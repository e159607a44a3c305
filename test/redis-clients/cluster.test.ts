import { Cluster } from 'ioredis';
import Redis from 'ioredis';
import { createCluster } from 'redis';
import { CircuitOpenError, configure, Idempotent, MemoryStore } from '../../src';
import { RedisStore } from '../../src/redis';
import { FLEET_ON_NODE } from '../../src/stores/redis-scripts';
import {
  describeIdempotencyStoreConformance,
  describeSharedBreakerStoreConformance,
  FakeClock,
} from '../../src/testing';
import { systemClock } from '../../src/runtime/clock';
import { decoratorMode, useHarness } from '../support/harness';
import { RedisCluster } from '../support/redis-cluster';
import { refusalReaching, stockOn } from './support';
import { describeWithCluster } from '../support/describe-with-cluster';
import { skipConformance } from './support';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type ClusterKind = 'ioredis Cluster' | 'node-redis createCluster';

// A real three-primary Redis Cluster on 127.0.0.1, in real time.
describeWithCluster(`RedisStore on a Redis Cluster (${decoratorMode} decorators)`, () => {
  let cluster: RedisCluster;
  const ended: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    cluster = await RedisCluster.start();
  }, 60_000);
  afterEach(async () => {
    configure({ store: new MemoryStore() });
    while (ended.length > 0) await ended.pop()?.();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function storeOn(
    kind: ClusterKind,
    prefix: string,
    clock?: { now(): number },
  ): Promise<RedisStore> {
    let store: RedisStore;
    if (kind === 'ioredis Cluster') {
      const client = new Cluster(cluster.seeds);
      client.on('error', () => undefined);
      store = new RedisStore(client, { prefix, clock });
      ended.push(async () => void client.disconnect());
    } else {
      const client = createCluster({ rootNodes: cluster.urls.map((url) => ({ url })) });
      client.on('error', () => undefined);
      await client.connect();
      store = new RedisStore(client, { prefix, clock });
      ended.push(async () => void (await client.disconnect().catch(() => undefined)));
    }
    ended.push(() => store.close());
    return store;
  }

  /** How many of the cluster's nodes hold a key matching `pattern`. */
  async function nodesHolding(pattern: string): Promise<number> {
    let holding = 0;
    for (const url of cluster.urls) {
      const node = new Redis(url);
      const keys = await node.keys(pattern);
      node.disconnect();
      if (keys.length > 0) holding++;
    }
    return holding;
  }

  const KINDS: readonly ClusterKind[] = ['ioredis Cluster', 'node-redis createCluster'];

  describe.each(KINDS)('%s', (kind) => {
    // The public store contract (steadfast/testing), with records on every node, in real time.
    // The store contract does not depend on the decorator mode: it runs in the legacy project only.
    (decoratorMode === 'legacy' ? describeIdempotencyStoreConformance : skipConformance)(
      'conforms to IdempotencyStore',
      {
        createStore: () => storeOn(kind, `conformance-${decoratorMode}`),
        clock: systemClock,
        // Real time: a step long enough that a loaded machine's late timers stay inside it.
        step: 500,
      },
      { describe, it },
    );

    // The shared-breaker contract on a Cluster: each breaker's script on its own node, on a FakeClock.
    const breakerClock = new FakeClock(1_700_000_000_000);
    (decoratorMode === 'legacy' ? describeSharedBreakerStoreConformance : skipConformance)(
      'conforms to SharedBreakerStore',
      {
        createStore: () => storeOn(kind, `breakers-${decoratorMode}`, breakerClock),
        clock: breakerClock,
        requireWatch: true,
      },
      { describe, it },
    );

    const other: ClusterKind =
      kind === 'ioredis Cluster' ? 'node-redis createCluster' : 'ioredis Cluster';

    it('runs each keyed body once across two processes, with keys spread over every node', async () => {
      useHarness();
      configure({ clock: systemClock });
      const prefix = `keys-${kind.replace(/\W/g, '')}-${decoratorMode}`;
      const mine = await storeOn(kind, prefix);
      const theirs = await storeOn(other, prefix);
      const runs = new Map<string, number>();
      const declare = (store: RedisStore) => {
        configure({ store });
        class Orders {
          @Idempotent({ key: (id: string) => id, name: 'Orders.place' })
          async place(id: string): Promise<string> {
            runs.set(id, (runs.get(id) ?? 0) + 1);
            await pause(10);
            return `placed ${id}`;
          }
        }
        return new Orders();
      };
      const here = declare(mine);
      const there = declare(theirs);
      const ids = Array.from({ length: 30 }, (_, index) => `order-${index}`);
      const results = await Promise.all(
        ids.flatMap((id) => [here.place(id), there.place(id), here.place(id)]),
      );
      expect(results).toEqual(ids.flatMap((id) => Array(3).fill(`placed ${id}`)));
      expect([...runs.values()]).toEqual(ids.map(() => 1));
      // 30 keys over 16 384 slots: every node holds some.
      expect(await nodesHolding(`${prefix}:idempotency:*`)).toBe(3);
    });

    it('keeps ten named breakers on several nodes in one process, and shares an opening with another', async () => {
      const h = useHarness();
      configure({ clock: systemClock });
      const prefix = `breakers-${kind.replace(/\W/g, '')}-${decoratorMode}`;
      const mine = await storeOn(kind, prefix);
      const theirs = await storeOn(other, prefix);
      const names = Array.from({ length: 10 }, (_, index) => `stock-${index}`);
      const here = names.map((name) => stockOn(mine, name));
      const there = names.map((name) => stockOn(theirs, name));
      for (let round = 0; round < 5; round++) {
        await Promise.all([...here, ...there].map((stock) => stock.read(false)));
        await pause(30);
      }
      // Open the last one from this process: the other refuses within the bound.
      await pause(200);
      await expect(here[9].read(true)).rejects.toThrow('down');
      await expect(here[9].read(true)).rejects.toThrow('down');
      expect(await refusalReaching(there[9])).toBeInstanceOf(CircuitOpenError);
      // The others stayed closed, and nothing fell back to local state.
      await expect(there[0].read(false)).resolves.toBe('ok');
      expect(h.logger.entries.filter((entry) => /shared store failed/.test(entry.message))).toEqual(
        [],
      );
      expect(await nodesHolding(`${prefix}:circuit:*`)).toBeGreaterThanOrEqual(2);
    });

    it("sends a batch's entries in one script run per node, and falls back to one a breaker, nothing applied twice, when the slot map is stale", async () => {
      useHarness();
      configure({ clock: systemClock });
      const prefix = `per-node-${kind.replace(/\W/g, '')}-${decoratorMode}`;
      const store = await storeOn(kind, prefix);
      const names = Array.from({ length: 12 }, (_, index) => `per-node-${index}`);
      const stocks = names.map((name) => stockOn(store, name));
      configure({ store });
      const probe = await storeOn(kind, prefix);
      // First calls read each breaker's state (a run each); their successes go in a quiet batch,
      // which loads the per-node script on every node.
      await Promise.all(stocks.map((stock) => stock.read(false)));
      await pause(900);
      const serving = await nodesHolding(`${prefix}:circuit:*`);
      expect(serving).toBe(3);

      // A success each, in one tick: one batch of 12 entries (sent within 500 ms), one run a node.
      let before = await scriptRuns();
      await Promise.all(stocks.map((stock) => stock.read(false)));
      await pause(900);
      expect((await scriptRuns()) - before).toBe(serving);
      expect(await fleetCalls(probe, names)).toBe(24);

      // A stale slot map puts every breaker on one node: that run applies nothing, then each goes alone.
      const connection = (store as unknown as { connection: { nodeOf(slot: number): unknown } })
        .connection;
      const nodeOf = connection.nodeOf.bind(connection);
      connection.nodeOf = () => nodeOf(0);
      try {
        before = await scriptRuns();
        await Promise.all(stocks.map((stock) => stock.read(true).catch(() => undefined)));
        await pause(400);
        // The failed run on one node, then one run a breaker.
        expect((await scriptRuns()) - before).toBe(1 + names.length);
      } finally {
        connection.nodeOf = nodeOf;
      }
      // Exactly one more call each: nothing counted twice.
      expect(await fleetCalls(probe, names)).toBe(36);
    });

    it('on a server without script flags (Redis 6), sends every flush one run a breaker after the first refusal', async () => {
      useHarness();
      configure({ clock: systemClock });
      const prefix = `no-flags-${kind.replace(/\W/g, '')}-${decoratorMode}`;
      const store = await storeOn(kind, prefix);
      const probe = await storeOn(kind, prefix);
      // Redis 6 cannot compile a script that starts with a shebang: this is its answer.
      const internals = store as unknown as {
        script(source: string, keys: readonly string[], args: readonly unknown[]): Promise<unknown>;
      };
      const script = internals.script.bind(store);
      let refused = 0;
      internals.script = (source, keys, args) => {
        if (source !== FLEET_ON_NODE) return script(source, keys, args);
        refused++;
        return Promise.reject(
          new Error(
            "ERR Error compiling script (new function): user_script:1: unexpected symbol near '#'",
          ),
        );
      };
      const names = Array.from({ length: 12 }, (_, index) => `no-flags-${index}`);
      const stocks = names.map((name) => stockOn(store, name));
      configure({ store });
      let refusedInFirstFlush = 0;
      for (let round = 1; round <= 3; round++) {
        await Promise.all(stocks.map((stock) => stock.read(true).catch(() => undefined)));
        await pause(400);
        if (round === 1) refusedInFirstFlush = refused;
        await Promise.all(stocks.map((stock) => stock.read(false)));
        await pause(900);
      }
      // Asked in the first flush only (once a node, the runs go at once); every later flush went
      // one run a breaker, and every call counted once.
      expect(refusedInFirstFlush).toBeGreaterThanOrEqual(1);
      expect(refusedInFirstFlush).toBeLessThanOrEqual(3);
      expect(refused).toBe(refusedInFirstFlush);
      expect(await fleetCalls(probe, names)).toBe(6 * names.length);
    });
  });

  /** EVALSHA and EVAL commands run by all of the cluster's nodes so far. */
  async function scriptRuns(): Promise<number> {
    let runs = 0;
    for (const url of cluster.urls) {
      const node = new Redis(url);
      const stats = await node.info('commandstats');
      node.disconnect();
      for (const match of stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm))
        runs += Number(match[1]);
    }
    return runs;
  }

  /** The calls the fleet's windows hold for `names`, read through `probe` (a store of its own). */
  async function fleetCalls(probe: RedisStore, names: readonly string[]): Promise<number> {
    const { replies } = await probe.exchangeBreakers(
      'probe',
      names.map((name) => ({
        name,
        epoch: 0,
        settingsId: 0,
        settings: undefined,
        operation: { type: 'read' as const },
      })),
    );
    return replies.reduce((sum, reply) => sum + reply.calls, 0);
  }
});
