import Redis from 'ioredis';
import { CircuitBreaker, configure, MemoryStore, Timeout } from '../../src';
import { RedisStore } from '../../src/redis';
import { systemClock } from '../../src/runtime/clock';
import { decoratorMode, useHarness } from '../support/harness';
import { RedisServer } from '../support/redis-server';
import { describeWithRedis } from '../support/describe-with-redis';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Real time on one redis-server: the lease end is decided by Redis's clock.
describeWithRedis(`a fleet trial permit's lease (${decoratorMode} decorators)`, () => {
  let server: RedisServer;
  let inspect: Redis;
  let store: RedisStore;

  beforeAll(async () => {
    server = await RedisServer.start();
    inspect = new Redis(server.url);
    store = new RedisStore(server.url);
    configure({ store });
  });
  afterAll(async () => {
    configure({ store: new MemoryStore() });
    await store.close();
    inspect.disconnect();
    await server.stop();
  });

  /** The permits Redis holds for `name`: [token, lease end (ms, Redis's clock)]. */
  const heldPermits = async (name: string): Promise<[string, number][]> =>
    JSON.parse((await inspect.hget(`steadfast:circuit:{${name}}`, 'pm')) ?? '[]') as [
      string,
      number,
    ][];
  const redisNow = async (): Promise<number> => {
    const [seconds, micros] = await inspect.time();
    return Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
  };

  /** Opens `name`, waits for half-open, starts a trial that holds its permit, and reads the lease left. */
  async function leaseLeftDuringTrial(
    name: string,
    call: (mode: 'fail' | 'hold' | 'ok') => Promise<string>,
    release: () => void,
  ): Promise<number> {
    await expect(call('fail')).rejects.toThrow('down');
    // openDuration is 300 ms from when Redis heard of the failure; until then a call is refused.
    let trial: Promise<string> | undefined;
    let held: [string, number][] = [];
    for (let tries = 0; tries < 50 && held.length === 0; tries++) {
      await pause(100);
      let refused = false;
      const attempt = call('hold');
      attempt.catch(() => (refused = true));
      for (let polls = 0; polls < 10 && !refused && held.length === 0; polls++) {
        await pause(20);
        held = await heldPermits(name);
      }
      if (held.length > 0) trial = attempt;
      else await attempt.catch((error: unknown) => expect(error).toHaveProperty('state'));
    }
    expect(held).toHaveLength(1);
    const left = held[0][1] - (await redisNow());
    release();
    await expect(trial).resolves.toBe('ok');
    return left;
  }

  it('is the attempt timeout + 1 s where the method has one, and openDuration + 5 s where it has none', async () => {
    useHarness();
    // Real time throughout: the fleet's half-open comes from Redis's clock.
    configure({ clock: systemClock });
    let releaseHeld: () => void = () => undefined;
    const body = async (mode: 'fail' | 'hold' | 'ok'): Promise<string> => {
      if (mode === 'fail') throw new Error('down');
      if (mode === 'hold') await new Promise<void>((resolve) => (releaseHeld = resolve));
      return 'ok';
    };
    const breaker = { consecutiveFailures: 1, openDuration: 300, halfOpenMaxCalls: 1 };
    class Timed {
      @Timeout(8_000)
      @CircuitBreaker({ ...breaker, name: `lease-timed-${decoratorMode}` })
      call(mode: 'fail' | 'hold' | 'ok'): Promise<string> {
        return body(mode);
      }
    }
    class Untimed {
      @CircuitBreaker({ ...breaker, name: `lease-untimed-${decoratorMode}` })
      call(mode: 'fail' | 'hold' | 'ok'): Promise<string> {
        return body(mode);
      }
    }
    const timed = new Timed();
    const untimed = new Untimed();
    const timedLeft = await leaseLeftDuringTrial(
      `lease-timed-${decoratorMode}`,
      (mode) => timed.call(mode),
      () => releaseHeld(),
    );
    const untimedLeft = await leaseLeftDuringTrial(
      `lease-untimed-${decoratorMode}`,
      (mode) => untimed.call(mode),
      () => releaseHeld(),
    );
    // 9 000 ms from the request, read a little later (a loaded machine: up to 2 s later).
    expect(timedLeft).toBeLessThanOrEqual(9_000);
    expect(timedLeft).toBeGreaterThan(7_000);
    // 300 + 5 000 ms without a timeout.
    expect(untimedLeft).toBeLessThanOrEqual(5_300);
    expect(untimedLeft).toBeGreaterThan(3_300);
  });
});
