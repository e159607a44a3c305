import { configure, Idempotent, MemoryStore, UnstorableResultError } from '../../src';
import { decoratorMode, useHarness, type Harness } from '../support/harness';
import { RecordingStore, rejectionOf, SHA256_HEX } from './support';

class Money {
  constructor(readonly cents: number) {}
}

describe(`what keyed @Idempotent stores (${decoratorMode} decorators)`, () => {
  let h: Harness;
  beforeEach(() => {
    h = useHarness();
    configure({ store: new MemoryStore() });
  });
  afterAll(() => {
    configure({ store: new MemoryStore() });
  });

  it('gives the store only SHA-256 hex keys and fingerprints, never the raw key or argument text', async () => {
    const store = new RecordingStore();
    class Accounts {
      @Idempotent({ key: (email: string) => `signup:${email}`, store })
      async signUp(_email: string, profile: { password: string }): Promise<{ ok: boolean }> {
        return { ok: profile.password.length > 0 };
      }
    }
    const accounts = new Accounts();
    await accounts.signUp('alice@example.com', { password: 'hunter2-secret' });
    await accounts.signUp('alice@example.com', { password: 'hunter2-secret' });
    await rejectionOf(accounts.signUp('alice@example.com', { password: 'other-secret' }));

    const claims = store.of('claim');
    expect(claims.length).toBeGreaterThanOrEqual(3);
    for (const { args } of claims) {
      const [key, fingerprint] = args;
      expect(key).toMatch(SHA256_HEX);
      expect(fingerprint).toMatch(SHA256_HEX);
    }
    const [complete] = store.of('complete');
    expect(complete.args[0]).toMatch(SHA256_HEX);
    expect(complete.args[2]).toMatch(SHA256_HEX);
    // One key for the operation; a different fingerprint for different arguments.
    expect(new Set(claims.map(({ args }) => args[0])).size).toBe(1);
    expect(new Set(claims.map(({ args }) => args[1])).size).toBe(2);
    const everything = JSON.stringify(store.calls);
    for (const raw of [
      'alice',
      'example.com',
      'signup:',
      'hunter2',
      'other-secret',
      'password',
      'Accounts',
    ]) {
      expect(everything).not.toContain(raw);
    }
  });

  it('leaves a MemoryStore holding only the hashes and the encoded result', async () => {
    const memory = new MemoryStore();
    const store = new RecordingStore(memory);
    class Accounts {
      @Idempotent({ key: (email: string) => email, store })
      async signUp(email: string): Promise<number> {
        return email.length;
      }
    }
    await new Accounts().signUp('bob@example.com');
    expect(memory.size).toBe(1);
    const [key] = store.of('claim')[0].args as [string];
    const record = await memory.read(key, h.clock.now());
    expect(record).toMatchObject({
      state: 'completed',
      fingerprint: expect.stringMatching(SHA256_HEX),
      result: '{"v":15}',
    });
    expect(JSON.stringify(record)).not.toContain('bob');
  });

  const unstorable: [string, () => unknown][] = [
    ['a Date', () => ({ createdAt: new Date(0) })],
    ['a Map', () => new Map([['a', 1]])],
    ['a class instance', () => ({ total: new Money(5) })],
    ['NaN', () => ({ ratio: Number.NaN })],
    ['Infinity', () => [1, Number.POSITIVE_INFINITY]],
    ['a bigint', () => ({ id: 10n })],
    ['undefined in an array', () => [1, undefined, 3]],
    ['a Set', () => new Set([1])],
  ];

  it.each(unstorable)(
    'refuses %s as a result at the first call, and fails the same way later without running the body',
    async (_what, make) => {
      let runs = 0;
      class Reports {
        @Idempotent({ key: (id: string) => id })
        async build(_id: string): Promise<unknown> {
          runs++;
          return make();
        }
      }
      const reports = new Reports();

      const first = await rejectionOf(reports.build('r-1'));
      expect(first).toBeInstanceOf(UnstorableResultError);
      expect(first).toMatchObject({ code: 'STEADFAST_UNSTORABLE_RESULT', method: 'Reports.build' });
      expect(runs).toBe(1);

      const second = await rejectionOf(reports.build('r-1'));
      expect(second).toBeInstanceOf(UnstorableResultError);
      expect((second as UnstorableResultError).problem).toBe(
        (first as UnstorableResultError).problem,
      );
      expect(runs).toBe(1);
      // The refusal is logged at error level, not swallowed.
      expect(h.logger.at('error').some((entry) => entry.message.includes('Reports.build'))).toBe(
        true,
      );
    },
  );

  it('names what JSON would change in the error', async () => {
    class Reports {
      @Idempotent({ key: (id: string) => id })
      async build(_id: string): Promise<unknown> {
        return { rows: [{ at: new Date(0) }] };
      }
    }
    const error = (await rejectionOf(new Reports().build('x'))) as UnstorableResultError;
    expect(error.problem).toContain('rows[0].at');
    expect(error.problem).toContain('Date');
  });

  it('stores plain JSON data faithfully: nested objects, arrays, null, empty strings, zero, false', async () => {
    const value = { a: null, b: [0, false, '', { c: [] }], d: { e: -1.5, f: 'ü✓' } };
    let runs = 0;
    class Reports {
      @Idempotent({ key: (id: string) => id })
      async build(_id: string): Promise<unknown> {
        runs++;
        return value;
      }
    }
    const reports = new Reports();
    await reports.build('plain');
    expect(await reports.build('plain')).toEqual(value);
    expect(runs).toBe(1);
  });

  it('drops properties set to undefined, as JSON does, without refusing the result', async () => {
    class Reports {
      @Idempotent({ key: (id: string) => id })
      async build(_id: string): Promise<unknown> {
        return { kept: 1, dropped: undefined };
      }
    }
    const reports = new Reports();
    expect(await reports.build('u')).toEqual({ kept: 1, dropped: undefined });
    const replayed = await reports.build('u');
    expect(replayed).toEqual({ kept: 1 });
    expect(Object.keys(replayed as object)).toEqual(['kept']);
  });

  it('replays undefined for a void method, and null as null', async () => {
    let runs = 0;
    class Mailer {
      @Idempotent({ key: (to: string) => to })
      async send(_to: string): Promise<void> {
        runs++;
      }

      @Idempotent({ key: (to: string) => to })
      async lookup(_to: string): Promise<null> {
        runs++;
        return null;
      }
    }
    const mailer = new Mailer();
    expect(await mailer.send('a@b')).toBeUndefined();
    const replayed = await mailer.send('a@b');
    expect(replayed).toBeUndefined();
    expect(await mailer.lookup('a@b')).toBeNull();
    expect(await mailer.lookup('a@b')).toBeNull();
    expect(runs).toBe(2);
    expect(h.events('deduplicated')).toHaveLength(2);
  });

  it('never silently turns -0 into 0 (Math.round(-0.4) is -0): it replays -0 or refuses the result', async () => {
    let runs = 0;
    class Ledger {
      @Idempotent({ key: (id: string) => id })
      async balance(_id: string): Promise<{ delta: number }> {
        runs++;
        return { delta: Math.round(-0.4) };
      }
    }
    const ledger = new Ledger();
    const first = await ledger.balance('b').then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    if ('error' in first) {
      expect(first.error).toBeInstanceOf(UnstorableResultError);
    } else {
      const replayed = await ledger.balance('b');
      expect(Object.is(replayed.delta, -0)).toBe(true);
    }
    expect(runs).toBe(1);
  });
});
