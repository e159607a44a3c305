import { getEventListeners } from 'node:events';
import { Idempotent, Retryable } from '../../../src';
import { useHarness, decoratorMode } from '../../support/harness';
import { reasonOf, rejectionOf, resultOf } from '../support/services';

interface FeedRequest {
  readonly id: string;
  readonly signal?: AbortSignal;
}

interface CallContext {
  readonly user: string;
  readonly cancel?: AbortSignal;
}

/** Fails every attempt; long delays (1 s, 2 s, …) so an abort always lands in a sleep. */
class Feed {
  runs = 0;

  @Idempotent()
  @Retryable({ maxAttempts: 5, initialDelay: 1_000, jitter: 'none' })
  async load(id: string, signal?: AbortSignal): Promise<string> {
    this.runs++;
    throw new Error(
      `feed ${id} unavailable (signal ${signal === undefined ? 'absent' : 'present'})`,
    );
  }

  @Idempotent()
  @Retryable({ maxAttempts: 5, initialDelay: 1_000, jitter: 'none' })
  async fetch(request: FeedRequest): Promise<string> {
    this.runs++;
    throw new Error(`feed ${request.id} unavailable`);
  }

  @Idempotent()
  @Retryable({
    maxAttempts: 5,
    initialDelay: 1_000,
    jitter: 'none',
    signal: (args) => (args[1] as CallContext).cancel,
  })
  async query(id: string, context: CallContext): Promise<string> {
    this.runs++;
    throw new Error(`query ${id} for ${context.user} failed`);
  }
}

