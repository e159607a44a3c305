import {
  configure,
  CorruptRecordError,
  Idempotent,
  MemoryStore,
  type ClaimOutcome,
  type IdempotencyStore,
} from '../../src';
import { decoratorMode, useHarness, type Harness } from '../support/harness';
import { RecordingStore, rejectionOf } from './support';

/** A store whose claims find, under every key, a completed record holding `result`. */
function storeHolding(result: unknown): IdempotencyStore {
  const store = new RecordingStore();
  store.claim = async (): Promise<ClaimOutcome> => ({
    claimed: false,
    record: { state: 'completed', fingerprint: sameFingerprint, result: result as string },
  });
  return store;
}

/** A store that answers every claim by finding a record it cannot read. */
function storeFindingGarbage(): IdempotencyStore {
  const store = new RecordingStore();
  store.claim = async (): Promise<ClaimOutcome> => {
    throw new CorruptRecordError(undefined, 'it is not JSON');
  };
  return store;
}

let sameFingerprint = '';

function defineLedger(store: IdempotencyStore, onStoreError: 'reject' | 'proceed') {
  const ledger = {
    runs: 0,
    service: undefined as unknown as { post(id: string): Promise<string> },
  };
  class Ledger {
    @Idempotent({ key: (id: string) => id, store, onStoreError })
    async post(id: string): Promise<string> {
      ledger.runs++;
      return `posted ${id}`;
    }
  }
  ledger.service = new Ledger();
  return ledger;
}

describe(`a keyed call that finds a record it cannot read (${decoratorMode} decorators)`, () => {
  let h: Harness;
  beforeEach(async () => {
    h = useHarness();
    configure({ store: new MemoryStore() });
    // The fingerprint of ('p-1'), as the keyed stage computes it: read from a real claim.
    const probe = new RecordingStore();
    await defineLedger(probe, 'reject').service.post('p-1');
    sameFingerprint = probe.of('claim')[0]?.args[1] as string;
  });

  it.each(['reject', 'proceed'] as const)(
    'fails closed with CorruptRecordError when the store finds garbage (onStoreError %s)',
    async (onStoreError) => {
      const ledger = defineLedger(storeFindingGarbage(), onStoreError);

      const error = await rejectionOf(ledger.service.post('p-1'));
      expect(error).toBeInstanceOf(CorruptRecordError);
      expect(error).toMatchObject({
        code: 'STEADFAST_IDEMPOTENCY_CORRUPT_RECORD',
        method: 'Ledger.post',
        problem: 'it is not JSON',
      });
      expect((error as Error).message).toMatch(
        /^Ledger\.post: the idempotency record under this key cannot be read \(it is not JSON\)/,
      );
      expect(ledger.runs).toBe(0);
      expect(h.logger.at('error').map((entry) => entry.message)).toEqual([
        expect.stringMatching(/^Ledger\.post failed: CorruptRecordError/),
      ]);
    },
  );

  it.each([
    ['a result that is not JSON', 'garbage{', 'its result is not JSON'],
    ['no result at all', undefined, 'the completed record holds no result'],
    ['JSON that is not a result envelope', '{"value":1}', 'its result is not a result envelope'],
    ['an envelope with an unknown marker', '{"u":2}', 'its result is not a result envelope'],
    ['a JSON array', '[1]', 'its result is not a result envelope'],
  ])(
    'fails closed when a completed record holds %s, never with a raw SyntaxError',
    async (_what, result, problem) => {
      const ledger = defineLedger(storeHolding(result), 'proceed');

      const error = await rejectionOf(ledger.service.post('p-1'));
      expect(error).toBeInstanceOf(CorruptRecordError);
      expect(error).toMatchObject({ method: 'Ledger.post', problem });
      expect(ledger.runs).toBe(0);
    },
  );

  it('still replays a well-formed record (the control)', async () => {
    const ledger = defineLedger(storeHolding('{"v":"posted earlier"}'), 'reject');

    await expect(ledger.service.post('p-1')).resolves.toBe('posted earlier');
    expect(ledger.runs).toBe(0);
  });
});
