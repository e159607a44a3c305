import { firstValueFrom, lastValueFrom, Observable, of, toArray, map, defer } from 'rxjs';
import {
  attemptSignal,
  CircuitBreaker,
  CircuitOpenError,
  configure,
  defaultEngine,
  Fallback,
  Idempotent,
  MemoryStore,
  Retryable,
  Timeout,
} from '../../src';
import { decoratorMode, useHarness, type Harness } from '../support/harness';
import { itInLegacyMode } from '../decorators/helpers';

/** A cold source that fails its first `failures` subscriptions, then emits `values` and completes. */
function flakySource<T>(
  values: T[],
  failures: number,
  counter: { subscriptions: number },
): Observable<T> {
  return new Observable<T>((subscriber) => {
    counter.subscriptions++;
    if (counter.subscriptions <= failures) {
      subscriber.error(new Error(`subscription ${counter.subscriptions} failed`));
      return;
    }
    for (const value of values) subscriber.next(value);
    subscriber.complete();
  });
}

/**
 * In standard decorator mode there is no type metadata: a method's first call learns that it returns
 * an Observable. Warm each method up once so that every assertion sees it as such.
 */
async function warmedUp<T>(call: () => Observable<T>, clock: Harness['clock']): Promise<void> {
  const done = lastValueFrom(call().pipe(toArray())).catch(() => undefined);
  await clock.runAll();
  await done;
}

