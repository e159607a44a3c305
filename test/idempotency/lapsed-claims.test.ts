import { createHash } from 'node:crypto';
import { MemoryStore } from '../../src';
import { decoratorMode } from '../support/harness';

const hash = (text: string): string => createHash('sha256').update(text).digest('hex');
const KEY = hash('key');
const FP = hash('fingerprint');

describe(`a claim past its lease in a MemoryStore (${decoratorMode} decorators)`, () => {
  it('holds until its lease ends, then is taken over by the next claim', async () => {
    const store = new MemoryStore();
    expect(await store.claim(KEY, FP, 'first', 1_000, 10_000)).toEqual({ claimed: true });
    expect(await store.claim(KEY, FP, 'second', 1_000, 10_999)).toEqual({
      claimed: false,
      record: { state: 'in-progress', fingerprint: FP, token: 'first', leaseUntil: 11_000 },
    });
    expect(await store.claim(KEY, FP, 'second', 1_000, 11_000)).toEqual({ claimed: true });
    expect(await store.read(KEY, 11_000)).toMatchObject({
      state: 'in-progress',
      token: 'second',
      leaseUntil: 12_000,
    });
  });

  it('keeps the new claim when the lapsed runner completes or releases late', async () => {
    const store = new MemoryStore();
    await store.claim(KEY, FP, 'lapsed', 100, 0);
    await store.claim(KEY, FP, 'current', 1_000, 100);
    await store.complete(KEY, 'lapsed', FP, '{"v":"late"}', 60_000, 150);
    await store.release(KEY, 'lapsed');
    expect(await store.read(KEY, 150)).toMatchObject({ state: 'in-progress', token: 'current' });
  });
});