describe(`@Retryable cancellation (${decoratorMode})`, () => {
  describe('an abort during a sleep', () => {
    it('rejects at once with signal.reason when the signal is an argument', async () => {
      const h = useHarness();
      const feed = new Feed();
      const controller = new AbortController();
      const startedAt = h.clock.now();
      const failure = reasonOf(feed.load('news', controller.signal));
      await h.clock.flush();
      expect(h.clock.pending).toBe(1);

      const reason = new Error('user navigated away');
      controller.abort(reason);

      expect(await failure).toBe(reason);
      expect(feed.runs).toBe(1);
      expect(h.clock.pending).toBe(0);
      expect(h.clock.now()).toBe(startedAt);
    });

    it("rejects at once with signal.reason when the signal is an argument's signal property", async () => {
      const h = useHarness();
      const feed = new Feed();
      const controller = new AbortController();
      const failure = reasonOf(feed.fetch({ id: 'news', signal: controller.signal }));
      await h.clock.flush();
      expect(h.clock.pending).toBe(1);

      const reason = new Error('request closed');
      controller.abort(reason);

      expect(await failure).toBe(reason);
      expect(feed.runs).toBe(1);
      expect(h.clock.pending).toBe(0);
    });

    it('rejects at once with signal.reason when the signal option picks it from the arguments', async () => {
      const h = useHarness();
      const feed = new Feed();
      const controller = new AbortController();
      const failure = reasonOf(feed.query('prices', { user: 'ada', cancel: controller.signal }));
      await h.clock.flush();
      expect(h.clock.pending).toBe(1);

      const reason = new Error('shutdown');
      controller.abort(reason);

      expect(await failure).toBe(reason);
      expect(feed.runs).toBe(1);
      expect(h.clock.pending).toBe(0);
    });

    it('rejects with the DOMException AbortError that abort() without a reason sets', async () => {
      const h = useHarness();
      const feed = new Feed();
      const controller = new AbortController();
      const failure = reasonOf(feed.load('news', controller.signal));
      await h.clock.flush();

      controller.abort();

      const reason = await failure;
      expect(reason).toBe(controller.signal.reason);
      expect((reason as DOMException).name).toBe('AbortError');
    });

    it('runs the body no more, however far time then moves', async () => {
      const h = useHarness();
      const feed = new Feed();
      const controller = new AbortController();
      const failure = reasonOf(feed.load('news', controller.signal));
      await h.clock.advance(1_000);
      expect(feed.runs).toBe(2);

      controller.abort(new Error('stop'));
      await failure;
      await h.clock.advance(60_000);

      expect(feed.runs).toBe(2);
      expect(h.clock.sleeps).toEqual([1_000, 2_000]);
      expect(h.clock.pending).toBe(0);
    });

    it('reports the abort as the final failure, logged at error level', async () => {
      const h = useHarness();
      const feed = new Feed();
      const controller = new AbortController();
      const failure = reasonOf(feed.load('news', controller.signal));
      await h.clock.flush();
      const reason = new Error('cancelled');
      controller.abort(reason);
      await failure;

      expect(h.events('failure')).toEqual([
        {
          method: 'Feed.load',
          attempts: 1,
          reason: 'aborted',
          error: reason,
          duration: expect.any(Number),
        },
      ]);
      expect(h.logger.at('error')).toHaveLength(1);
      expect(h.logger.at('error')[0]?.fields.error).toBe(reason);
    });
  });

  describe('the signal option', () => {
    it('is called with the arguments array itself, elements unchanged', async () => {
      const h = useHarness();
      const seen: (readonly unknown[])[] = [];
      const context = { user: 'ada' };
      class Reports {
        @Idempotent()
        @Retryable({
          maxAttempts: 2,
          signal: (args) => {
            seen.push(args);
            return undefined;
          },
        })
        async build(id: string, ctx: { user: string }, limit: number): Promise<string> {
          return `${id}:${ctx.user}:${limit}`;
        }
      }

      expect(await resultOf(h.clock, new Reports().build('r1', context, 3))).toBe('r1:ada:3');
      expect(seen).toHaveLength(1);
      expect(Array.isArray(seen[0])).toBe(true);
      expect(seen[0]).toEqual(['r1', context, 3]);
      expect(seen[0]?.[1]).toBe(context);
    });

    it('wins over an AbortSignal among the arguments', async () => {
      const h = useHarness();
      const picked = new AbortController();
      const ignored = new AbortController();
      let runs = 0;
      class Jobs {
        @Idempotent()
        @Retryable({
          maxAttempts: 3,
          initialDelay: 1_000,
          jitter: 'none',
          signal: () => picked.signal,
        })
        async run(_signal: AbortSignal): Promise<void> {
          runs++;
          throw new Error('busy');
        }
      }
      const failure = reasonOf(new Jobs().run(ignored.signal));
      await h.clock.flush();

      ignored.abort(new Error('ignored'));
      await h.clock.flush();
      expect(h.clock.pending).toBe(1);
      await h.clock.advance(1_000);
      expect(runs).toBe(2);

      const reason = new Error('picked');
      picked.abort(reason);
      expect(await failure).toBe(reason);
      expect(runs).toBe(2);
    });

    it('returning undefined leaves the call uncancellable, and it retries as usual', async () => {
      const h = useHarness();
      let runs = 0;
      class Jobs {
        @Idempotent()
        @Retryable({ maxAttempts: 3, jitter: 'none', signal: () => undefined })
        async run(request: FeedRequest): Promise<void> {
          runs++;
          throw new Error(`busy ${request.id}`);
        }
      }
      const controller = new AbortController();
      controller.abort(new Error('would cancel an argument signal'));

      await rejectionOf(h.clock, new Jobs().run({ id: 'x', signal: controller.signal }));

      expect(runs).toBe(3);
    });
  });

  describe('an already-aborted signal', () => {
    it.each([
      ['an AbortSignal argument', (feed: Feed, signal: AbortSignal) => feed.load('news', signal)],
      [
        "an argument's signal property",
        (feed: Feed, signal: AbortSignal) => feed.fetch({ id: 'news', signal }),
      ],
      [
        'the signal option',
        (feed: Feed, signal: AbortSignal) => feed.query('news', { user: 'ada', cancel: signal }),
      ],
    ])('runs no attempt and rejects with its reason, given as %s', async (_how, call) => {
      const h = useHarness();
      const feed = new Feed();
      const controller = new AbortController();
      const reason = new Error('already gone');
      controller.abort(reason);

      expect(await reasonOf(call(feed, controller.signal))).toBe(reason);
      expect(feed.runs).toBe(0);
      expect(h.clock.sleeps).toEqual([]);
      expect(h.events('failure')).toEqual([
        expect.objectContaining({ attempts: 0, reason: 'aborted', error: reason }),
      ]);
    });
  });

  describe('an already-aborted signal with maxAttempts: 1', () => {
    it('runs no attempt either', async () => {
      const h = useHarness();
      const controller = new AbortController();
      const reason = new Error('already gone');
      controller.abort(reason);
      let runs = 0;
      class Once {
        @Idempotent()
        @Retryable({ maxAttempts: 1 })
        async send(_signal: AbortSignal): Promise<string> {
          runs++;
          return 'sent';
        }
      }

      const outcome = await new Once().send(controller.signal).then(
        (value) => ({ resolved: value }),
        (error: unknown) => ({ rejected: error }),
      );

      expect(outcome).toEqual({ rejected: reason });
      expect(runs).toBe(0);
      expect(h.clock.sleeps).toEqual([]);
    });
  });

  describe('an abort while the body runs', () => {
    it('starts no sleep and no further attempt once the failing attempt ends', async () => {
      const h = useHarness();
      const controller = new AbortController();
      const reason = new Error('cancelled mid-attempt');
      let runs = 0;
      class Upload {
        @Idempotent()
        @Retryable({ maxAttempts: 5, initialDelay: 1_000, jitter: 'none' })
        async send(signal: AbortSignal): Promise<void> {
          runs++;
          controller.abort(reason);
          throw new Error(`send failed (aborted: ${signal.aborted})`);
        }
      }

      const failure = await reasonOf(new Upload().send(controller.signal));

      expect(failure).toBe(reason);
      expect(runs).toBe(1);
      expect(h.clock.sleeps).toEqual([]);
      expect(h.clock.pending).toBe(0);
    });
  });

  describe('a signal that never aborts', () => {
    it('does not change the outcome and leaves no abort listener behind', async () => {
      const h = useHarness();
      const controller = new AbortController();
      let runs = 0;
      class Flaky {
        @Idempotent()
        @Retryable({ maxAttempts: 3, jitter: 'none' })
        async get(signal: AbortSignal): Promise<number> {
          runs++;
          if (runs % 2 === 1) throw new Error('odd run');
          return signal.aborted ? -1 : runs;
        }
      }
      const service = new Flaky();

      expect(await resultOf(h.clock, service.get(controller.signal))).toBe(2);
      expect(await resultOf(h.clock, service.get(controller.signal))).toBe(4);

      expect(h.clock.sleeps).toEqual([100, 100]);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    });
  });
});
