/*
 * One process of the fleet retry storm (bench/fleet/budget-storm.ts): CALLERS concurrent callers,
 * each calling, then thinking THINK_MS, through @Retryable({ maxAttempts: 4 }) to a dependency in
 * this process that answers in DEPENDENCY_MS and fails STORM_FAILURE of its calls. The retry budget
 * is STORM_BUDGET (JSON of @Retryable's `budget`, or 'false'), on a RedisStore at REDIS_URL.
 * Prints { ready } once its first call has gone through, starts on a 'go' line on stdin, runs
 * STORM_SECONDS, prints its figures and ends.
 */
import { createInterface } from 'node:readline';
import { configure, Idempotent, Retryable, type RetryBudgetOptions } from '../../src';
import { RedisStore } from '../../src/redis';

const CALLERS = Number(process.env.STORM_CALLERS ?? '50');
const THINK_MS = 100;
const DEPENDENCY_MS = 5;
const failureRate = Number(process.env.STORM_FAILURE ?? '1');
const seconds = Number(process.env.STORM_SECONDS ?? '10');
const budget = JSON.parse(process.env.STORM_BUDGET ?? 'false') as RetryBudgetOptions | false;

const store = new RedisStore(process.env.REDIS_URL as string);
configure({ store, logger: false });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let dependencyCalls = 0;
let failing = true;
async function dependency(): Promise<string> {
  dependencyCalls++;
  await sleep(DEPENDENCY_MS);
  if (failing && Math.random() < failureRate) throw new Error('dependency failed');
  return 'ok';
}

class Client {
  @Idempotent()
  @Retryable({ maxAttempts: 4, initialDelay: 50, maxDelay: 1_000, budget })
  call(): Promise<string> {
    return dependency();
  }
}
const client = new Client();

async function storm(): Promise<void> {
  let callerCalls = 0;
  let succeeded = 0;
  dependencyCalls = 0;
  const endAt = Date.now() + seconds * 1000;
  const caller = async (): Promise<void> => {
    await sleep(Math.random() * THINK_MS);
    while (Date.now() < endAt) {
      callerCalls++;
      if (
        await client.call().then(
          () => true,
          () => false,
        )
      )
        succeeded++;
      await sleep(THINK_MS);
    }
  };
  await Promise.all(Array.from({ length: CALLERS }, caller));
  process.stdout.write(`${JSON.stringify({ callerCalls, dependencyCalls, succeeded })}\n`);
  await store.close();
  process.exit(0);
}

// The first call learns the fleet's budget (its batch is urgent: this process has never heard).
failing = false;
void client
  .call()
  .then(() => sleep(200))
  .then(() => {
    failing = true;
    process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  });
createInterface({ input: process.stdin }).once('line', () => void storm());
