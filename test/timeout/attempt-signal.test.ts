import { getEventListeners } from 'node:events';
import {
  Bulkhead,
  CircuitBreaker,
  Fallback,
  Idempotent,
  Retryable,
  Timeout,
  TimeoutError,
  attemptSignal,
} from '../../src';
import {
  DownstreamError,
  decoratorMode,
  deferred,
  hang,
  track,
  useStageHarness,
} from '../pipeline/support';

type Signal = NonNullable<ReturnType<typeof attemptSignal>>;

describe(`attemptSignal() (${decoratorMode} decorators)`, () => {
  it('is undefined outside any decorated body', () => {
    expect(attemptSignal()).toBeUndefined();
  });

  it('is an AbortSignal inside a @Timeout body, not aborted while the attempt runs', async () => {
    const h = useStageHarness();
    let seen: Signal | undefined;
    class Feed {
      @Timeout(100)
      async load(): Promise<string> {
        seen = attemptSignal();
        return 'ok';
      }
    }

    expect(await new Feed().load()).toBe('ok');
    await h.clock.flush();
    expect(seen).toBeInstanceOf(AbortSignal);
  });

  it('is one signal object for the whole attempt, before and after every await', async () => {
    const h = useStageHarness();
    const seen: (Signal | undefined)[] = [];
    const gate = deferred<void>();
    class Feed {
      @Timeout(1_000)
      async load(): Promise<string> {
        seen.push(attemptSignal());
        await Promise.resolve();
        seen.push(attemptSignal());
        await h.clock.sleep(10);
        seen.push(attemptSignal());
        await gate.promise;
        seen.push(attemptSignal());
        await new Promise((resolve) => setImmediate(resolve));
        seen.push(attemptSignal());
        return 'ok';
      }
    }

    const call = track(new Feed().load());
    await h.clock.advance(10);
    gate.resolve();
    await h.clock.flush();
    await h.clock.flush();

    expect(call.state).toBe('resolved');
    expect(seen).toHaveLength(5);
    expect(seen[0]).toBeInstanceOf(AbortSignal);
    for (const signal of seen) expect(signal).toBe(seen[0]);
    expect(seen[0]?.aborted).toBe(false);
  });

  it("aborts at the attempt's deadline, with the TimeoutError the attempt rejects with as its reason", async () => {
    const h = useStageHarness();
    let signal: Signal | undefined;
    let abortedAt: number | undefined;
    class Feed {
      @Timeout(100)
      async load(): Promise<string> {
        signal = attemptSignal();
        signal?.addEventListener('abort', () => (abortedAt = h.clock.now()));
        return hang();
      }
    }

    const origin = h.clock.now();
    const call = track(new Feed().load());
    await h.clock.advance(99);
    expect(signal?.aborted).toBe(false);
    await h.clock.advance(1);

    expect(signal?.aborted).toBe(true);
    expect(abortedAt).toBe(origin + 100);
    expect(signal?.reason).toBeInstanceOf(TimeoutError);
    expect(signal?.reason).toBe(call.error);
  });

  it('is a fresh signal for each attempt: the timed-out one aborted, the next one not', async () => {
    const h = useStageHarness();
    const signals: (Signal | undefined)[] = [];
    class Feed {
      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 10, jitter: 'none' })
      @Timeout(100)
      async load(): Promise<string> {
        signals.push(attemptSignal());
        if (signals.length === 1) return hang();
        if (signals.length === 2) throw new DownstreamError('second attempt fails');
        return 'third';
      }
    }

    const call = track(new Feed().load());
    await h.clock.runAll();

    expect(call.value).toBe('third');
    expect(signals).toHaveLength(3);
    expect(new Set(signals).size).toBe(3);
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[0]?.reason).toMatchObject({ kind: 'attempt' });
    expect(signals[2]?.aborted).toBe(false);
  });

  it("aborts when the call's total deadline passes, with that TimeoutError as its reason", async () => {
    const h = useStageHarness();
    const signals: (Signal | undefined)[] = [];
    class Feed {
      @Idempotent()
      @Retryable({ maxAttempts: 5, initialDelay: 10, multiplier: 1, jitter: 'none' })
      @Timeout({ attempt: 100, total: 150 })
      async load(): Promise<string> {
        signals.push(attemptSignal());
        return hang();
      }
    }

    const call = track(new Feed().load());
    await h.clock.advance(150);

    // attempt 1 ran 0-100, attempt 2 from 110: the total deadline cuts it at 150
    expect(signals).toHaveLength(2);
    expect(signals[1]?.aborted).toBe(true);
    expect(signals[1]?.reason).toBe(call.error);
    expect(call.error).toMatchObject({ kind: 'total', timeout: 150 });
  });

  it('is given to the body of a method with only a total deadline, and aborts at it', async () => {
    const h = useStageHarness();
    let signal: Signal | undefined;
    class Feed {
      @Timeout({ total: 150 })
      async load(): Promise<string> {
        signal = attemptSignal();
        return hang();
      }
    }

    const call = track(new Feed().load());
    await h.clock.advance(150);

    expect(call.error).toMatchObject({ kind: 'total' });
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe(call.error);
  });

  it("aborts when the caller's signal aborts, with the caller's reason, and the call rejects at once", async () => {
    const h = useStageHarness();
    let signal: Signal | undefined;
    class Feed {
      @Timeout(10_000)
      async load(_id: string, _cancel: AbortSignal): Promise<string> {
        signal = attemptSignal();
        return hang();
      }
    }
    const controller = new AbortController();

    const call = track(new Feed().load('news', controller.signal));
    await h.clock.advance(10);
    const reason = new Error('user navigated away');
    controller.abort(reason);
    await h.clock.flush();

    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe(reason);
    expect(call).toMatchObject({ state: 'rejected', error: reason });
  });

  it("reports a call ended by the caller's abort as failure reason 'aborted'", async () => {
    const h = useStageHarness();
    class Feed {
      @Timeout(10_000)
      async load(_cancel: AbortSignal): Promise<string> {
        return hang();
      }
    }
    const controller = new AbortController();

    const call = track(new Feed().load(controller.signal));
    await h.clock.advance(10);
    controller.abort();
    await h.clock.flush();

    expect(call.error).toBe(controller.signal.reason);
    expect(h.events('failure')).toEqual([
      expect.objectContaining({
        method: 'Feed.load',
        reason: 'aborted',
        error: controller.signal.reason,
      }),
    ]);
  });

  const innerKinds: [string, (seen: (Signal | undefined)[]) => { run(): Promise<void> }][] = [
    [
      'only @Idempotent @Retryable',
      (seen) => {
        class Inner {
          @Idempotent()
          @Retryable({ maxAttempts: 2 })
          async run(): Promise<void> {
            seen.push(attemptSignal());
            await Promise.resolve();
            seen.push(attemptSignal());
          }
        }
        return new Inner();
      },
    ],
    [
      'only @CircuitBreaker',
      (seen) => {
        class Inner {
          @CircuitBreaker()
          async run(): Promise<void> {
            seen.push(attemptSignal());
            await Promise.resolve();
            seen.push(attemptSignal());
          }
        }
        return new Inner();
      },
    ],
    [
      'only @Bulkhead',
      (seen) => {
        class Inner {
          @Bulkhead(2)
          async run(): Promise<void> {
            seen.push(attemptSignal());
            await Promise.resolve();
            seen.push(attemptSignal());
          }
        }
        return new Inner();
      },
    ],
    [
      'only @Fallback',
      (seen) => {
        class Inner {
          @Fallback(() => undefined)
          async run(): Promise<void> {
            seen.push(attemptSignal());
            await Promise.resolve();
            seen.push(attemptSignal());
          }
        }
        return new Inner();
      },
    ],
    [
      'only @Idempotent()',
      (seen) => {
        class Inner {
          @Idempotent()
          async run(): Promise<void> {
            seen.push(attemptSignal());
            await Promise.resolve();
            seen.push(attemptSignal());
          }
        }
        return new Inner();
      },
    ],
  ];

  it.each(innerKinds)(
    'is undefined in the body of a method with %s, though it is called from inside a @Timeout body',
    async (_kind, makeInner) => {
      const h = useStageHarness();
      const innerSeen: (Signal | undefined)[] = [];
      const inner = makeInner(innerSeen);
      const outerSeen: (Signal | undefined)[] = [];
      class Outer {
        @Timeout(1_000)
        async load(): Promise<string> {
          outerSeen.push(attemptSignal());
          await inner.run();
          outerSeen.push(attemptSignal());
          return 'ok';
        }
      }

      const call = track(new Outer().load());
      await h.clock.runAll();

      expect(call.state).toBe('resolved');
      expect(innerSeen).toEqual([undefined, undefined]);
      // the outer body's own signal is back after the inner call
      expect(outerSeen[0]).toBeInstanceOf(AbortSignal);
      expect(outerSeen[1]).toBe(outerSeen[0]);
    },
  );

  it("is the inner attempt's own signal in a @Timeout method called from another @Timeout body", async () => {
    const h = useStageHarness();
    const seen: { outer?: Signal; inner?: Signal } = {};
    class Inner {
      @Timeout(50)
      async run(): Promise<void> {
        seen.inner = attemptSignal();
        return hang();
      }
    }
    const inner = new Inner();
    class Outer {
      @Timeout(1_000)
      async load(): Promise<string> {
        seen.outer = attemptSignal();
        await inner.run().catch(() => undefined);
        return 'ok';
      }
    }

    const call = track(new Outer().load());
    await h.clock.advance(50);

    expect(call.state).toBe('resolved');
    expect(seen.inner).toBeInstanceOf(AbortSignal);
    expect(seen.inner).not.toBe(seen.outer);
    expect(seen.inner?.aborted).toBe(true);
    expect(seen.outer?.aborted).toBe(false);
  });
});

