/*
 * One process of the fleet bench: 10 named breakers on a RedisStore, called at a steady rate when
 * told. Reads one JSON command a line on stdin, answers each with one JSON line on stdout:
 *   { op: 'rate', callsPerSecond, failureRatio }  calls at that rate from now on (0: stops)
 *   { op: 'counts' }                              calls made and Redis round trips so far
 * Ends when stdin ends (closing its store). The library is ../../src, or FLEET_BENCH_LIBRARY (a
 * folder with index.js and redis/index.js: another build, to compare).
 */
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import Redis from 'ioredis';

type Library = typeof import('../../src');
type RedisEntry = typeof import('../../src/redis');

const libraryDir = process.env.FLEET_BENCH_LIBRARY ?? join(__dirname, '..', '..', 'src');
// The library under test is chosen at run time, hence require().
const library = require(libraryDir) as Library;
const { RedisStore } = require(join(libraryDir, 'redis')) as RedisEntry;

const BREAKERS = 10;
const TICK_MS = 5;

const client = new Redis(process.env.REDIS_URL as string, { maxRetriesPerRequest: 1 });
let roundTrips = 0;
// Every store operation is one script run, one round trip: counted where they are sent.
for (const method of ['evalsha', 'eval'] as const) {
  const original = client[method].bind(client) as (...args: unknown[]) => Promise<unknown>;
  (client as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
    roundTrips++;
    return original(...args);
  };
}
const store = new RedisStore(client);
library.configure({ store, logger: false });

/** The breakers' options: what a service's dependencies look like, the default criterion most often. */
function optionsOf(index: number): Record<string, unknown> {
  if (index < 5) return { consecutiveFailures: 5 };
  if (index < 8) return { failureRate: { threshold: 0.5, window: { type: 'count', size: 100 } } };
  return { failureRate: { threshold: 0.5, window: { type: 'time', size: 10_000 } } };
}

const services = Array.from({ length: BREAKERS }, (_, index) => {
  class Dependency {
    @library.CircuitBreaker({ name: `bench-fleet-${index}`, ...optionsOf(index) })
    async call(fail: boolean): Promise<number> {
      if (fail) throw new Error('down');
      return index;
    }
  }
  return new Dependency();
});

let rate = 0;
let failureRatio = 0;
let calls = 0;
let owed = 0;
let last = performance.now();
let next = 0;
const ignore = (): undefined => undefined;

setInterval(() => {
  const now = performance.now();
  owed += ((now - last) * rate) / 1000;
  last = now;
  for (; owed >= 1; owed--) {
    calls++;
    const fail = failureRatio > 0 && Math.random() < failureRatio;
    services[next].call(fail).catch(ignore);
    next = (next + 1) % BREAKERS;
  }
}, TICK_MS).unref();

function answer(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (text) => {
  const command = JSON.parse(text) as {
    id: number;
    op: string;
    callsPerSecond?: number;
    failureRatio?: number;
  };
  if (command.op === 'rate') {
    rate = command.callsPerSecond ?? 0;
    failureRatio = command.failureRatio ?? 0;
    owed = 0;
    last = performance.now();
  }
  answer({ id: command.id, calls, roundTrips, at: Date.now() });
});
lines.on('close', () => {
  rate = 0;
  void store
    .close()
    .then(() => client.quit())
    .finally(() => process.exit(0));
});

// The first call through each breaker reads its state: done here, before any measurement.
void Promise.all(services.map((service) => service.call(false).catch(ignore))).then(() =>
  answer({ ready: true, pid: process.pid }),
);
