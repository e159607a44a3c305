import { pathToFileURL } from 'node:url';
import type { Variant } from '../harness/types';
import { RETRIES } from './equivalence';

type PRetryModule = typeof import('p-retry');

// p-retry is ESM only. A `import()` written here would be compiled to require() (the bench is
// CommonJS), so the import is made at run time, where TypeScript does not rewrite it.
const importModule = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<unknown>;

export const pRetry: Variant = {
  name: 'p-retry',
  library: 'p-retry',
  config: `pRetry(op, { retries: ${RETRIES}, minTimeout: 0 })`,
  async setup(op) {
    const { default: run } = (await importModule(
      pathToFileURL(require.resolve('p-retry')).href,
    )) as PRetryModule;
    return {
      target: { run, op, options: { retries: RETRIES, minTimeout: 0 } },
      invoke: 't.run(t.op, t.options)',
    };
  },
};
