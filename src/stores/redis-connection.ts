import { createRequire } from 'node:module';
import type { OptionChecker } from '../runtime/validation';
import { hasMethod } from '../runtime/validation';

/*
 * What RedisStore needs of a Redis client, whichever client it is: ioredis (a Redis or a Cluster)
 * or node-redis (a client or a cluster, `redis` 4 and 5). The store speaks only to this; each
 * client's own calling convention stays in its adapter below, and only the client in use is loaded.
 */

/** A method of any signature: the clients' overloads are checked where they are called. */
type AnyMethod = (...args: never[]) => unknown;

/** An ioredis client: `new Redis(…)` or `new Cluster(…)` (ioredis 5 and 6). */
export interface IoredisClient {
  evalsha: AnyMethod;
  eval: AnyMethod;
  multi: AnyMethod;
  duplicate: AnyMethod;
  on: AnyMethod;
  quit: AnyMethod;
  disconnect: AnyMethod;
}

/** A node-redis client: `createClient(…)` or `createCluster(…)` (`redis` 4 and 5), connected. */
export interface NodeRedisClient {
  evalSha: AnyMethod;
  eval: AnyMethod;
  multi: AnyMethod;
  duplicate: AnyMethod;
  on: AnyMethod;
  readonly isOpen: boolean;
}

/** A reply handler for one channel, and what to do after the subscription was lost and is back. */
export interface ChannelListener {
  message(message: string): void;
  resubscribed(): void;
}

export interface Subscription {
  /** Settles once the subscription is in place (rejects if it could not be made). */
  readonly ready: Promise<void>;
  close(): void;
}

/** One key's TYPE, GET and PTTL, and Redis's TIME, read in one transaction. */
export type KeyReading = readonly [string, string | null, number, readonly [string, string]];

export interface RedisConnection {
  /** 'ioredis' or 'node-redis': said in errors and logs */
  readonly client: 'ioredis' | 'node-redis';
  /** a Cluster client: one script may not span several slots */
  readonly cluster: boolean;
  /**
   * On a Cluster, the node (host:port) the client's slot map says serves `slot`, or undefined when
   * it does not know (not a Cluster, or no map yet).
   */
  nodeOf(slot: number): string | undefined;
  evalSha(sha: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  eval(source: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /** SCRIPT LOAD on the connection the scripts go through (not on a Cluster, where EVAL loads each node) */
  loadScript(source: string): Promise<unknown>;
  readKey(key: string): Promise<KeyReading>;
  subscribe(channel: string, listener: ChannelListener): Subscription;
  /** Ends what the store owns: the client when the store made it, else only its own listener. */
  close(guard: <T>(operation: Promise<T>) => Promise<T>): Promise<void>;
}

const IOREDIS_METHODS = ['evalsha', 'eval', 'multi', 'duplicate', 'on', 'quit', 'disconnect'];
const NODE_REDIS_METHODS = ['evalSha', 'eval', 'multi', 'duplicate', 'on'];

const ignoreError = (): void => {};

/**
 * A subscriber connection's errors are the store's to ignore (a lost connection is seen as a failed
 * command elsewhere); after a reconnection messages may have been missed, so the listener hears of
 * every `ready` but the first (both clients subscribe again by themselves).
 */
function followReconnections(
  subscriber: { on(event: string, listener: (...args: never[]) => void): unknown },
  listener: ChannelListener,
): void {
  subscriber.on('error', ignoreError);
  let readyBefore = false;
  subscriber.on('ready', () => {
    if (readyBefore) listener.resubscribed();
    readyBefore = true;
  });
}

/**
 * The connection for what `new RedisStore()` was given: a client of either kind (kept the
 * caller's), or a redis:// or rediss:// URL (a client of the installed library, owned by the store).
 * Anything else, or a client that is closed, is a ConfigError naming `client` (or `url`).
 */
export function connectionFor(clientOrUrl: unknown, checker: OptionChecker): RedisConnection {
  if (typeof clientOrUrl === 'string') return connectionToUrl(clientOrUrl, checker);
  if (IOREDIS_METHODS.every((method) => hasMethod(clientOrUrl, method))) {
    const status = (clientOrUrl as { status?: unknown }).status;
    if (status === 'end' || status === 'close')
      checker.fail(
        'client',
        'is an ioredis client that has been closed (quit or disconnect)',
        clientOrUrl,
      );
    return new IoredisConnection(clientOrUrl as IoredisClient, false);
  }
  if (NODE_REDIS_METHODS.every((method) => hasMethod(clientOrUrl, method))) {
    if ((clientOrUrl as { isOpen?: unknown }).isOpen !== true)
      checker.fail(
        'client',
        'is a node-redis client that is not open: pass it after `await client.connect()`',
        clientOrUrl,
      );
    return new NodeRedisConnection(clientOrUrl as NodeRedisClient, undefined);
  }
  return checker.fail(
    'client',
    'must be an ioredis client (Redis or Cluster), a node-redis client (createClient or createCluster, connected) or a redis:// or rediss:// URL',
    clientOrUrl,
  );
}

/** @internal How a URL's client library is found: replaced by tests to play a missing package. */
export const clientLibraries = { load: optionalPeer };

/** Loads an optional peer from where the application resolves it; undefined when it is not installed. */
function optionalPeer(name: string): unknown {
  // From this package's own place first (its sibling in node_modules), then from the application's.
  for (const from of [createRequire(__filename), createRequire(`${process.cwd()}/`)]) {
    try {
      return from(name) as unknown;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'MODULE_NOT_FOUND') throw error;
    }
  }
  return undefined;
}

function connectionToUrl(url: string, checker: OptionChecker): RedisConnection {
  const ioredis = clientLibraries.load('ioredis') as
    | { default?: new (url: string, options: object) => IoredisClient }
    | (new (url: string, options: object) => IoredisClient)
    | undefined;
  if (ioredis !== undefined) {
    const Redis = typeof ioredis === 'function' ? ioredis : ioredis.default;
    if (Redis !== undefined)
      return new IoredisConnection(
        new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false }),
        true,
      );
  }
  const nodeRedis = clientLibraries.load('redis') as
    | { createClient(options: { url: string }): NodeRedisClient & { connect(): Promise<unknown> } }
    | undefined;
  if (nodeRedis !== undefined) {
    const client = nodeRedis.createClient({ url });
    // Commands issued before the connection is up wait in node-redis's offline queue.
    const connecting = client.connect().then(
      () => undefined,
      () => undefined,
    );
    return new NodeRedisConnection(client, connecting);
  }
  return checker.fail(
    'url',
    'needs a Redis client library: install ioredis or redis (node-redis), or pass a client',
    url,
  );
}