describe(`methods that return an Observable (${decoratorMode} decorators)`, () => {
  let h: Harness;
  beforeEach(() => {
    h = useHarness();
    configure({ store: new MemoryStore() });
  });

  it('returns an Observable, and each subscription is one call: the body runs once per call, not per call of the method', async () => {
    const counter = { subscriptions: 0 };
    let bodies = 0;
    class Stock {
      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 10, maxDelay: 10, jitter: 'none' })
      levels(): Observable<number> {
        bodies++;
        return flakySource([1, 2, 3], 0, counter);
      }
    }
    const stock = new Stock();
    await warmedUp(() => stock.levels(), h.clock);
    bodies = 0;
    counter.subscriptions = 0;

    const levels = stock.levels();
    expect(levels).toBeInstanceOf(Observable);
    expect(bodies).toBe(0); // nothing runs before a subscription
    await expect(lastValueFrom(levels.pipe(toArray()))).resolves.toEqual([1, 2, 3]);
    await expect(lastValueFrom(levels.pipe(toArray()))).resolves.toEqual([1, 2, 3]);
    expect([bodies, counter.subscriptions]).toEqual([2, 2]);
  });

  it('retries by resubscribing to the source: a cold source that errors twice gives its values on the third subscription', async () => {
    const counter = { subscriptions: 0 };
    let bodies = 0;
    class Stock {
      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 10, maxDelay: 10, jitter: 'none' })
      levels(): Observable<number> {
        bodies++;
        return flakySource([7, 8], 2, counter);
      }
    }
    const stock = new Stock();
    await warmedUp(() => new Stock().levels(), h.clock); // another instance: the counters below start clean
    bodies = 0;
    counter.subscriptions = 0;
    const retriesBefore = h.events('retry').length;

    const values = lastValueFrom(stock.levels().pipe(toArray()));
    await h.clock.runAll();
    await expect(values).resolves.toEqual([7, 8]);
    expect(counter.subscriptions).toBe(3);
    expect(bodies).toBe(1);
    expect(
      h
        .events('retry')
        .slice(retriesBefore)
        .map((event) => event.attempt),
    ).toEqual([1, 2]);
    expect(h.events('success').at(-1)).toEqual({
      method: 'Stock.levels',
      attempts: 3,
      duration: expect.any(Number),
    });
    // A failed attempt's values never reach the subscriber: only the successful attempt's.
  });

  it('fails the call when every subscription errors, with the last error, and reports no success', async () => {
    const counter = { subscriptions: 0 };
    class Stock {
      @Idempotent()
      @Retryable({ maxAttempts: 2, initialDelay: 10, maxDelay: 10, jitter: 'none' })
      levels(): Observable<number> {
        return flakySource([1], Infinity, counter);
      }
    }
    const stock = new Stock();
    await warmedUp(() => stock.levels(), h.clock);
    const successesBefore = h.events('success').length;
    counter.subscriptions = 0;

    const values = lastValueFrom(stock.levels());
    const settled = values.catch((error: unknown) => error);
    await h.clock.runAll();
    expect(await settled).toMatchObject({ message: 'subscription 2 failed' });
    expect(h.events('success')).toHaveLength(successesBefore);
    expect(h.events('failure').at(-1)).toMatchObject({
      method: 'Stock.levels',
      attempts: 2,
      reason: 'exhausted',
    });
  });

  it('aborts the call when the subscriber unsubscribes: the source subscription ends and attemptSignal() aborts', async () => {
    let teardowns = 0;
    let signal: AbortSignal | undefined;
    class Feed {
      @Idempotent()
      @Retryable({ maxAttempts: 3 })
      @Timeout(60_000)
      updates(): Observable<number> {
        return new Observable<number>((subscriber) => {
          signal = attemptSignal() as AbortSignal | undefined;
          subscriber.next(1);
          return () => teardowns++;
        });
      }
    }
    const feed = new Feed();
    const subscription = feed.updates().subscribe(() => undefined);
    await h.clock.flush();
    expect(signal?.aborted).toBe(false);

    subscription.unsubscribe();
    await h.clock.flush();
    expect(teardowns).toBe(1);
    expect(signal?.aborted).toBe(true);
    expect(h.events('failure').at(-1)).toMatchObject({ method: 'Feed.updates', reason: 'aborted' });
    // Unsubscribing is routine in RxJS: it is an event, not an error line.
    expect(h.logger.at('error')).toEqual([]);
  });

  it('opens a breaker on Observable errors, and then refuses without subscribing', async () => {
    const counter = { subscriptions: 0 };
    class Prices {
      @CircuitBreaker({
        name: `observable-breaker-${decoratorMode}`,
        consecutiveFailures: 2,
        openDuration: 10_000,
      })
      quote(): Observable<number> {
        return flakySource([1], Infinity, counter);
      }
    }
    const prices = new Prices();
    await lastValueFrom(prices.quote()).catch(() => undefined);
    await lastValueFrom(prices.quote()).catch(() => undefined);
    expect(defaultEngine.breaker(`observable-breaker-${decoratorMode}`).state).toBe('open');
    const before = counter.subscriptions;

    await expect(lastValueFrom(prices.quote())).rejects.toBeInstanceOf(CircuitOpenError);
    expect(counter.subscriptions).toBe(before);
  });

  it('records the emitted values of a keyed call and replays them, without running the body again', async () => {
    let bodies = 0;
    class Orders {
      @Idempotent({ key: (id: string) => id })
      lines(id: string): Observable<string> {
        bodies++;
        return of(`${id}:a`, `${id}:b`);
      }
    }
    const orders = new Orders();
    await expect(lastValueFrom(orders.lines('o-1').pipe(toArray()))).resolves.toEqual([
      'o-1:a',
      'o-1:b',
    ]);
    await expect(lastValueFrom(orders.lines('o-1').pipe(toArray()))).resolves.toEqual([
      'o-1:a',
      'o-1:b',
    ]);
    expect(bodies).toBe(1);
    expect(h.events('deduplicated')).toEqual([
      { method: 'Orders.lines', how: 'replayed', duration: expect.any(Number) },
    ]);
  });

  it('applies an attempt timeout per subscription, and answers with a fallback that may give an Observable', async () => {
    class Quotes {
      @Fallback(() => of(-1, -2))
      @Timeout(100)
      live(): Observable<number> {
        return new Observable<number>(() => undefined); // never emits, never completes
      }
    }
    const quotes = new Quotes();
    await warmedUp(() => quotes.live(), h.clock);
    const values = lastValueFrom(quotes.live().pipe(toArray()));
    await h.clock.advance(100);
    await expect(values).resolves.toEqual([-1, -2]);
  });

  it('keeps the values of a source that emits through operators, with `this` and the arguments', async () => {
    class Catalog {
      private readonly prefix = 'sku-';
      @Idempotent()
      @Retryable(2)
      names(count: number): Observable<string> {
        return defer(() => of(...Array.from({ length: count }, (_, i) => i))).pipe(
          map((i) => `${this.prefix}${i}`),
        );
      }
    }
    const catalog = new Catalog();
    await warmedUp(() => catalog.names(1), h.clock);
    await expect(firstValueFrom(catalog.names(3).pipe(toArray()))).resolves.toEqual([
      'sku-0',
      'sku-1',
      'sku-2',
    ]);
  });

  describe('how a method is known to return an Observable', () => {
    itInLegacyMode(
      'from its type metadata (emitDecoratorMetadata): the first call already returns an Observable',
      async () => {
        class Typed {
          @Idempotent()
          @Retryable(2)
          values(): Observable<number> {
            return of(1, 2);
          }
        }
        const first = new Typed().values();
        expect(first).toBeInstanceOf(Observable);
        await expect(lastValueFrom(first.pipe(toArray()))).resolves.toEqual([1, 2]);
      },
    );

    it('else from its first call, which is a Promise of the values that can also be subscribed to', async () => {
      let bodies = 0;
      class Untyped {
        @Idempotent()
        @Retryable(2)
        values(): any {
          bodies++;
          return of(3, 4);
        }
      }
      const untyped = new Untyped();
      const first = untyped.values() as Promise<unknown> & Observable<number>;
      expect(first).toBeInstanceOf(Promise);
      await expect(lastValueFrom(first.pipe(toArray()))).resolves.toEqual([3, 4]);
      await expect(first).resolves.toEqual([3, 4]);
      expect(bodies).toBe(1); // the first call ran once, however it was consumed

      const second = untyped.values() as Observable<number>;
      expect(second).toBeInstanceOf(Observable);
      await expect(lastValueFrom(second.pipe(toArray()))).resolves.toEqual([3, 4]);
    });

    it('keeps a Promise method a Promise method, learnt at its first call all the same', async () => {
      class PlainFunctionReturningPromise {
        @Idempotent()
        @Retryable(2)
        value(): any {
          return Promise.resolve(5);
        }
      }
      const service = new PlainFunctionReturningPromise();
      await expect(service.value()).resolves.toBe(5);
      const second = service.value();
      expect(second).toBeInstanceOf(Promise);
      expect('subscribe' in second).toBe(false);
      await expect(second).resolves.toBe(5);
    });
  });
});
