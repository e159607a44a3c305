import retry from 'async-retry';
import type { Variant } from '../harness/types';
import { RETRIES } from './equivalence';

export const asyncRetry: Variant = {
  name: 'async-retry',
  library: 'async-retry',
  config: `retry(op, { retries: ${RETRIES}, minTimeout: 0, factor: 1 })`,
  setup: (op) => ({
    target: { retry, op, options: { retries: RETRIES, minTimeout: 0, factor: 1 } },
    invoke: 't.retry(t.op, t.options)',
  }),
};
