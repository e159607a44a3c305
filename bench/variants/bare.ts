import { ServiceError } from '../harness/operations';
import type { Variant } from '../harness/types';

/** The operation itself: the floor every ratio is taken against. */
export const bare: Variant = {
  name: 'bare await op()',
  library: '',
  config: 'the operation called directly, no wrapper',
  setup: (op) => ({ target: op }),
};

/** Awaiting a rejection and nothing else: the floor for calls refused by an open breaker. */
export const bareRejection: Variant = {
  name: 'bare rejected await',
  library: '',
  config: 'an async function that throws a prebuilt error (no breaker, the operation does not run)',
  setup: () => {
    const error = new ServiceError();
    return {
      target: async (): Promise<number> => {
        throw error;
      },
    };
  },
};
