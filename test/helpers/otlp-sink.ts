/*
 * A loopback OTLP/HTTP receiver for tests that check what a whole application, or a Collector's
 * otlp_http exporter, sent: it keeps each request's (inflated, decoded) body with its path and
 * answers 200 with an empty export response. Anything it cannot take is recorded in `problems`
 * and answered with an error status, never thrown.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';

/** One OTLP/HTTP export request as received. */
export interface ReceivedExport<Body> {
  readonly path: string;
  readonly body: Body;
}

const TRACES_PATH = '/v1/traces';
const PROFILES_PATH = '/v1development/profiles';

/** What a sink takes and how it reads and answers it. */
interface SinkEncoding<Body> {
  readonly accepts: (contentType: string) => boolean;
  /** Throws on a body it cannot read (answered 400). */
  readonly decode: (body: Buffer) => Body;
  /** The paths it takes; undefined: any path. */
  readonly paths: readonly string[] | undefined;
  readonly responseContentType: string;
  readonly responseBody: string;
}

export class OtlpSink<Body> {
  readonly exports: ReceivedExport<Body>[] = [];
  /** Requests with an unexpected method, path, content type or body. */
  readonly problems: string[] = [];
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  /** Base URL, e.g. `http://127.0.0.1:40123`; set by `start()`. */
  url = '';

  /**
   * Takes `application/x-protobuf` on `/v1/traces` and `/v1development/profiles` only, keeping
   * the raw bodies (an empty body is a valid Export*ServiceResponse with no partial success).
   */
  static protobuf(): OtlpSink<Uint8Array> {
    return new OtlpSink<Uint8Array>({
      accepts: (contentType) => contentType === 'application/x-protobuf',
      decode: (body) => body,
      paths: [TRACES_PATH, PROFILES_PATH],
      responseContentType: 'application/x-protobuf',
      responseBody: '',
    });
  }

  /** Takes `application/json` (`http/json`) on any path, keeping the parsed bodies. */
  static json(): OtlpSink<unknown> {
    return new OtlpSink<unknown>({
      accepts: (contentType) => contentType.startsWith('application/json'),
      decode: (body) => JSON.parse(body.toString('utf8')) as unknown,
      paths: undefined,
      responseContentType: 'application/json',
      responseBody: '{}',
    });
  }

  private constructor(private readonly encoding: SinkEncoding<Body>) {}

  async start(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  /** The bodies received on `/v1development/profiles`. */
  profileBodies(): Body[] {
    return this.bodiesOn(PROFILES_PATH);
  }

  /** The bodies received on `/v1/traces`. */
  traceBodies(): Body[] {
    return this.bodiesOn(TRACES_PATH);
  }

  /** Forgets what was received so far. */
  reset(): void {
    this.exports.length = 0;
    this.problems.length = 0;
  }

  private bodiesOn(path: string): Body[] {
    return this.exports.filter((e) => e.path === path).map((e) => e.body);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = zlib.gunzipSync(raw);
      const path = req.url ?? '';
      const contentType = req.headers['content-type'] ?? '';
      if (req.method !== 'POST' || !this.encoding.accepts(contentType)) {
        this.problems.push(`${req.method} ${path} content-type ${contentType}`);
        res.writeHead(415).end();
        return;
      }
      if (this.encoding.paths !== undefined && !this.encoding.paths.includes(path)) {
        this.problems.push(`POST ${path}`);
        res.writeHead(404).end();
        return;
      }
      let body: Body;
      try {
        body = this.encoding.decode(raw);
      } catch (error) {
        this.problems.push(`${path}: ${String(error)}`);
        res.writeHead(400).end();
        return;
      }
      this.exports.push({ path, body });
      res.writeHead(200, { 'content-type': this.encoding.responseContentType }).end(this.encoding.responseBody);
    });
  }
}
