import {
  CircuitBreaker,
  CircuitOpenError,
  ConfigError,
  configure,
  defaultEngine,
  MemoryStore,
  systemClock,
} from '../../src';
import type { SharedBreakerStore } from '../../src';
import { RedisStore } from '../../src/redis';
import {
  describeSharedBreakerStoreConformance,
  FakeClock,
  MemoryFleetStore,
  runSharedBreakerStoreConformance,
  sharedBreakerStoreConformanceChecks,
} from '../../src/testing';
import { describeWithRedis } from '../support/describe-with-redis';
import { RedisServer } from '../support/redis-server';
import { decoratorMode, useHarness } from '../support/harness';

/** The documented propagation bound is 100 ms; the test allows 150 for a busy CI machine. */
const PROPAGATION_LIMIT_MS = 150;

const CHECK_NAMES = sharedBreakerStoreConformanceChecks({ clock: new FakeClock() }).map(
  (check) => check.name,
);
const named = (start: string): string => {
  const found = CHECK_NAMES.filter((name) => name.startsWith(start));
  if (found.length !== 1) throw new Error(`no single check starts with '${start}'`);
  return found[0] as string;
};

// The reference implementation, on a FakeClock: no check waits.
const memoryClock = new FakeClock(1_700_000_000_000);
describeSharedBreakerStoreConformance(
  'MemoryFleetStore conforms to SharedBreakerStore',
  { clock: memoryClock, createStore: () => new MemoryFleetStore({ clock: memoryClock }) },
  { describe, it },
);

describeWithRedis('RedisStore conforms to SharedBreakerStore', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  // The FLEET script with its `now` from a FakeClock: the same decisions as the reference, exactly.
  const clock = new FakeClock(1_700_000_000_000);
  describeSharedBreakerStoreConformance(
    'with a FakeClock (the store clock option)',
    {
      clock,
      createStore: () => new RedisStore(server.url, { clock }),
      disposeStore: (store) => (store as RedisStore).close(),
      requireWatch: true,
    },
    { describe, it },
  );

  it('lets a tool isolate a breaker through exchangeBreakers: the processes using it follow within the propagation bound', async () => {
    useHarness();
    configure({ clock: systemClock });
    const name = `tool-isolated-${decoratorMode}`;
    const processStore = new RedisStore(server.url);
    const toolStore = new RedisStore(server.url);
    try {
      configure({ store: processStore });
      class Service {
        runs = 0;
        @CircuitBreaker({ name, consecutiveFailures: 5 })
        async call(): Promise<string> {
          this.runs++;
          return 'ok';
        }
      }
      const service = new Service();
      await expect(service.call()).resolves.toBe('ok');
      const handle = defaultEngine.breaker(name);
      // The tool knows the name only: without settings, the store decides by the ones it holds.
      const started = Date.now();
      const { replies } = await toolStore.exchangeBreakers('ops-tool', [
        { name, epoch: 0, settingsId: 0, settings: undefined, operation: { type: 'isolate' } },
      ]);
      expect(replies[0]).toMatchObject({ state: 'isolated', settingsDiffer: true });
      while (handle.state !== 'isolated' && Date.now() - started < 2_000)
        await new Promise((resolve) => setTimeout(resolve, 5));
      expect(handle.state).toBe('isolated');
      expect(Date.now() - started).toBeLessThan(PROPAGATION_LIMIT_MS);
      await expect(service.call()).rejects.toBeInstanceOf(CircuitOpenError);
      expect(service.runs).toBe(1);
    } finally {
      configure({ store: new MemoryStore() });
      await Promise.all([processStore.close(), toolStore.close()]);
    }
  });

  // As in production: Redis's TIME decides, so the suite waits in real time.
  describeSharedBreakerStoreConformance(
    "timed by Redis's TIME",
    {
      clock: systemClock,
      step: 400,
      createStore: () => new RedisStore(server.url),
      disposeStore: (store) => (store as RedisStore).close(),
    },
    { describe, it },
  );
});

describe('the SharedBreakerStore conformance suite', () => {
  /** A MemoryFleetStore with one decision changed: what a wrong store looks like to the suite. */
  function broken(
    change: (reply: Record<string, unknown>, operation: string) => void,
  ): () => SharedBreakerStore {
    return () => {
      const clock = new FakeClock(1_700_000_000_000);
      const inner = new MemoryFleetStore({ clock });
      const store: SharedBreakerStore & { clock: FakeClock } = {
        clock,
        async exchangeBreakers(reporter, requests) {
          const answer = await inner.exchangeBreakers(reporter, requests);
          const replies = answer.replies.map((reply, index) => {
            const copy: Record<string, unknown> = { ...reply };
            change(copy, requests[index]?.operation.type ?? '');
            return copy as unknown as typeof reply;
          });
          return { replies, at: answer.at };
        },
      };
      return store;
    };
  }

  async function failedChecks(createStore: () => SharedBreakerStore): Promise<string[]> {
    // Each store carries its own clock; the suite moves the clock of the store it was given.
    let current: FakeClock | undefined;
    const clock = {
      now: () => current?.now() ?? 0,
      advance: (ms: number) => current?.advance(ms),
    };
    const report = await runSharedBreakerStoreConformance({
      clock,
      createStore: () => {
        const store = createStore() as SharedBreakerStore & { clock: FakeClock };
        current = store.clock;
        return store;
      },
    });
    return report.failed.map((failure) => failure.name);
  }

  it('passes a correct store on every check', async () => {
    expect(await failedChecks(broken(() => undefined))).toEqual([]);
  });

  it('fails a store that grants every trial permit', async () => {
    const failed = await failedChecks(
      broken((reply, operation) => {
        if (operation === 'acquire') reply.granted = true;
      }),
    );
    expect(failed).toContain(named('grants at most halfOpenMaxCalls'));
    expect(failed).toContain(named('moves an open breaker to half-open'));
  });

  it('fails a store that forgets the quorum', async () => {
    const failed = await failedChecks(
      broken((reply) => {
        reply.shortOfQuorum = false;
      }),
    );
    expect(failed).toEqual([
      named('opens on consecutive failures only when'),
      named('opens on a failure rate only when'),
    ]);
  });

  it('fails a store whose time is not a number, naming the operation', async () => {
    const report = await runSharedBreakerStoreConformance({
      clock: new FakeClock(),
      createStore: () => ({
        exchangeBreakers: async () => ({ replies: [], at: Number.NaN }),
      }),
    });
    // Only the watch check passes: the store has no watchBreakers, which is optional.
    expect(report.passed).toEqual([named('tells a watcher')]);
    expect(String(report.failed[0]?.error)).toMatch(/exchangeBreakers\(\)/);
  });

  it('refuses options without a clock, or with unknown keys, naming the option', async () => {
    const createStore = () => new MemoryFleetStore();
    await expect(runSharedBreakerStoreConformance({ createStore } as never)).rejects.toThrow(
      ConfigError,
    );
    expect(() =>
      sharedBreakerStoreConformanceChecks({ clock: new FakeClock(), steps: 3 } as never),
    ).toThrow(/steps/);
    expect(() => sharedBreakerStoreConformanceChecks({ clock: {} as never })).toThrow(/clock/);
  });
});
