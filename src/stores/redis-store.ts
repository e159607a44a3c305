import {
  createHash,
  createHmac,
  createSecretKey,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { types } from 'node:util';
import { Breaker, type BreakerObserver } from '../runtime/breaker/breaker';
import type { BreakerSettings } from '../runtime/breaker/breaker-options';
import type { RetryBudgetSettings } from '../runtime/budget/budget-options';
import { ConfigError, CorruptRecordError } from '../runtime/errors';
import type { CircuitState } from '../runtime/events';
import type { LogSink } from '../runtime/log';
import type {
  ClaimOutcome,
  IdempotencyRecord,
  IdempotencyStore,
  BreakerFactoryStore,
  SharedBudgetStore,
} from '../runtime/store';
import { hasMethod, OptionChecker } from '../runtime/validation';
import type {
  SharedBreakerChange,
  SharedBreakerExchange,
  SharedBreakerOperation,
  SharedBreakerReply,
  SharedBreakerRequest,
  SharedBreakerStore,
  SharedBreakerWatch,
} from '../runtime/shared-breaker-store';
import { tellWatcher } from '../runtime/shared-breaker-store';
import { FleetBreaker, type FleetOperation, type FleetReply } from './fleet-breaker';
import { FleetBudget, type FleetBudgetLink, type FleetBudgetReply } from './fleet-budget';
import {
  connectionFor,
  type IoredisClient,
  type NodeRedisClient,
  type RedisConnection,
  type Subscription,
} from './redis-connection';
import {
  channelBreaker,
  FleetBreakers,
  FleetFlusher,
  type BreakerChannel,
  type FleetBatchEntry,
  type FleetBatchMember,
} from './fleet-flusher';
import { CLAIM, COMPLETE, FLEET, FLEET_ON_NODE, RELEASE, RENEW } from './redis-scripts';
import { keySlot } from './cluster-slots';
import { settingsToText } from './shared-breaker-settings';

export interface RedisStoreOptions {
  /** prefix of every key and of the pub/sub channel (default 'steadfast') */
  readonly prefix?: string;
  /** ms before a store operation counts as failed: the breaker falls back to local state (default 1000) */
  readonly commandTimeout?: number;
  /** ms a breaker buffers outcomes before sending them as one batch (default 25) */
  readonly flushInterval?: number;
  /**
   * Signs every recorded result (HMAC-SHA256 over key, fingerprint and result) and refuses, as
   * corrupt, a result whose signature is missing or wrong. At least 32 bytes; the same in every
   * process of the fleet.
   */
  readonly signingKey?: string | Uint8Array;
  /**
   * The time (ms) the store's scripts decide by, instead of Redis's `TIME`: for tests that drive
   * time with a FakeClock (give the engine and every store of the test the same clock). Leases,
   * windows, openDuration and half-open then follow it; Redis's own key expiries stay in real time.
   */
  readonly clock?: { now(): number };
}

type ScriptArg = string | number;

/** CLAIM's reply: claimed; or the record that stands, its PTTL and Redis's clock; or the key's other Redis type. */
type ClaimReply = readonly [1] | readonly [0, string, number, number] | readonly [-1, string];

interface Script {
  readonly sha: string;
  /** SCRIPT LOAD was sent on this connection (and not known to have failed since) */
  loaded: boolean;
}

const OPTION_KEYS = ['prefix', 'commandTimeout', 'flushInterval', 'signingKey', 'clock'] as const;
/** A batch with only successes in it waits up to this many flush intervals (a failure sends it at once). */
const QUIET_FLUSH_FACTOR = 20;
/** Fields of a breaker entry's reply, before the batch's last element (the time). */
type BreakerReplyFields = readonly [
  state: CircuitState,
  epoch: number,
  since: number,
  openUntil: number,
  openings: number,
  calls: number,
  failures: number,
  slowCalls: number,
  consecutive: number,
  /** 1 when a trial permit was granted */
  granted: number,
  reason: string,
  flags: number,
];
const DEFAULT_COMMAND_TIMEOUT = 1_000;
/** The longest delay setTimeout keeps (2^31 - 1 ms): a longer one fires at once. */
const MAX_TIMER_MS = 2_147_483_647;
const MIN_SIGNING_KEY_BYTES = 32;
const CLAIMED: ClaimOutcome = Object.freeze({ claimed: true });

/**
 * Shares idempotency records and circuit breaker state across every process configured with the
 * same Redis. Built from a `redis://` URL it owns its connections and `close()` releases them; an
 * ioredis client passed in stays the caller's (close() releases only the subscriber it made).
 */
export class RedisStore
  implements IdempotencyStore, BreakerFactoryStore, SharedBreakerStore, SharedBudgetStore
{
  private readonly connection: RedisConnection;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly flusher: FleetFlusher;
  /** ms a batch with only successes (and first attempts) in it may wait */
  private readonly quietInterval: number;
  private readonly signingKey: KeyObject | undefined;
  /** the store's own clock (tests), else undefined: Redis's TIME */
  private readonly clock: (() => number) | undefined;
  /** who this store is in the fleet: a process, for a breaker's quorum */
  private readonly reporter = randomBytes(6).toString('base64url');
  private readonly deadlines: CommandDeadlines;
  private subscriber: Subscription | undefined;
  private readonly breakers = new FleetBreakers<FleetBreaker>();
  private readonly channelOfBreakers: BreakerChannel;
  private readonly watchers = new Set<(change: SharedBreakerChange) => void>();
  private readonly scripts = new Map<string, Script>();
  private closed = false;
  /** the server refused FLEET_ON_NODE (no script flags before Redis 7): a Cluster's entries go one by one */
  private nodeRunsRefused = false;

  constructor(clientOrUrl: IoredisClient | NodeRedisClient | string, options?: RedisStoreOptions) {
    // Everything is checked before a connection is made: a refused store leaves nothing open.
    const checker = new OptionChecker('new RedisStore()', undefined);
    if (typeof clientOrUrl === 'string') checkUrl(checker, clientOrUrl);
    const given = options === undefined ? {} : checker.object('', options, OPTION_KEYS);
    this.prefix = given.prefix === undefined ? 'steadfast' : checker.text('prefix', given.prefix);
    const commandTimeout =
      given.commandTimeout === undefined
        ? DEFAULT_COMMAND_TIMEOUT
        : timerDelay(checker, 'commandTimeout', given.commandTimeout, 1);
    const flushInterval =
      given.flushInterval === undefined
        ? 25
        : timerDelay(checker, 'flushInterval', given.flushInterval, 0);
    this.signingKey =
      given.signingKey === undefined ? undefined : signingKeyOf(checker, given.signingKey);
    if (given.clock !== undefined && !hasMethod(given.clock, 'now'))
      checker.fail(
        'clock',
        'must be a clock: an object with a now() method (a FakeClock)',
        given.clock,
      );
    const clock = given.clock as { now(): number } | undefined;
    this.clock = clock === undefined ? undefined : () => clock.now();
    this.quietInterval = Math.min(flushInterval * QUIET_FLUSH_FACTOR, MAX_TIMER_MS);
    this.flusher = new FleetFlusher(flushInterval, this.quietInterval, (members) =>
      this.sendBatch(members),
    );
    this.channelOfBreakers = {
      breakers: this.breakers,
      flusher: this.flusher,
      run: (breaker, operation, epoch, args) => this.runNow(breaker, operation, epoch, args),
      memberOf: (breaker) => this.batchMemberOf(breaker),
      clock: this.clock,
    };
    this.channel = `${this.prefix}:circuit-changes`;
    this.deadlines = new CommandDeadlines(commandTimeout);
    this.ownsClient = typeof clientOrUrl === 'string';
    this.connection = connectionFor(clientOrUrl, checker);
  }

  // --- idempotency records -------------------------------------------------------------------

  async claim(
    key: string,
    fingerprint: string,
    token: string,
    leaseMs: number,
    _now?: number,
  ): Promise<ClaimOutcome> {
    // Leases are timed by Redis's clock (CLAIM), so hosts whose clocks disagree agree on them.
    const recordKey = this.recordKey(key);
    const reply = (await this.script(
      CLAIM,
      [recordKey],
      [fingerprint, token, Math.ceil(leaseMs), this.scriptNow()],
    )) as ClaimReply;
    if (reply[0] === 1) return CLAIMED;
    if (reply[0] === -1)
      throw new CorruptRecordError(undefined, `the key holds a Redis ${reply[1]}, not a record`);
    return { claimed: false, record: this.recordFrom(recordKey, reply[1], reply[2], reply[3]) };
  }

  async complete(
    key: string,
    token: string,
    fingerprint: string,
    result: string,
    ttlMs: number,
    _now?: number,
  ): Promise<void> {
    const recordKey = this.recordKey(key);
    const signature =
      this.signingKey === undefined
        ? ''
        : this.signatureOf(recordKey, fingerprint, result).toString('hex');
    const written = await this.script(
      COMPLETE,
      [recordKey],
      [token, fingerprint, result, Math.ceil(ttlMs), signature],
    );
    if (written === -1)
      throw new CorruptRecordError(
        undefined,
        'the claim was replaced by something that is not a record, so the result was not recorded',
      );
  }

  async release(key: string, token: string, _now?: number): Promise<void> {
    const released = await this.script(RELEASE, [this.recordKey(key)], [token]);
    if (released === -1)
      throw new CorruptRecordError(
        undefined,
        'the claim was replaced by something that is not a record, so it was left in place',
      );
  }

  async renew(key: string, token: string, leaseMs: number, _now?: number): Promise<boolean> {
    const renewed = await this.script(
      RENEW,
      [this.recordKey(key)],
      [token, Math.ceil(leaseMs), this.scriptNow()],
    );
    if (renewed === -1)
      throw new CorruptRecordError(
        undefined,
        'the claim was replaced by something that is not a record, so it was not renewed',
      );
    return renewed === 1;
  }

  async read(key: string, _now?: number): Promise<IdempotencyRecord | undefined> {
    const recordKey = this.recordKey(key);
    const [kind, raw, pttl, time] = await this.timed(this.connection.readKey(recordKey));
    if (kind !== 'string' && kind !== 'none')
      throw new CorruptRecordError(undefined, `the key holds a Redis ${kind}, not a record`);
    if (raw === null) return undefined;
    const now = this.clock?.() ?? Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
    const record = this.recordFrom(recordKey, raw, pttl, now);
    // A claim past its lease has lapsed, whatever its expiry says: the next claim takes it over.
    return record.state === 'in-progress' && record.leaseUntil <= now ? undefined : record;
  }

  // --- shared breakers -----------------------------------------------------------------------

  createBreaker(
    name: string,
    settings: BreakerSettings,
    now: () => number,
    observer: BreakerObserver,
    log: LogSink,
  ): Breaker {
    const breaker = channelBreaker(this.channelOfBreakers, name, settings, now, observer, log);
    this.subscribe();
    return breaker;
  }

  /**
   * The SharedBreakerStore contract, as the FLEET script decides it: for the conformance suite and
   * for tools. The engine's own breakers on a RedisStore do not come through here: they batch
   * with the fleet budgets' counts and hear of transitions by pub/sub.
   */
  async exchangeBreakers(
    reporter: string,
    requests: readonly SharedBreakerRequest[],
  ): Promise<SharedBreakerExchange> {
    // One script run for all of them, or, on a Cluster, one a breaker (its keys share one slot).
    const groups = new Map<string, number[]>();
    requests.forEach((request, index) => {
      const group = this.connection.cluster ? request.name : '';
      const indexes = groups.get(group);
      if (indexes === undefined) groups.set(group, [index]);
      else indexes.push(index);
    });
    const replies: SharedBreakerReply[] = new Array<SharedBreakerReply>(requests.length);
    let at = Number.NEGATIVE_INFINITY;
    await Promise.all(
      [...groups.values()].map(async (indexes) => {
        const keys: string[] = [];
        const args: ScriptArg[] = [];
        for (const index of indexes) {
          const request = requests[index];
          const entry = [
            request.name,
            request.epoch,
            request.settingsId,
            request.settings === undefined ? '' : settingsToText(request.settings),
            ...operationArgs(request.operation),
          ];
          const base = `${this.prefix}:circuit:{${request.name}}`;
          keys.push(base, `${base}:reporters`);
          args.push(request.operation.type, 2, entry.length, ...entry);
        }
        const raw = (await this.script(FLEET, keys, [
          this.scriptNow(),
          this.channel,
          reporter,
          ...args,
        ])) as unknown[];
        const time = Number(raw[indexes.length]);
        if (time > at) at = time;
        indexes.forEach((index, k) => (replies[index] = breakerReplyOf(raw[k])));
      }),
    );
    return { replies, at: Number.isFinite(at) ? at : (this.clock?.() ?? Date.now()) };
  }

  /** Transitions published by any process of the fleet (this store's pub/sub channel). */
  watchBreakers(listener: (change: SharedBreakerChange) => void): SharedBreakerWatch {
    this.watchers.add(listener);
    this.subscribe();
    const ready = this.subscriber?.ready ?? Promise.reject(new Error('the store is closed'));
    ready.catch(() => undefined);
    return { ready, close: () => void this.watchers.delete(listener) };
  }

  // --- shared retry budgets ------------------------------------------------------------------

  /**
   * The fleet's budget `name`: each process's calls and retries go in the store's batches (with
   * the breakers', no round trip of their own) and each answer brings back the fleet's window.
   */
  createBudget(
    name: string,
    settings: RetryBudgetSettings,
    now: () => number,
    log: LogSink,
  ): FleetBudget {
    let member: FleetBatchMember | undefined;
    const key = `${this.prefix}:budget:{${name}}`;
    const link: FleetBudgetLink = {
      schedule: (budget, urgent) =>
        this.flusher.schedule((member ??= budgetMemberOf(budget, [key])), urgent),
      clock: this.clock,
      staleAfter: this.quietInterval,
      log,
    };
    return new FleetBudget(name, settings, now, link);
  }

  /** Sends buffered breaker outcomes, stops listening and, for a store built from a URL, disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flusher.flush();
    this.subscriber?.close();
    await this.connection.close((operation) => this.deadlines.guard(operation));
  }

  /** One breaker operation, in a round trip of its own. */
  private async runNow(
    breaker: FleetBreaker,
    operation: FleetOperation,
    epoch: number,
    args: readonly ScriptArg[],
  ): Promise<FleetReply> {
    const keys = this.breakerKeys(breaker);
    const entry = [...breaker.entryHead(epoch, operation === 'read'), ...args];
    const replies = await this.fleetScript(keys, [operation, 2, entry.length, ...entry]);
    return { ...breakerReplyOf(replies[0]), at: Number(replies[1]) };
  }

  /** What a breaker puts in the store's batches: its counts as a 'record' entry. */
  private batchMemberOf(breaker: FleetBreaker): FleetBatchMember {
    return {
      batchEntry: () => {
        const args = breaker.batchEntry();
        return args === undefined
          ? undefined
          : { operation: 'record', keys: this.breakerKeys(breaker), args };
      },
      batchReplied: (reply, at) => breaker.recorded({ ...breakerReplyOf(reply), at }),
      batchFailed: (error) => breaker.recordFailed(error),
    };
  }

  /**
   * One batch: the entries of every member with something to send (each breaker's counts since
   * its last), in one script run and one round trip. Entries are independent of one another (each
   * names its own keys, all in one slot), so a Cluster can take them apart.
   */
  private async sendBatch(members: readonly FleetBatchMember[]): Promise<void> {
    const entries: BatchEntryOf[] = [];
    for (const member of members) {
      const entry = member.batchEntry();
      if (entry !== undefined) entries.push({ member, entry });
    }
    if (entries.length === 0) return;
    if (!this.connection.cluster) return this.sendEntries(entries);
    // A Cluster runs a script on one node: the entries go in one run per node that serves them.
    await Promise.all(
      this.byNode(entries).map((group) =>
        group.length === 1
          ? this.sendEntries(group)
          : this.nodeRunsRefused
            ? this.sendEach(group)
            : this.sendOnNode(group),
      ),
    );
  }

  /** A Cluster batch's entries grouped by the node the client's slot map says serves their keys. */
  private byNode(entries: readonly BatchEntryOf[]): BatchEntryOf[][] {
    const groups = new Map<string, BatchEntryOf[]>();
    const alone: BatchEntryOf[][] = [];
    for (const entry of entries) {
      const node = this.connection.nodeOf(keySlot(entry.entry.keys[0] as string));
      if (node === undefined) {
        alone.push([entry]);
        continue;
      }
      const group = groups.get(node);
      if (group === undefined) groups.set(node, [entry]);
      else group.push(entry);
    }
    return [...groups.values(), ...alone];
  }

  /**
   * Entries of several slots on one node, in one run of FLEET_ON_NODE. A run that finds a key not
   * on its node (the slot map was stale) or a server without script flags (Redis 6) has applied
   * nothing: the entries then go one by one, and on Redis 6 always will.
   */
  private async sendOnNode(entries: readonly BatchEntryOf[]): Promise<void> {
    const { keys, args } = scriptEntries(entries);
    let replies: unknown[];
    try {
      replies = (await this.script(FLEET_ON_NODE, (entries[0] as BatchEntryOf).entry.keys, [
        this.scriptNow(),
        this.channel,
        this.reporter,
        keys.length,
        ...keys,
        ...args,
      ])) as unknown[];
    } catch (error) {
      const message = error instanceof Error ? error.message : '';
      if (/non local key|CROSSSLOT|MOVED|ASK/.test(message)) return this.sendEach(entries);
      if (/shebang|flags|compiling script/i.test(message)) {
        this.nodeRunsRefused = true;
        return this.sendEach(entries);
      }
      for (const { member } of entries) member.batchFailed(error);
      return;
    }
    repliedTo(entries, replies);
  }

  /** Each entry in a run of its own (a Cluster's entries, when they cannot go by node). */
  private async sendEach(entries: readonly BatchEntryOf[]): Promise<void> {
    await Promise.all(entries.map((entry) => this.sendEntries([entry])));
  }

  private async sendEntries(entries: readonly BatchEntryOf[]): Promise<void> {
    const { keys, args } = scriptEntries(entries);
    let replies: unknown[];
    try {
      replies = await this.fleetScript(keys, args);
    } catch (error) {
      for (const { member } of entries) member.batchFailed(error);
      return;
    }
    repliedTo(entries, replies);
  }

  private fleetScript(keys: readonly string[], entries: readonly ScriptArg[]): Promise<unknown[]> {
    return this.script(FLEET, keys, [
      this.scriptNow(),
      this.channel,
      this.reporter,
      ...entries,
    ]) as Promise<unknown[]>;
  }

  /** A breaker's keys: its state hash and, for a quorum, its reporters; one hash tag, one Cluster slot. */
  private breakerKeys(breaker: FleetBreaker): [string, string] {
    const base = `${this.prefix}:circuit:{${breaker.name}}`;
    return [base, `${base}:reporters`];
  }

  /** The time the scripts decide by: the store's clock if it has one, else '' (Redis's TIME). */
  private scriptNow(): ScriptArg {
    return this.clock === undefined ? '' : Math.floor(this.clock());
  }

  private subscribe(): void {
    if (this.subscriber !== undefined || this.closed) return;
    this.subscriber = this.connection.subscribe(this.channel, {
      // After a reconnection, messages may have been missed: every breaker reads the fleet's state again.
      resubscribed: () => {
        this.breakers.each((breaker) => breaker.markUnsynced());
      },
      message: (message) => this.onChangePublished(message),
    });
    // A breaker that read the fleet's state before the subscription was in place may have missed a
    // change published meanwhile: once it is in place, every breaker reads the state again (in the
    // background: it goes on counting its outcomes for the fleet meanwhile).
    this.subscriber.ready.then(
      () => {
        this.breakers.each((breaker) => breaker.refresh());
      },
      () => undefined,
    );
  }

  private onChangePublished(message: string): void {
    let parsed: {
      n: string;
      st: CircuitState;
      ep: number;
      si: number;
      ou: number;
      on: number;
      why: string;
    };
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      return;
    }
    const change: SharedBreakerChange = {
      name: parsed.n,
      state: parsed.st,
      epoch: parsed.ep,
      since: parsed.si,
      openUntil: parsed.ou,
      openings: parsed.on,
      reason: parsed.why,
    };
    for (const watcher of this.watchers) tellWatcher(watcher, change);
    this.breakers.changed(change);
  }

  private recordKey(key: string): string {
    return `${this.prefix}:idempotency:${key}`;
  }

  private script(
    source: string,
    keys: readonly string[],
    args: readonly ScriptArg[],
  ): Promise<unknown> {
    return this.timed(this.runScript(source, keys, args));
  }

  /** The operation, failed if Redis has not answered within commandTimeout. */
  private timed<T>(operation: Promise<T>): Promise<T> {
    return this.closed && !this.ownsClient ? operation : this.deadlines.guard(operation);
  }

  private async runScript(
    source: string,
    keys: readonly string[],
    args: readonly ScriptArg[],
  ): Promise<unknown> {
    let script = this.scripts.get(source);
    if (script === undefined)
      this.scripts.set(
        source,
        (script = { sha: createHash('sha1').update(source).digest('hex'), loaded: false }),
      );
    if (!script.loaded) {
      // Sent ahead of the EVALSHAs on the same connection, so the script is there when they arrive:
      // a first burst does not get NOSCRIPT on every command and then send the source once each.
      const loading = script;
      loading.loaded = true;
      this.connection.loadScript(source).catch(() => void (loading.loaded = false));
    }
    const strings = args.map(String);
    try {
      return await this.connection.evalSha(script.sha, keys, strings);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      // Redis restarted or failed over and lost its script cache (or, in a Cluster, another node answered).
      script.loaded = false;
      return this.connection.eval(source, keys, strings);
    }
  }

  /**
   * The record in `raw`, or CorruptRecordError when it is not one this store can trust: the call
   * fails closed rather than running the body or replaying a result nobody recorded.
   */
  private recordFrom(recordKey: string, raw: string, pttl: number, now: number): IdempotencyRecord {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new CorruptRecordError(undefined, 'it is not JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new CorruptRecordError(undefined, 'it is not a JSON object');
    const state = own(parsed, 's');
    const fingerprint = own(parsed, 'f');
    if (state !== 'p' && state !== 'c')
      throw new CorruptRecordError(
        undefined,
        state === undefined ? 'it has no state' : `its state ${brief(state)} is unknown`,
      );
    if (typeof fingerprint !== 'string')
      throw new CorruptRecordError(undefined, 'it has no fingerprint');
    if (state === 'p') {
      const token = own(parsed, 't');
      const leaseEnd = own(parsed, 'l');
      if (typeof token !== 'string')
        throw new CorruptRecordError(undefined, 'the claim has no token');
      if (leaseEnd !== undefined && !(typeof leaseEnd === 'number' && Number.isFinite(leaseEnd)))
        throw new CorruptRecordError(undefined, 'the lease end of the claim is not a number');
      // A claim written without a lease end lapses with its expiry (none: it has lapsed already).
      const leaseUntil = leaseEnd ?? (pttl >= 0 ? now + pttl : now);
      return { state: 'in-progress', fingerprint, token, leaseUntil };
    }
    const result = own(parsed, 'r');
    if (typeof result !== 'string')
      throw new CorruptRecordError(undefined, 'the completed record has no result');
    if (this.signingKey !== undefined)
      this.checkSignature(recordKey, fingerprint, result, own(parsed, 'm'));
    return { state: 'completed', fingerprint, result };
  }

  private checkSignature(
    recordKey: string,
    fingerprint: string,
    result: string,
    signature: unknown,
  ): void {
    if (typeof signature !== 'string')
      throw new CorruptRecordError(
        undefined,
        'it is not signed, and this store takes only signed records (signingKey)',
      );
    const given = /^[0-9a-f]{64}$/.test(signature) ? Buffer.from(signature, 'hex') : undefined;
    if (
      given === undefined ||
      !timingSafeEqual(given, this.signatureOf(recordKey, fingerprint, result))
    ) {
      throw new CorruptRecordError(
        undefined,
        'its signature does not match (it was not recorded by a store with this signingKey)',
      );
    }
  }

  /** HMAC-SHA256 over the record's key, fingerprint and result, each length-prefixed so no two records sign alike. */
  private signatureOf(recordKey: string, fingerprint: string, result: string): Buffer {
    const hmac = createHmac('sha256', this.signingKey as KeyObject).update(
      'steadfast idempotency record v1\n',
    );
    for (const part of [recordKey, fingerprint, result])
      hmac.update(`${Buffer.byteLength(part)}:`).update(part);
    return hmac.digest();
  }
}

/** A typed operation's own arguments, as the FLEET script reads them after the entry's head. */
function operationArgs(operation: SharedBreakerOperation): ScriptArg[] {
  switch (operation.type) {
    case 'record':
      return [
        operation.calls,
        operation.failures,
        operation.slowCalls,
        operation.leadingFailures,
        operation.trailingFailures,
        operation.longestFailureRun,
      ];
    case 'acquire':
      return [operation.token, operation.leaseMs];
    case 'settle':
      return [operation.outcome, operation.token];
    case 'release':
      return [operation.token];
    default:
      return [];
  }
}

/** The keys and the script arguments of a batch's entries, in order. */
function scriptEntries(entries: readonly BatchEntryOf[]): { keys: string[]; args: ScriptArg[] } {
  const keys: string[] = [];
  const args: ScriptArg[] = [];
  for (const { entry } of entries) {
    keys.push(...entry.keys);
    args.push(entry.operation, entry.keys.length, entry.args.length, ...entry.args);
  }
  return { keys, args };
}

/** Hands each entry its reply; the script's last reply is the time it decided by. */
function repliedTo(entries: readonly BatchEntryOf[], replies: readonly unknown[]): void {
  const at = Number(replies[entries.length]);
  entries.forEach(({ member }, index) => member.batchReplied(replies[index], at));
}

/** A batch entry with the member it is for. */
interface BatchEntryOf {
  readonly member: FleetBatchMember;
  readonly entry: FleetBatchEntry;
}

/** A breaker entry's reply, as the FLEET script answers it. */
function breakerReplyOf(raw: unknown): SharedBreakerReply {
  const reply = raw as BreakerReplyFields;
  const flags = reply[11];
  return {
    state: reply[0],
    epoch: reply[1],
    since: reply[2],
    openUntil: reply[3],
    openings: reply[4],
    calls: reply[5],
    failures: reply[6],
    slowCalls: reply[7],
    consecutiveFailures: reply[8],
    granted: reply[9] === 1,
    reason: reply[10],
    // The script's flags: 1 other settings held, 2 none held, 4 a criterion met short of the quorum.
    settingsDiffer: (flags & 1) !== 0,
    settingsMissing: (flags & 2) !== 0,
    shortOfQuorum: (flags & 4) !== 0,
  };
}

/** What a fleet budget puts in the store's batches: its counts as a 'budget' entry. */
function budgetMemberOf(budget: FleetBudget, keys: readonly string[]): FleetBatchMember {
  return {
    batchEntry: () => {
      const args = budget.batchEntry();
      return args === undefined ? undefined : { operation: 'budget', keys, args };
    },
    batchReplied: (reply, at) => {
      const fields = reply as unknown[];
      if (!Array.isArray(fields) || typeof fields[0] !== 'number') {
        budget.recordFailed(new Error(`its key ${keys[0]} holds another Redis type`));
        return;
      }
      budget.recorded({
        flags: fields[0],
        window: Number(fields[1]),
        newest: Number(fields[2]),
        pairs: fields.slice(5) as number[],
        at,
      } satisfies FleetBudgetReply);
    },
    batchFailed: (error) => budget.recordFailed(error),
  };
}

/** A store operation waiting for Redis; `fail` is cleared once it settles. */
interface Waiting {
  deadline: number;
  fail: ((error: Error) => void) | undefined;
}

/**
 * Fails the operations Redis has not answered within `timeoutMs`, with one timer for the store
 * rather than a timer and a Promise.race per command. The time is Redis's, not this process's: an
 * operation's clock starts once the code that issued it yields (a burst of 4,000 calls issued in
 * one synchronous stretch is not charged for the stretch), and deadlines are checked after the
 * event loop's poll phase, so a reply that arrived while the process was busy still wins.
 */
class CommandDeadlines {
  /** issued in the current synchronous stretch; their clocks start at the next check phase */
  private readonly starting: Waiting[] = [];
  // Every operation gets the same timeout, so deadlines are in the order their clocks started.
  private readonly waiting: Waiting[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private stampScheduled = false;

  constructor(private readonly timeoutMs: number) {}

  guard<T>(operation: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Waiting = { deadline: 0, fail: reject };
      this.starting.push(entry);
      if (!this.stampScheduled) {
        this.stampScheduled = true;
        setImmediate(this.stamp);
      }
      operation.then(
        (value) => {
          entry.fail = undefined;
          resolve(value);
        },
        (error: unknown) => {
          entry.fail = undefined;
          reject(error);
        },
      );
    });
  }

  private readonly stamp = (): void => {
    this.stampScheduled = false;
    const deadline = performance.now() + this.timeoutMs;
    for (const entry of this.starting) {
      if (entry.fail === undefined) continue;
      entry.deadline = deadline;
      this.waiting.push(entry);
    }
    this.starting.length = 0;
    if (this.timer === undefined && this.head < this.waiting.length) this.arm(this.timeoutMs);
  };

  private arm(delay: number): void {
    // setImmediate: the check waits for the poll phase that reads replies already in the socket.
    this.timer = setTimeout(() => setImmediate(this.sweep), Math.max(1, Math.ceil(delay)));
    this.timer.unref();
  }

  private readonly sweep = (): void => {
    this.timer = undefined;
    const now = performance.now();
    const waiting = this.waiting;
    for (; this.head < waiting.length; this.head++) {
      const entry = waiting[this.head];
      if (entry.fail === undefined) continue;
      if (entry.deadline > now) break;
      const fail = entry.fail;
      entry.fail = undefined;
      fail(new Error(`Redis did not answer within ${this.timeoutMs} ms`));
    }
    if (this.head === waiting.length) {
      waiting.length = 0;
      this.head = 0;
      return;
    }
    if (this.head > 1_024 && this.head * 2 > waiting.length) {
      waiting.splice(0, this.head);
      this.head = 0;
    }
    this.arm(waiting[this.head].deadline - now);
  };
}

