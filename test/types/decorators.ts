/*
 * Type-level tests of the decorators, checked by `npm run typecheck` in both decorator modes
 * (tsconfig.json: legacy; tsconfig.standard.json: standard). Never run: each `@ts-expect-error`
 * must be an error in both modes, and everything else must compile in both.
 */
import { CircuitBreaker, Idempotent, Retryable, type SteadfastMethodDecorator } from '../../src';

interface Invoice {
  readonly id: string;
  readonly total: number;
}

// Valid uses compile: parameters, `this`, statics, positional and object options, any order.
export class ValidUses {
  private readonly base = 'https://api.example';

  @Idempotent()
  @Retryable({ maxAttempts: 4, initialDelay: 100, maxDelay: 2_000 })
  async getInvoice(id: string, _expand?: readonly string[]): Promise<Invoice> {
    return { id: `${this.base}/${id}`, total: 0 };
  }

  @Retryable(3, 100, 1_000)
  @Idempotent()
  async positional(id: string): Promise<string> {
    return this.base + id;
  }

  @Idempotent()
  @Retryable(5)
  async oneArgument(): Promise<void> {}

  @Idempotent()
  @Retryable(5, 50)
  async twoArguments(): Promise<void> {}

  @Idempotent()
  @Retryable()
  static async staticMethod(count: number): Promise<number> {
    return count + this.name.length;
  }

  @Idempotent({})
  async idempotentOnly(...ids: string[]): Promise<string[]> {
    return ids;
  }

  @Idempotent()
  @Retryable({
    jitter: 'decorrelated',
    retryOn: [TypeError, RangeError],
    retryOnResult: (result) => result === null,
    maxElapsed: 10_000,
    signal: (args) => (args[0] as { signal?: AbortSignal }).signal,
  })
  async withSignal(_request: { signal?: AbortSignal }): Promise<Invoice | null> {
    return null;
  }

  @Idempotent()
  @Retryable({ retryOn: (error, attempt) => error instanceof TypeError && attempt < 3 })
  async withPredicate(): Promise<void> {}
}

// The decorated method keeps its own signature for callers.
export async function callers(uses: ValidUses): Promise<void> {
  const invoice: Invoice = await uses.getInvoice('a', ['lines']);
  const total: number = invoice.total;
  const count: number = await ValidUses.staticMethod(total);
  const ids: string[] = await uses.idempotentOnly('a', 'b');
  // @ts-expect-error the parameter is still a string
  await uses.getInvoice(42);
  // @ts-expect-error the result is still an Invoice, not a string
  const wrong: string = await uses.getInvoice('a');
  void [count, ids, wrong];
}

// The decorator factories return the both-modes decorator type.
export const retryable: SteadfastMethodDecorator = Retryable();
export const idempotent: SteadfastMethodDecorator = Idempotent();

// A method that does not return a Promise is a type error, in both modes.
export class SyncMethods {
  // @ts-expect-error returns number, not a Promise
  @Retryable()
  sum(a: number, b: number): number {
    return a + b;
  }

  // @ts-expect-error returns number, not a Promise
  @Idempotent()
  answer(): number {
    return 42;
  }

  // @ts-expect-error returns void, not a Promise
  @Retryable(3)
  static fire(): void {}
}

// A getter is a type error, in both modes.
export class Getters {
  // @ts-expect-error a getter is not a method
  @Retryable()
  get balance(): number {
    return 0;
  }

  // @ts-expect-error a getter is not a method, even one returning a Promise
  @Idempotent()
  get pending(): Promise<number> {
    return Promise.resolve(0);
  }
}

// A field is a type error, in both modes, even when it holds an async function.
export class Fields {
  // @ts-expect-error a field is not a method
  @Retryable()
  limit = 3;

  // @ts-expect-error a field is not a method
  @Idempotent()
  handler = async (): Promise<void> => {};
}

// Options of @Idempotent: none yet beyond an empty object.
export class IdempotentOptionsChecks {
  // @ts-expect-error not an option of @Idempotent
  @Idempotent({ retries: 2 })
  async unknownOption(): Promise<void> {}
}

// Too many or wrongly typed positional arguments.
export class PositionalChecks {
  // @ts-expect-error at most three positional arguments
  @Retryable(3, 100, 1_000, 5)
  async tooMany(): Promise<void> {}

  // @ts-expect-error positional arguments are numbers
  @Retryable('3')
  async text(): Promise<void> {}

  // @ts-expect-error an options object is not followed by positional arguments
  @Retryable({ maxAttempts: 3 }, 100)
  async mixed(): Promise<void> {}
}

// Generic methods, `this` parameters with rest arguments, and static methods compile in both modes.
export class GenericRepository {
  @Idempotent()
  @Retryable(3)
  @CircuitBreaker()
  async get<T>(id: string): Promise<T> {
    return JSON.parse(id) as T;
  }

  @Idempotent()
  @Retryable()
  async many(this: GenericRepository, ...ids: string[]): Promise<string[]> {
    return ids;
  }

  @Idempotent()
  @Retryable()
  static async create(): Promise<GenericRepository> {
    return new GenericRepository();
  }
}
export const typedResult: Promise<number> = new GenericRepository().get<number>('1');

// Methods that return an RxJS Observable compile in both modes, and keep their type.
import { Observable, of } from 'rxjs';
export class ObservableUses {
  @Idempotent()
  @Retryable({ maxAttempts: 3 })
  @CircuitBreaker()
  stock(sku: string): Observable<number> {
    return of(sku.length);
  }

  @Idempotent({ key: (id: string) => id })
  generic<T>(id: string, value: T): Observable<T> {
    return of(value ?? (id as never));
  }
}
export const stockType: Observable<number> = new ObservableUses().stock('kettle');
