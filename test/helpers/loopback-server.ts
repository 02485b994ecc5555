/*
 * A real HTTP server on 127.0.0.1 that records every request (body gunzipped when sent with
 * Content-Encoding: gzip) and answers from a queue of scripted responses, standing in for a
 * Collector's OTLP/HTTP receiver in exporter tests.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import * as zlib from 'node:zlib';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  /** The body as sent. */
  readonly rawBody: Buffer;
  /** The body after undoing Content-Encoding: gzip. */
  readonly body: Buffer;
  /** performance.now() when the body had arrived. */
  readonly atMillis: number;
}

/** Answers one request; may also leave it unanswered. */
export type Responder = (request: RecordedRequest, res: http.ServerResponse) => void;

/** Answers with `statusCode`, optional headers and body. */
export function reply(statusCode: number, options: { headers?: http.OutgoingHttpHeaders; body?: string | Uint8Array } = {}): Responder {
  return (_request, res) => {
    res.writeHead(statusCode, options.headers);
    res.end(options.body);
  };
}

/** Never answers: the request stays open until the client gives up or the server stops. */
export const neverAnswer: Responder = () => undefined;

export class LoopbackServer {
  readonly requests: RecordedRequest[] = [];
  private readonly _script: Responder[] = [];
  private _fallback: Responder = reply(200);
  private readonly _waiters: Array<{ count: number; resolve: () => void }> = [];
  private readonly _server = http.createServer((req, res) => this._handle(req, res));
  private _port = 0;
  private _connections = 0;

  constructor() {
    this._server.on('connection', () => this._connections++);
  }

  /** TCP connections accepted so far. */
  get connectionCount(): number {
    return this._connections;
  }

  /** Queues responders, used one per request in order; after them, the fallback answers. */
  script(...responders: Responder[]): this {
    this._script.push(...responders);
    return this;
  }

  /** Answers requests once the script is used up (default: 200 with an empty body). */
  fallback(responder: Responder): this {
    this._fallback = responder;
    return this;
  }

  /** Listens on `port` (0: any free port) of 127.0.0.1. */
  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this._server.once('error', reject);
      this._server.listen(port, '127.0.0.1', () => {
        this._server.off('error', reject);
        resolve();
      });
    });
    this._port = (this._server.address() as AddressInfo).port;
    return this;
  }

  get port(): number {
    return this._port;
  }

  /** `http://127.0.0.1:<port>`, no trailing slash. */
  get origin(): string {
    return `http://127.0.0.1:${this._port}`;
  }

  /** The profiles endpoint on this server. */
  get profilesUrl(): string {
    return `${this.origin}/v1development/profiles`;
  }

  /** Resolves once `count` requests in all have arrived. */
  waitForRequests(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this._waiters.push({ count, resolve }));
  }

  /** Stops listening and drops open connections, answered or not. */
  async stop(): Promise<void> {
    this._server.closeAllConnections();
    await new Promise<void>((resolve) => this._server.close(() => resolve()));
  }

  private _handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(rawBody) : rawBody;
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawBody,
        body,
        atMillis: performance.now(),
      };
      this.requests.push(recorded);
      const responder = this._script.shift() ?? this._fallback;
      responder(recorded, res);
      for (const waiter of this._waiters.filter((w) => this.requests.length >= w.count)) {
        this._waiters.splice(this._waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
  }
}

/** A loopback port that nothing listens on right now (it was free a moment ago). */
export async function unusedPort(): Promise<number> {
  const [port] = await freePorts(1);
  return port;
}

/**
 * `count` distinct ports free on 127.0.0.1 now (all held at once while they are picked, then
 * released: a process started right after binds them, though another one could race it).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** Whether something accepts TCP connections on `port` of 127.0.0.1. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
