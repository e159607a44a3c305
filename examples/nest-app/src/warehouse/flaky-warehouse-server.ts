import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * How the simulated warehouse behaves: it answers every request, fails every third one (503),
 * fails every one (503), or answers none (it holds the request until the client gives up).
 */
export type WarehouseMode = 'healthy' | 'flaky' | 'down' | 'hung';

export const WAREHOUSE_MODES: readonly WarehouseMode[] = ['healthy', 'flaky', 'down', 'hung'];

/** What the warehouse tells about the requests it holds: `held` when it holds one, `abandoned` when its client hangs up. */
export interface FlakyWarehouseEvents {
  held: [path: string];
  abandoned: [path: string];
}

/**
 * A stand-in for a remote warehouse API: a real HTTP server on 127.0.0.1 (an ephemeral port unless
 * one is given) answering `GET /stock/:sku` with `{ "sku": …, "available": … }`, so that the app's
 * client goes through sockets, status codes and aborted requests as it would in production.
 */
export class FlakyWarehouseServer extends EventEmitter<FlakyWarehouseEvents> {
  /** stock requests received, answered or not */
  requests = 0;
  /** held requests whose client closed the connection before an answer came */
  abandoned = 0;
  private mode: WarehouseMode = 'flaky';
  private closing = false;
  private readonly stock = new Map<string, number>([
    ['espresso-beans', 40],
    ['grinder', 3],
    ['kettle', 12],
  ]);

  private constructor(
    private readonly server: Server,
    /** where it listens: `http://127.0.0.1:<port>` */
    readonly url: string,
    private readonly log: (line: string) => void,
  ) {
    super();
    server.on('request', (request, response) => this.answer(request, response));
  }

  /** Listens on 127.0.0.1. The server never keeps the process alive by itself (it is unref'd). */
  static async start(
    options: { port?: number; log?: (line: string) => void } = {},
  ): Promise<FlakyWarehouseServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.unref();
    const { port } = server.address() as AddressInfo;
    return new FlakyWarehouseServer(server, `http://127.0.0.1:${port}`, options.log ?? (() => {}));
  }

  setMode(mode: WarehouseMode): void {
    this.mode = mode;
  }

  currentMode(): WarehouseMode {
    return this.mode;
  }

  /** Stops listening and drops every connection, held requests included. */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    const path = request.url ?? '/';
    const sku = request.method === 'GET' ? skuOf(path) : undefined;
    if (sku === undefined) return reply(response, 404, { message: `no such resource: ${path}` });
    this.requests++;
    if (this.mode === 'hung') return this.hold(path, response);
    if (this.mode === 'down' || (this.mode === 'flaky' && this.requests % 3 === 0)) {
      return reply(response, 503, { message: `warehouse unavailable (request ${this.requests})` });
    }
    reply(response, 200, { sku, available: this.stock.get(sku) ?? 0 });
  }

  /** Never answers; notes when the client closes the connection (a client that gave up, or aborted). */
  private hold(path: string, response: ServerResponse): void {
    const heldAt = Date.now();
    response.once('close', () => {
      if (this.closing) return;
      this.abandoned++;
      this.log(
        `GET ${path} held; the client closed the connection after ${Date.now() - heldAt} ms`,
      );
      this.emit('abandoned', path);
    });
    this.emit('held', path);
  }
}

function skuOf(path: string): string | undefined {
  const match = /^\/stock\/([^/?#]+)$/.exec(path);
  if (match === null) return undefined;
  try {
    return decodeURIComponent(match[1] ?? '');
  } catch {
    return undefined;
  }
}

function reply(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
