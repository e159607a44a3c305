import type { Operation } from '../harness/operations';
import type { Variant } from '../harness/types';
import { ATTEMPTS } from './equivalence';

type AsyncMethod = (this: unknown, ...args: unknown[]) => Promise<unknown>;

/** Typed for both of TypeScript's decorator modes, as the bench is type-checked under both. */
interface AsyncMethodDecorator {
  <This, Args extends unknown[], Return extends Promise<unknown>>(
    value: (this: This, ...args: Args) => Return,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Return>,
  ): (this: This, ...args: Args) => Return;
  <Method extends (...args: never[]) => Promise<unknown>>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<Method>,
  ): TypedPropertyDescriptor<Method>;
}

/**
 * The least a retry decorator can be: an async wrapper with try/await, no delay, no options, no
 * logging. It is the floor steadfast's decorators are held to.
 */
export function MinimalRetry(maxAttempts: number): AsyncMethodDecorator {
  const wrap = (original: AsyncMethod): AsyncMethod =>
    async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await original.apply(this, args);
        } catch (error) {
          if (attempt >= maxAttempts) throw error;
        }
      }
    };
  return ((value: unknown, _context: unknown, descriptor?: PropertyDescriptor): unknown => {
    if (descriptor === undefined) return wrap(value as AsyncMethod);
    descriptor.value = wrap(descriptor.value as AsyncMethod);
    return descriptor;
  }) as AsyncMethodDecorator;
}

export const handWrittenRetry: Variant = {
  name: 'hand-written retry decorator',
  library: '',
  config: `an async wrapper with try/await around the method, ${ATTEMPTS} attempts, no delay`,
  setup(op: Operation) {
    class Service {
      @MinimalRetry(ATTEMPTS)
      call(): Promise<number> {
        return op();
      }
    }
    return { target: new Service(), invoke: 't.call()' };
  },
};
