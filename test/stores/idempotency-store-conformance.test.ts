import { ConfigError, MemoryStore, systemClock } from '../../src';
import type { ClaimOutcome, IdempotencyRecord, IdempotencyStore } from '../../src';
import { RedisStore } from '../../src/redis';
import {
  describeIdempotencyStoreConformance,
  FakeClock,
  idempotencyStoreConformanceChecks,
  runIdempotencyStoreConformance,
} from '../../src/testing';
import { describeWithRedis } from '../support/describe-with-redis';
import { RedisServer } from '../support/redis-server';

const CHECK_NAMES = idempotencyStoreConformanceChecks().map((check) => check.name);
const named = (start: string): string => {
  const found = CHECK_NAMES.filter((name) => name.startsWith(start));
  if (found.length !== 1) throw new Error(`no single check starts with '${start}'`);
  return found[0] as string;
};

describeIdempotencyStoreConformance(
  'MemoryStore conforms to IdempotencyStore',
  { createStore: () => new MemoryStore() },
  { describe, it },
);

describeWithRedis('RedisStore conforms to IdempotencyStore', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  // As in production: leases and expiries by Redis's clock, so the suite waits in real time.
  describeIdempotencyStoreConformance(
    "timed by Redis's TIME",
    {
      createStore: () => new RedisStore(server.url),
      disposeStore: (store) => (store as RedisStore).close(),
      clock: systemClock,
      // Long enough that a loaded machine's late timers stay inside a step.
      step: 500,
    },
    { describe, it },
  );

  // With a FakeClock the scripts decide leases by it, but Redis still expires keys (the ttl) in
  // real time, so the ttl check cannot pass there: that one runs above, on Redis's clock.
  describe('timed by a FakeClock (clock option)', () => {
    const clock = new FakeClock(1_700_000_000_000);
    const ttlCheck = named('keeps a recorded result for its ttl');
    for (const check of idempotencyStoreConformanceChecks({ clock })) {
      if (check.name === ttlCheck) continue;
      it(check.name, async () => {
        const store = new RedisStore(server.url, { clock });
        try {
          await check.run(store);
        } finally {
          await store.close();
        }
      });
    }
  });
});

type Flaw =
  | 'claim is not atomic'
  | 'release ignores the token'
  | 'complete ignores the token'
  | 'complete replaces a recorded result'
  | 'records never expire'
  | 'leases never lapse'
  | 'results are re-encoded'
  | 'renew always succeeds'
  | 'read ignores expiry';

type Entry = IdempotencyRecord & { readonly expiresAt: number };

/** A small store whose flaws are chosen: with none, it conforms (so a failure below is the flaw's). */
class FlawedStore implements IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly flaws: readonly Flaw[] = []) {}

  private has(flaw: Flaw): boolean {
    return this.flaws.includes(flaw);
  }

  private live(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.state === 'in-progress')
      return this.has('leases never lapse') || entry.leaseUntil > now ? entry : undefined;
    return this.has('records never expire') || entry.expiresAt > now ? entry : undefined;
  }

  async claim(
    key: string,
    fingerprint: string,
    token: string,
    leaseMs: number,
    now: number,
  ): Promise<ClaimOutcome> {
    const entry = this.live(key, now);
    // The check and the write in two steps, as a GET then a SET would be.
    if (this.has('claim is not atomic')) await new Promise((resolve) => setImmediate(resolve));
    if (entry !== undefined) return { claimed: false, record: entry };
    this.entries.set(key, {
      state: 'in-progress',
      fingerprint,
      token,
      leaseUntil: now + leaseMs,
      expiresAt: now + leaseMs,
    });
    return { claimed: true };
  }

  async complete(
    key: string,
    token: string,
    fingerprint: string,
    result: string,
    ttlMs: number,
    now: number,
  ): Promise<void> {
    const entry = this.entries.get(key);
    const othersClaim = entry?.state === 'in-progress' && entry.token !== token;
    const recorded = entry?.state === 'completed';
    if (othersClaim && !this.has('complete ignores the token')) return;
    if (recorded && !this.has('complete replaces a recorded result')) return;
    const stored = this.has('results are re-encoded')
      ? JSON.stringify(JSON.parse(result) as unknown)
      : result;
    this.entries.set(key, {
      state: 'completed',
      fingerprint,
      result: stored,
      expiresAt: now + ttlMs,
    });
  }

  async release(key: string, token: string): Promise<void> {
    const entry = this.entries.get(key);
    if (entry?.state !== 'in-progress') return;
    if (entry.token === token || this.has('release ignores the token')) this.entries.delete(key);
  }

  async renew(key: string, token: string, leaseMs: number, now: number): Promise<boolean> {
    const entry = this.live(key, now);
    if (entry?.state !== 'in-progress' || entry.token !== token)
      return this.has('renew always succeeds');
    this.entries.set(key, { ...entry, leaseUntil: now + leaseMs, expiresAt: now + leaseMs });
    return true;
  }

  async read(key: string, now: number): Promise<IdempotencyRecord | undefined> {
    if (this.has('read ignores expiry')) return this.entries.get(key);
    return this.live(key, now);
  }
}

