import { createServer, type Server, type Socket } from 'node:net';
import fc from 'fast-check';
import Redis from 'ioredis';
import { ConfigError, configure, Idempotent, MemoryStore } from '../../src';
import { RedisStore } from '../../src/redis';
import { decoratorMode, useHarness } from '../support/harness';
import { RedisServer } from '../support/redis-server';
import { describeWithRedis } from '../support/describe-with-redis';
import { thrownBy } from '../idempotency/support';

const KNOWN = ['prefix', 'commandTimeout', 'flushInterval', 'signingKey', 'clock'];
const MAX_TIMER_MS = 2_147_483_647;

/** Open TCP sockets of this process (ioredis connections among them). */
const tcpSockets = (): number =>
  process.getActiveResourcesInfo().filter((resource) => resource === 'TCPSocketWrap').length;

/** Blocks the event loop, as a CPU-bound stretch of the process would. */
function busyFor(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spin
  }
}

function refusal(make: () => unknown): ConfigError {
  const error = thrownBy(make);
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describeWithRedis(`new RedisStore() (${decoratorMode} decorators)`, () => {
  let server: RedisServer;
  let client: Redis;
  let inspect: Redis;
  let n = 0;
  let calls = 0;
  const stores: RedisStore[] = [];
  const track = (store: RedisStore): RedisStore => (stores.push(store), store);
  const prefix = (): string => `options-${decoratorMode}-${++n}`;

  /** One keyed call and its replay through `store`: the body runs once. */
  async function worksForAKeyedCall(store: RedisStore): Promise<void> {
    let runs = 0;
    class Orders {
      @Idempotent({ key: (id: string) => id, store })
      async create(id: string): Promise<{ id: string }> {
        runs++;
        return { id };
      }
    }
    const orders = new Orders();
    const id = `order-${decoratorMode}-${++calls}`;
    expect(await orders.create(id)).toEqual({ id });
    expect(await orders.create(id)).toEqual({ id });
    expect(runs).toBe(1);
  }

  beforeAll(async () => {
    server = await RedisServer.start();
    client = new Redis(server.url);
    inspect = new Redis(server.url);
    await client.ping();
  });
  beforeEach(() => {
    useHarness();
  });
  afterEach(async () => {
    configure({ store: new MemoryStore() });
    while (stores.length > 0) await stores.pop()?.close();
  });
  afterAll(async () => {
    await client.quit();
    await inspect.quit();
    await server.stop();
  });

  describe('its options', () => {
    it('refuses an unknown option (a typo) with ConfigError naming it', () => {
      const error = refusal(() => new RedisStore(client, { commandTimout: 500 } as never));
      expect(error.option).toBe('commandTimout');
      expect(error.message).toMatch(
        /new RedisStore\(\): option 'commandTimout' is not a known option/,
      );
    });

    it.each([Number.NaN, -1, 0, 0.5, 'abc', Number.POSITIVE_INFINITY, MAX_TIMER_MS + 1, null])(
      'refuses commandTimeout %p',
      (commandTimeout) => {
        expect(refusal(() => new RedisStore(client, { commandTimeout } as never)).option).toBe(
          'commandTimeout',
        );
      },
    );

    it.each([Number.NaN, -1, '25', MAX_TIMER_MS + 1])(
      'refuses flushInterval %p',
      (flushInterval) => {
        expect(refusal(() => new RedisStore(client, { flushInterval } as never)).option).toBe(
          'flushInterval',
        );
      },
    );

    it.each([null, 5, {}, { now: 5 }, 'fake'])(
      'refuses clock %p: it must have a now() method',
      (clock) => {
        expect(refusal(() => new RedisStore(client, { clock } as never)).option).toBe('clock');
      },
    );

    it('accepts a clock with a now() method, a FakeClock among them', () => {
      expect(() => track(new RedisStore(client, { clock: { now: () => 0 } }))).not.toThrow();
      expect(() => track(new RedisStore(client, { clock: useHarness().clock }))).not.toThrow();
    });

    it.each(['', 7, null, {}])('refuses prefix %p', (value) => {
      expect(refusal(() => new RedisStore(client, { prefix: value } as never)).option).toBe(
        'prefix',
      );
    });

    it.each([null, 'fast', 5, [{ prefix: 'x' }]])(
      'refuses options that are not an object: %p',
      (options) => {
        expect(refusal(() => new RedisStore(client, options as never)).option).toBe('options');
      },
    );

    it('accepts the limits: commandTimeout 1 and 2^31-1 ms, flushInterval 0, options undefined', () => {
      expect(() =>
        track(new RedisStore(client, { commandTimeout: 1, flushInterval: 0 })),
      ).not.toThrow();
      expect(() => track(new RedisStore(client, { commandTimeout: MAX_TIMER_MS }))).not.toThrow();
      expect(() => track(new RedisStore(client, undefined))).not.toThrow();
      expect(() =>
        track(new RedisStore(client, { prefix: undefined, commandTimeout: undefined })),
      ).not.toThrow();
    });

    it('reads only its own properties: an inherited or polluted option is not an option', async () => {
      const inherited = Object.create({ commandTimeout: -1, prefix: '' }) as object;
      const polluted = Object.prototype as { commandTimeout?: unknown };
      polluted.commandTimeout = 'abc';
      let store: RedisStore;
      try {
        store = track(new RedisStore(client, inherited));
        track(new RedisStore(client, {}));
      } finally {
        delete polluted.commandTimeout;
      }
      await worksForAKeyedCall(store);
    });

    it('refuses a signingKey shorter than 32 bytes, or of another type, without showing the key', () => {
      for (const signingKey of [
        's3cret-but-short',
        Buffer.alloc(31, 1),
        new Uint8Array(16),
        'é'.repeat(15),
      ]) {
        const error = refusal(() => new RedisStore(client, { signingKey }));
        expect(error.option).toBe('signingKey');
        expect(error.message).toMatch(/at least 32 bytes/);
        expect(error.message).not.toContain('s3cret');
      }
      for (const signingKey of [
        42,
        new ArrayBuffer(32),
        { key: 'x'.repeat(32) },
        ['x'.repeat(32)],
      ]) {
        expect(refusal(() => new RedisStore(client, { signingKey } as never)).option).toBe(
          'signingKey',
        );
      }
    });

    it('accepts a signingKey of 32 bytes as a string (UTF-8 bytes), a Buffer or a Uint8Array', () => {
      for (const signingKey of [
        'k'.repeat(32),
        'é'.repeat(16),
        Buffer.alloc(32, 7),
        new Uint8Array(64),
      ]) {
        expect(() => track(new RedisStore(client, { signingKey }))).not.toThrow();
      }
    });
  });

  describe('its first argument', () => {
    it.each([
      'http://127.0.0.1:6379',
      '',
      'localhost:6379',
      'redis://',
      'redis:///0',
      'redis://127.0.0.1:6379/zero',
      'not a url',
    ])("refuses the URL %p with ConfigError naming 'url', not a TypeError", (url) => {
      const error = refusal(() => new RedisStore(url));
      expect(error.option).toBe('url');
    });

    it('does not show the password of a refused URL', () => {
      for (const url of [
        'http://user:hunter2@127.0.0.1:6379',
        'redis://:hunter2@127.0.0.1:6379/x',
        'user:hunter2@127.0.0.1:6379',
      ]) {
        const error = refusal(() => new RedisStore(url));
        expect(error.message).not.toContain('hunter2');
        expect(error.message).toContain('***');
      }
    });

    it.each([
      ['nothing', undefined],
      ['null', null],
      ['a number', 6379],
      ['a plain object', {}],
      ['an object with only evalsha', { evalsha: () => undefined }],
      [
        'a node-redis-like client',
        {
          evalSha: () => undefined,
          duplicate: () => undefined,
          multi: () => undefined,
          on: () => undefined,
        },
      ],
    ])("refuses %s as the client with ConfigError naming 'client'", (_what, value) => {
      expect(refusal(() => new RedisStore(value as never)).option).toBe('client');
    });

    it('refuses a client whose methods come only from a polluted Object.prototype', () => {
      const polluted = Object.prototype as Record<string, unknown>;
      const methods = ['evalsha', 'eval', 'multi', 'duplicate', 'on', 'quit', 'disconnect'];
      for (const method of methods) polluted[method] = () => undefined;
      try {
        expect(refusal(() => new RedisStore({} as never)).option).toBe('client');
      } finally {
        for (const method of methods) delete polluted[method];
      }
    });

    it('opens no connection when it refuses (checks come before connecting)', async () => {
      const before = tcpSockets();
      refusal(() => new RedisStore(server.url, { commandTimeout: -1 }));
      refusal(() => new RedisStore(server.url, { prefix: 'x', unknown: 1 } as never));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(tcpSockets()).toBe(before);
    });

    it('accepts redis:// and rediss:// URLs with a host and a numeric database', async () => {
      const store = track(new RedisStore(`${server.url}/0`, { prefix: prefix() }));
      await worksForAKeyedCall(store);
      for (const url of ['rediss://localhost:1', 'redis://user:pw@[::1]:1/2']) {
        // Only the check: nothing listens there, and the store is closed at once.
        const unreachable = track(new RedisStore(url));
        await unreachable.close();
      }
    });
  });

  it('is either refused with ConfigError naming a bad option, or works for a keyed call (property)', async () => {
    type Case = { value: unknown; bad: boolean };
    const valid = (value: fc.Arbitrary<unknown>): fc.Arbitrary<Case> =>
      value.map((v) => ({ value: v, bad: false }));
    const invalid = (value: fc.Arbitrary<unknown>): fc.Arbitrary<Case> =>
      value.map((v) => ({ value: v, bad: true }));
    const junk = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.object({ maxDepth: 1 }),
      fc.array(fc.integer(), { maxLength: 2 }),
    );
    const option: Record<string, fc.Arbitrary<Case>> = {
      prefix: fc.oneof(
        valid(fc.string({ minLength: 1, maxLength: 12 })),
        valid(fc.constant(undefined)),
        invalid(fc.oneof(fc.constant(''), fc.integer(), junk)),
      ),
      // Valid timeouts here leave Redis time to answer on a loaded machine; 1 ms is accepted above.
      commandTimeout: fc.oneof(
        valid(fc.integer({ min: 5_000, max: MAX_TIMER_MS })),
        valid(fc.double({ min: 5_000, max: 1e6, noNaN: true })),
        invalid(
          fc.oneof(
            fc.constantFrom(
              Number.NaN,
              -1,
              0,
              Number.POSITIVE_INFINITY,
              MAX_TIMER_MS + 1,
              'abc',
              '500',
            ),
            fc.double({ max: 0.999, noNaN: true }),
            junk,
          ),
        ),
      ),
      flushInterval: fc.oneof(
        valid(fc.integer({ min: 0, max: 10_000 })),
        invalid(
          fc.oneof(
            fc.constantFrom(Number.NaN, -0.5, '25', MAX_TIMER_MS + 1),
            fc.integer({ max: -1 }),
            junk,
          ),
        ),
      ),
      signingKey: fc.oneof(
        valid(fc.string({ minLength: 32, maxLength: 64 })),
        valid(fc.uint8Array({ minLength: 32, maxLength: 64 }).map((bytes) => Buffer.from(bytes))),
        valid(fc.uint8Array({ minLength: 32, maxLength: 40 })),
        invalid(
          fc.oneof(
            fc.string({ maxLength: 31 }).filter((text) => Buffer.byteLength(text) < 32),
            fc.uint8Array({ maxLength: 31 }),
            fc.integer(),
            junk,
          ),
        ),
      ),
    };
    const unknownKey = fc
      .string({ minLength: 1, maxLength: 16 })
      .filter((key) => !KNOWN.includes(key));
    const optionsArbitrary = fc
      .record(
        {
          prefix: option.prefix,
          commandTimeout: option.commandTimeout,
          flushInterval: option.flushInterval,
          signingKey: option.signingKey,
          unknown: fc.option(fc.tuple(unknownKey, fc.anything({ maxDepth: 1 })), {
            nil: undefined,
          }),
        },
        { requiredKeys: [] },
      )
      .map((drawn) => {
        const options: Record<string, unknown> = {};
        const bad = new Set<string>();
        for (const key of KNOWN) {
          const chosen = (drawn as Record<string, Case | undefined>)[key];
          if (chosen === undefined) continue;
          options[key] = chosen.value;
          if (chosen.bad) bad.add(key);
        }
        if (drawn.unknown !== undefined) {
          Object.defineProperty(options, drawn.unknown[0], {
            value: drawn.unknown[1],
            enumerable: true,
            configurable: true,
            writable: true,
          });
          bad.add(drawn.unknown[0]);
        }
        return { options, bad };
      });
    const firstArgument = fc.oneof(
      { weight: 6, arbitrary: fc.constant({ value: 'client' as const, bad: undefined }) },
      { weight: 1, arbitrary: fc.constant({ value: 'url' as const, bad: undefined }) },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom('http://127.0.0.1:6379', '', 'localhost:6379')
          .map((url) => ({ value: url, bad: 'url' })),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom({}, null, 42).map((value) => ({ value, bad: 'client' })),
      },
    );

    await fc.assert(
      fc.asyncProperty(firstArgument, optionsArbitrary, async (first, { options, bad }) => {
        const badOptions = new Set(bad);
        if (first.bad !== undefined) badOptions.add(first.bad);
        const argument =
          first.value === 'client' ? client : first.value === 'url' ? server.url : first.value;
        let store: RedisStore | undefined;
        try {
          store = new RedisStore(
            argument as never,
            ('prefix' in options ? options : { ...options, prefix: prefix() }) as never,
          );
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          expect([...badOptions]).toContain((error as ConfigError).option);
          return;
        }
        try {
          expect([...badOptions]).toEqual([]);
          await worksForAKeyedCall(store);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 120 },
    );
  });

  describe('commandTimeout', () => {
    it('holds one timer for the store, not one per command', async () => {
      const store = track(new RedisStore(client, { prefix: prefix() }));
      await store.read('0'.repeat(64), 0);
      const setTimeoutCalls = jest.spyOn(globalThis, 'setTimeout');
      try {
        const claims = Array.from({ length: 200 }, (_, index) =>
          store.claim(`${index}`.padStart(64, '0'), 'f'.repeat(64), 't', 5_000, 0),
        );
        await Promise.all(claims);
        expect(setTimeoutCalls.mock.calls.length).toBeLessThanOrEqual(1);
      } finally {
        setTimeoutCalls.mockRestore();
      }
    });

    it('does not charge Redis for a synchronous stretch of this process after the commands were issued', async () => {
      const store = track(new RedisStore(client, { prefix: prefix(), commandTimeout: 100 }));
      await store.read('0'.repeat(64), 0);
      const claims = Array.from({ length: 20 }, (_, index) =>
        store.claim(`${index}`.padStart(64, '1'), 'f'.repeat(64), 't', 5_000, 0),
      );
      // Issuing a burst (the calls' own CPU work) takes longer than the timeout…
      busyFor(300);
      await new Promise((resolve) => setImmediate(resolve));
      // …and the process stays busy while the replies arrive: they are read before any deadline is checked.
      busyFor(300);
      const outcomes = await Promise.allSettled(claims);
      expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    });

    describe('against a server that accepts connections but never answers', () => {
      let silent: Server;
      let port: number;
      const sockets = new Set<Socket>();
      beforeAll(async () => {
        silent = createServer((socket) => {
          sockets.add(socket);
          socket.on('error', () => {});
          socket.on('end', () => socket.destroy());
          socket.on('close', () => sockets.delete(socket));
        });
        await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
        port = (silent.address() as { port: number }).port;
      });
      afterAll(async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      });

      it('still fails an operation after commandTimeout', async () => {
        const store = track(new RedisStore(`redis://127.0.0.1:${port}`, { commandTimeout: 100 }));
        const started = Date.now();
        const error = await store.claim('2'.repeat(64), 'f'.repeat(64), 't', 5_000, 0).then(
          () => undefined,
          (reason: unknown) => reason,
        );
        expect((error as Error).message).toBe('Redis did not answer within 100 ms');
        expect(Date.now() - started).toBeGreaterThanOrEqual(95);
        expect(Date.now() - started).toBeLessThan(3_000);
        // QUIT is not answered either: close() gives up after commandTimeout and disconnects.
        const closing = Date.now();
        await store.close();
        expect(Date.now() - closing).toBeLessThan(3_000);
      });
    });

    it('sends a script once to a Redis that does not have it, not once per command of a burst', async () => {
      await inspect.script('FLUSH');
      await inspect.config('RESETSTAT');
      const store = track(new RedisStore(client, { prefix: prefix() }));
      await Promise.all(
        Array.from({ length: 100 }, (_, index) =>
          store.claim(`${index}`.padStart(64, '3'), 'f'.repeat(64), 't', 5_000, 0),
        ),
      );
      const stats = await inspect.info('commandstats');
      expect(stats).not.toMatch(/cmdstat_eval:/);
      expect(stats).toMatch(/cmdstat_script\|load:calls=1,|cmdstat_script:calls=1,/);
      expect(stats).toMatch(/cmdstat_evalsha:calls=100,/);
    });

    it('after Redis lost its scripts (a restart), an operation still succeeds and loads the script again', async () => {
      const store = track(new RedisStore(client, { prefix: prefix() }));
      await store.claim('4'.repeat(64), 'f'.repeat(64), 't', 5_000, 0);
      await inspect.script('FLUSH');
      expect(await store.claim('5'.repeat(64), 'f'.repeat(64), 't', 5_000, 0)).toEqual({
        claimed: true,
      });
      await inspect.config('RESETSTAT');
      expect(await store.claim('6'.repeat(64), 'f'.repeat(64), 't', 5_000, 0)).toEqual({
        claimed: true,
      });
      expect(await store.claim('7'.repeat(64), 'f'.repeat(64), 't', 5_000, 0)).toEqual({
        claimed: true,
      });
      expect(await inspect.info('commandstats')).not.toMatch(/cmdstat_eval:/);
    });
  });
});
