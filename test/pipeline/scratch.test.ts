import { Timeout, Idempotent, Retryable, attemptSignal, type SteadfastMethodDecorator } from '../../src';
import { useHarness } from '../support/harness';

it('parses', async () => {
  useHarness();
  const d: SteadfastMethodDecorator[] = [Idempotent(), Retryable({ maxAttempts: 2 }), Timeout(100)];
  class A {
    @(d[0]!) @(d[1]!) @(d[2]!)
    async m(): Promise<unknown> {
      return attemptSignal() !== undefined;
    }
  }
  expect(await new A().m()).toBe(true);
});

it('sees unhandled rejections', async () => {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => void seen.push(reason);
  process.on('unhandledRejection', listener);
  void Promise.reject(new Error('x'));
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  process.off('unhandledRejection', listener);
  expect(seen).toHaveLength(1);
});

it('counts timers', () => {
  const count = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = count();
  const t = setTimeout(() => {}, 10000);
  const a = count();
  t.unref();
  const b = count();
  clearTimeout(t);
  console.log(before, a, b, count());
});