describe(`@Timeout and the caller's AbortSignal argument (${decoratorMode} decorators)`, () => {
  it("gives each attempt a fresh signal in the argument's place, which follows the caller's signal", async () => {
    const h = useStageHarness();
    const received: AbortSignal[] = [];
    class Feed {
      @Idempotent()
      @Retryable({ maxAttempts: 3, initialDelay: 10, jitter: 'none' })
      @Timeout(100)
      async load(_id: string, cancel: AbortSignal): Promise<string> {
        received.push(cancel);
        return hang();
      }
    }
    const controller = new AbortController();

    const call = track(new Feed().load('news', controller.signal));
    await h.clock.advance(100);
    // attempt 1 timed out: its signal aborted, the caller's did not
    expect(received[0]).toBeInstanceOf(AbortSignal);
    expect(received[0]).not.toBe(controller.signal);
    expect(received[0]?.aborted).toBe(true);
    expect(received[0]?.reason).toBeInstanceOf(TimeoutError);
    expect(controller.signal.aborted).toBe(false);
    await h.clock.advance(10);
    expect(received).toHaveLength(2);
    expect(received[1]).not.toBe(received[0]);
    expect(received[1]).not.toBe(controller.signal);
    expect(received[1]?.aborted).toBe(false);

    const reason = new Error('stop');
    controller.abort(reason);
    await h.clock.flush();

    expect(received[1]?.aborted).toBe(true);
    expect(received[1]?.reason).toBe(reason);
    expect(call).toMatchObject({ state: 'rejected', error: reason });
    expect(received).toHaveLength(2);
  });

  it("copies an options object that carries the signal, keeping its prototype; the caller's object is unchanged", async () => {
    const h = useStageHarness();
    class Request {
      constructor(
        readonly id: string,
        readonly signal: AbortSignal,
      ) {}
      describe(): string {
        return `request ${this.id}`;
      }
    }
    const received: Request[] = [];
    class Feed {
      @Timeout(100)
      async load(request: Request): Promise<string> {
        received.push(request);
        return request.describe();
      }
    }
    const controller = new AbortController();
    const request = new Request('r-1', controller.signal);

    const call = track(new Feed().load(request));
    await h.clock.flush();

    expect(call.value).toBe('request r-1');
    const copy = received[0] as Request;
    expect(copy).not.toBe(request);
    expect(Object.getPrototypeOf(copy)).toBe(Request.prototype);
    expect(copy.id).toBe('r-1');
    expect(copy.signal).toBeInstanceOf(AbortSignal);
    expect(copy.signal).not.toBe(controller.signal);
    expect(request.signal).toBe(controller.signal);
    expect(Object.keys(request)).toEqual(['id', 'signal']);
  });

  it("aborts the copied object's signal at the attempt deadline and when the caller aborts", async () => {
    const h = useStageHarness();
    const received: { signal: AbortSignal }[] = [];
    class Feed {
      @Idempotent()
      @Retryable({ maxAttempts: 2, initialDelay: 10, jitter: 'none' })
      @Timeout(100)
      async load(options: { id: string; signal: AbortSignal }): Promise<string> {
        received.push(options);
        return hang();
      }
    }
    const controller = new AbortController();
    const options = { id: 'x', signal: controller.signal };

    const call = track(new Feed().load(options));
    await h.clock.advance(110);
    expect(received[0]?.signal.aborted).toBe(true);
    expect(received[1]?.signal.aborted).toBe(false);
    const reason = new Error('gone');
    controller.abort(reason);
    await h.clock.flush();

    expect(received[1]?.signal.reason).toBe(reason);
    expect(call.error).toBe(reason);
    expect(options.signal).toBe(controller.signal);
  });

  it("replaces the caller's signal with one that aborts at the total deadline, with only a total deadline", async () => {
    const h = useStageHarness();
    const received: AbortSignal[] = [];
    class Feed {
      @Timeout({ total: 200 })
      async load(cancel: AbortSignal): Promise<string> {
        received.push(cancel);
        return hang();
      }
    }
    const controller = new AbortController();

    const call = track(new Feed().load(controller.signal));
    await h.clock.advance(200);

    expect(call.error).toMatchObject({ kind: 'total' });
    expect(received[0]).not.toBe(controller.signal);
    expect(received[0]?.aborted).toBe(true);
    expect(received[0]?.reason).toBe(call.error);
    expect(controller.signal.aborted).toBe(false);
  });

  it('runs no attempt when the caller signal has already aborted, and rejects with its reason', async () => {
    const h = useStageHarness();
    let runs = 0;
    class Feed {
      @Timeout({ attempt: 100, total: 500 })
      async load(_cancel: AbortSignal): Promise<string> {
        runs++;
        return 'ok';
      }
    }
    const controller = new AbortController();
    const reason = new Error('already gone');
    controller.abort(reason);

    const call = track(new Feed().load(controller.signal));
    await h.clock.flush();

    expect(call).toMatchObject({ state: 'rejected', error: reason });
    expect(runs).toBe(0);
  });

  it("leaves no listener on the caller's signal once calls are done, however they ended", async () => {
    const h = useStageHarness();
    let runs = 0;
    class Feed {
      @Idempotent()
      @Retryable({ maxAttempts: 2, initialDelay: 10, jitter: 'none' })
      @Timeout({ attempt: 100, total: 1_000 })
      async load(_cancel: AbortSignal): Promise<string> {
        runs++;
        if (runs % 3 === 0) return hang();
        if (runs % 3 === 1) throw new DownstreamError('fails');
        return 'ok';
      }
    }
    const feed = new Feed();
    const controller = new AbortController();

    const calls = Array.from({ length: 30 }, () => track(feed.load(controller.signal)));
    await h.clock.runAll();

    expect(calls.every((call) => call.state !== 'pending')).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('passes the arguments as they are when none carries a signal', async () => {
    const h = useStageHarness();
    const received: unknown[] = [];
    class Feed {
      @Timeout(100)
      async load(options: { id: string }): Promise<string> {
        received.push(options);
        return options.id;
      }
    }
    const options = { id: 'same' };

    const call = track(new Feed().load(options));
    await h.clock.flush();

    expect(call.value).toBe('same');
    expect(received[0]).toBe(options);
  });
});