function checkUrl(checker: OptionChecker, text: string): void {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (
    url === undefined ||
    (url.protocol !== 'redis:' && url.protocol !== 'rediss:') ||
    url.hostname === ''
  ) {
    checker.fail(
      'url',
      "must be a redis:// or rediss:// URL with a host ('redis://host:6379')",
      withoutCredentials(text),
    );
  }
  if (!/^(\/\d*)?$/.test(url.pathname))
    checker.fail(
      'url',
      "must name its database by number ('redis://host:6379/0')",
      withoutCredentials(text),
    );
}

/** The URL as an error message may show it: no user name or password. */
function withoutCredentials(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^@/]*@/i, '$1***@');
}

function timerDelay(checker: OptionChecker, option: string, value: unknown, min: number): number {
  const ms = checker.duration(option, value);
  if (ms < min) checker.fail(option, `must be >= ${min} ms`, value);
  if (ms > MAX_TIMER_MS)
    checker.fail(
      option,
      `must be at most ${MAX_TIMER_MS} ms (the longest timer Node keeps)`,
      value,
    );
  return ms;
}

function signingKeyOf(checker: OptionChecker, value: unknown): KeyObject {
  // types.isUint8Array: a Buffer or Uint8Array from any realm.
  const bytes =
    typeof value === 'string'
      ? Buffer.from(value, 'utf8')
      : types.isUint8Array(value)
        ? Buffer.from(value)
        : undefined;
  if (bytes === undefined)
    checker.fail(
      'signingKey',
      `must be a string, a Buffer or a Uint8Array of at least ${MIN_SIGNING_KEY_BYTES} bytes`,
      value,
    );
  // The key itself never goes into the message.
  if (bytes.length < MIN_SIGNING_KEY_BYTES) {
    throw new ConfigError(
      `new RedisStore(): option 'signingKey' must be at least ${MIN_SIGNING_KEY_BYTES} bytes (e.g. crypto.randomBytes(32)), got ${bytes.length} bytes`,
      'signingKey',
    );
  }
  return createSecretKey(bytes);
}

/** A property of a parsed record, never one inherited from Object.prototype. */
function own(object: object, name: string): unknown {
  return Object.prototype.hasOwnProperty.call(object, name)
    ? (object as Record<string, unknown>)[name]
    : undefined;
}

function brief(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