type IoredisCommands = {
  /** a Cluster's slot map: each slot's node keys (host:port), the primary first */
  slots?: readonly (readonly string[] | undefined)[];
  evalsha(sha: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  eval(source: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  script(subcommand: 'LOAD', source: string): Promise<unknown>;
  multi(): IoredisMulti;
  duplicate(): IoredisSubscriber;
  on(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
  isCluster?: boolean;
};

type IoredisMulti = {
  type(key: string): IoredisMulti;
  get(key: string): IoredisMulti;
  pttl(key: string): IoredisMulti;
  time(): IoredisMulti;
  exec(): Promise<[Error | null, unknown][] | null>;
};

type IoredisSubscriber = {
  on(event: string, listener: (...args: never[]) => void): unknown;
  subscribe(channel: string): Promise<unknown>;
  disconnect(): void;
};

class IoredisConnection implements RedisConnection {
  readonly client = 'ioredis';
  readonly cluster: boolean;
  private readonly redis: IoredisCommands;

  constructor(
    client: IoredisClient,
    private readonly owned: boolean,
  ) {
    this.redis = client as unknown as IoredisCommands;
    this.cluster = this.redis.isCluster === true;
    // ioredis reports connection errors as events; without a listener Node would print them all.
    this.redis.on('error', ignoreError);
  }

  nodeOf(slot: number): string | undefined {
    return this.cluster ? this.redis.slots?.[slot]?.[0] : undefined;
  }

  evalSha(sha: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return this.redis.evalsha(sha, keys.length, ...keys, ...args);
  }

  eval(source: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return this.redis.eval(source, keys.length, ...keys, ...args);
  }

  loadScript(source: string): Promise<unknown> {
    return this.redis.script('LOAD', source);
  }

  async readKey(key: string): Promise<KeyReading> {
    const replies = await this.redis.multi().type(key).get(key).pttl(key).time().exec();
    if (replies === null) throw new Error('the transaction reading the record was discarded');
    // A key of another type fails GET with WRONGTYPE: the store refuses it as corrupt by its type.
    const [typeError, kind] = replies[0];
    if (typeError === null && kind !== 'string' && kind !== 'none')
      return [String(kind), null, 0, ['0', '0']];
    const failed = replies.find(([error]) => error !== null);
    if (failed !== undefined) throw failed[0] as Error;
    return replies.map(([, value]) => value) as unknown as KeyReading;
  }

  subscribe(channel: string, listener: ChannelListener): Subscription {
    const subscriber = this.redis.duplicate();
    followReconnections(subscriber, listener);
    subscriber.on('message', ((_channel: string, message: string) => listener.message(message)) as (
      ...args: never[]
    ) => void);
    return {
      ready: subscriber.subscribe(channel).then(() => undefined),
      close: () => subscriber.disconnect(),
    };
  }

  async close(guard: <T>(operation: Promise<T>) => Promise<T>): Promise<void> {
    // QUIT waits for a connection that may never be ready (a server that accepts but never answers).
    if (this.owned) await guard(this.redis.quit()).catch(() => this.redis.disconnect());
    // A client passed in outlives its stores: one listener left per store would add up.
    else this.redis.off('error', ignoreError);
  }
}

type NodeRedisCommands = {
  /** a cluster's primary for a slot */
  getSlotMaster?(slot: number): { host?: string; port?: number } | undefined;
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(source: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  scriptLoad(source: string): Promise<unknown>;
  type(key: string): Promise<string>;
  multi(routing?: string): NodeRedisMulti;
  duplicate(): NodeRedisSubscriber;
  on(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
  close?(): Promise<unknown>;
  quit?(): Promise<unknown>;
  destroy?(): void;
  disconnect?(): Promise<unknown>;
  masters?: unknown;
};

type NodeRedisMulti = {
  type(key: string): NodeRedisMulti;
  get(key: string): NodeRedisMulti;
  pTTL(key: string): NodeRedisMulti;
  time(): NodeRedisMulti;
  exec(): Promise<unknown[]>;
};

type NodeRedisSubscriber = {
  on(event: string, listener: (...args: never[]) => void): unknown;
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  destroy?(): void;
  disconnect?(): Promise<unknown>;
};

class NodeRedisConnection implements RedisConnection {
  readonly client = 'node-redis';
  readonly cluster: boolean;
  private readonly redis: NodeRedisCommands;

  constructor(
    client: NodeRedisClient,
    /** for a client the store made (from a URL), its connect(); undefined for the caller's client */
    private readonly connecting: Promise<void> | undefined,
  ) {
    this.redis = client as unknown as NodeRedisCommands;
    this.cluster = 'masters' in (client as object);
    // node-redis emits connection errors; an 'error' event without a listener would crash the process.
    this.redis.on('error', ignoreError);
  }

  nodeOf(slot: number): string | undefined {
    if (!this.cluster || typeof this.redis.getSlotMaster !== 'function') return undefined;
    try {
      const node = this.redis.getSlotMaster(slot);
      return node?.host === undefined ? undefined : `${node.host}:${node.port}`;
    } catch {
      // No slot map yet (not connected): the entries go one by one.
      return undefined;
    }
  }

  evalSha(sha: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return this.redis.evalSha(sha, { keys: [...keys], arguments: [...args] });
  }

  eval(source: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return this.redis.eval(source, { keys: [...keys], arguments: [...args] });
  }

  loadScript(source: string): Promise<unknown> {
    return this.redis.scriptLoad(source);
  }

  async readKey(key: string): Promise<KeyReading> {
    // A cluster routes the transaction by `key`: TIME then comes from the node that holds it.
    const multi = this.redis.multi(this.cluster ? key : undefined);
    let replies: unknown[];
    try {
      replies = await multi.type(key).get(key).pTTL(key).time().exec();
    } catch (error) {
      // A key of another type fails GET with WRONGTYPE (and node-redis the whole transaction):
      // the store refuses it as corrupt by its type.
      if (!String((error as { message?: unknown }).message).includes('WRONGTYPE')) throw error;
      return [String(await this.redis.type(key)), null, 0, ['0', '0']];
    }
    const [kind, raw, pttl, time] = replies as [string, string | null, number, unknown[]];
    return [kind, raw, Number(pttl), [String(time[0]), String(time[1])]];
  }

  subscribe(channel: string, listener: ChannelListener): Subscription {
    const subscriber = this.redis.duplicate();
    followReconnections(subscriber, listener);
    let closed = false;
    const ready = subscriber
      .connect()
      .then(() => subscriber.subscribe(channel, (message) => listener.message(message)))
      .then(() => undefined);
    return {
      ready,
      close: () => {
        if (closed) return;
        closed = true;
        // `destroy()` in redis 5, `disconnect()` in redis 4: both drop the connection at once.
        if (typeof subscriber.destroy === 'function') subscriber.destroy();
        else void subscriber.disconnect?.().catch(ignoreError);
      },
    };
  }

  async close(guard: <T>(operation: Promise<T>) => Promise<T>): Promise<void> {
    if (this.connecting === undefined) {
      this.redis.off('error', ignoreError);
      return;
    }
    await this.connecting;
    // `close()` in redis 5 (QUIT there is deprecated), `quit()` in redis 4.
    const graceful =
      typeof this.redis.close === 'function' ? this.redis.close() : this.redis.quit?.();
    await guard(Promise.resolve(graceful)).catch(() => {
      if (typeof this.redis.destroy === 'function') this.redis.destroy();
      else void this.redis.disconnect?.().catch(ignoreError);
    });
  }
}