describe('the IdempotencyStore conformance suite', () => {
  async function failedChecks(store: () => IdempotencyStore): Promise<string[]> {
    const report = await runIdempotencyStoreConformance({ createStore: store });
    return report.failed.map((failure) => failure.name);
  }

  it('passes the flawless store the flaws below are made on', async () => {
    const report = await runIdempotencyStoreConformance({ createStore: () => new FlawedStore() });
    expect(report.failed).toEqual([]);
    expect(report.passed).toEqual(CHECK_NAMES);
  });

  it.each<[Flaw, string[]]>([
    ['claim is not atomic', ['lets exactly one of many concurrent claims']],
    [
      'release ignores the token',
      [
        'ignores complete() and release() by a token whose claim lapsed',
        'ignores release() by a token',
      ],
    ],
    [
      'complete ignores the token',
      ['ignores complete() and release() by a token whose claim lapsed'],
    ],
    ['complete replaces a recorded result', ['leaves a recorded result alone']],
    ['records never expire', ['keeps a recorded result for its ttl']],
    [
      'leases never lapse',
      [
        'lets a claim lapse at the end of its lease',
        'ignores complete() and release() by a token whose claim lapsed',
        'extends the lease on renew()',
        'answers renew() with false',
      ],
    ],
    ['results are re-encoded', ['gives back every result text exactly']],
    ['renew always succeeds', ['answers renew() with false']],
    [
      'read ignores expiry',
      ['keeps a recorded result for its ttl', 'lets a claim lapse at the end of its lease'],
    ],
  ])('fails a store where %s, in exactly the checks that catch it', async (flaw, starts) => {
    expect(await failedChecks(() => new FlawedStore([flaw]))).toEqual(starts.map(named));
  });

  it('says what was expected and what the store gave', async () => {
    const report = await runIdempotencyStoreConformance({
      createStore: () => new FlawedStore(['claim is not atomic']),
      concurrency: 8,
    });
    expect(String(report.failed[0]?.error)).toBe(
      'Error: 8 concurrent claim() calls of one key: expected exactly one { claimed: true }, got "8 claimed it"',
    );
  });

  it('fails the it() bodies it registers, through any describe/it', async () => {
    const registered: { name: string; body: () => Promise<void> }[] = [];
    const suites: string[] = [];
    describeIdempotencyStoreConformance(
      'Flawed',
      { createStore: () => new FlawedStore(['release ignores the token']) },
      {
        describe: (name, body) => {
          suites.push(name);
          body();
        },
        it: (name, body) => void registered.push({ name, body }),
      },
    );
    expect(suites).toEqual(['Flawed']);
    expect(registered.map((test) => test.name)).toEqual(CHECK_NAMES);
    const outcomes = await Promise.all(
      registered.map((test) =>
        test.body().then(
          () => 'passed',
          () => 'failed',
        ),
      ),
    );
    expect(
      registered.filter((_, index) => outcomes[index] === 'failed').map((test) => test.name),
    ).toEqual([
      named('ignores complete() and release() by a token whose claim lapsed'),
      named('ignores release() by a token'),
    ]);
  });

  it('disposes of every store it created, passed or failed', async () => {
    const created: IdempotencyStore[] = [];
    const disposed: IdempotencyStore[] = [];
    await runIdempotencyStoreConformance({
      createStore: () => {
        const store = new FlawedStore(['records never expire']);
        created.push(store);
        return store;
      },
      disposeStore: (store) => void disposed.push(store),
    });
    expect(created).toHaveLength(CHECK_NAMES.length);
    expect(disposed).toEqual(created);
  });

  it('passes a store without renew(), unless told to require it', async () => {
    const withoutRenew = (): IdempotencyStore => {
      const inner = new MemoryStore();
      return {
        claim: (...args) => inner.claim(...args),
        complete: (...args) => inner.complete(...args),
        release: (key, token) => inner.release(key, token),
        read: (...args) => inner.read(...args),
      };
    };
    expect((await runIdempotencyStoreConformance({ createStore: withoutRenew })).failed).toEqual(
      [],
    );
    const required = await runIdempotencyStoreConformance({
      createStore: withoutRenew,
      requireRenew: true,
    });
    expect(required.failed.map((failure) => failure.name)).toEqual([
      named('extends the lease on renew()'),
      named('answers renew() with false'),
    ]);
  });

  it('refuses options it does not know, and a clock it cannot move', () => {
    const createStore = (): IdempotencyStore => new MemoryStore();
    expect(() => idempotencyStoreConformanceChecks({ stepp: 5 } as never)).toThrow(ConfigError);
    expect(() => idempotencyStoreConformanceChecks({ clock: { now: () => 0 } as never })).toThrow(
      /option 'clock' must have now\(\) and advance\(ms\) or sleep\(ms\)/,
    );
    expect(() => idempotencyStoreConformanceChecks({ step: 0 })).toThrow(/option 'step'/);
    expect(() => idempotencyStoreConformanceChecks({ concurrency: 1 })).toThrow(
      /option 'concurrency'/,
    );
    expect(() => describeIdempotencyStoreConformance('x', { createStore }, {} as never)).toThrow(
      /option 'framework.it' must be a function/,
    );
  });
});
