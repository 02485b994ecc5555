import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';

/**
 * A minimal OTLP/HTTP receiver on loopback for the Collector's otlp_http exporter to forward to.
 * It keeps each request's raw (inflated) protobuf body per signal and answers 200 with an empty
 * export response; anything it cannot take is recorded in `problems`, not thrown.
 */
export class OtlpSink {
  readonly traceBodies: Uint8Array[] = [];
  readonly profileBodies: Uint8Array[] = [];
  /** Requests with an unexpected path, method or content type. */
  readonly problems: string[] = [];
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  /** Base URL, e.g. `http://127.0.0.1:40123`; set by `start()`. */
  url = '';

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

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
      const contentType = req.headers['content-type'] ?? '';
      if (req.method !== 'POST' || contentType !== 'application/x-protobuf') {
        this.problems.push(`${req.method} ${req.url} content-type ${contentType}`);
        res.writeHead(415).end();
        return;
      }
      if (req.url === '/v1/traces') this.traceBodies.push(body);
      else if (req.url === '/v1development/profiles') this.profileBodies.push(body);
      else {
        this.problems.push(`POST ${req.url}`);
        res.writeHead(404).end();
        return;
      }
      // An empty protobuf body is a valid Export*ServiceResponse with no partial success.
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  }
}
