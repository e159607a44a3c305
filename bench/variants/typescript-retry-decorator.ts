import { Retryable } from 'typescript-retry-decorator';
import type { Operation } from '../harness/operations';
import type { Variant } from '../harness/types';
import { RETRIES } from './equivalence';

const OPTIONS = {
  maxAttempts: RETRIES,
  backOff: 0,
  useConsoleLogger: false,
  useOriginalError: true,
};

export const typescriptRetryDecorator: Variant = {
  name: 'typescript-retry-decorator',
  library: 'typescript-retry-decorator',
  config: `@Retryable({ maxAttempts: ${RETRIES}, backOff: 0, useConsoleLogger: false, useOriginalError: true }) (maxAttempts counts retries)`,
  setup(op: Operation) {
    class Service {
      @Retryable(OPTIONS)
      call(): Promise<number> {
        return op();
      }
    }
    return { target: new Service(), invoke: 't.call()' };
  },
};
