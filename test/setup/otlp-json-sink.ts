import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';

/** One OTLP/HTTP JSON export request as received. */
export interface JsonExport {
  readonly path: string;
  readonly body: unknown;
}

/**
 * An OTLP/HTTP receiver on loopback that takes JSON bodies (`http/json`), for tests that check what a
 * whole application exported. Protobuf bodies, other paths and bad JSON land in `problems`.
 */
export class OtlpJsonSink {
  readonly exports: JsonExport[] = [];
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

  /** The bodies received on `/v1development/profiles`. */
  profileRequests(): unknown[] {
    return this.exports.filter((e) => e.path === '/v1development/profiles').map((e) => e.body);
  }

  /** The bodies received on `/v1/traces`. */
  traceRequests(): unknown[] {
    return this.exports.filter((e) => e.path === '/v1/traces').map((e) => e.body);
  }

  reset(): void {
    this.exports.length = 0;
    this.problems.length = 0;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
      const path = req.url ?? '';
      const contentType = req.headers['content-type'] ?? '';
      if (req.method !== 'POST' || !contentType.startsWith('application/json')) {
        this.problems.push(`${req.method} ${path} content-type ${contentType}`);
        res.writeHead(415).end();
        return;
      }
      try {
        this.exports.push({ path, body: JSON.parse(body.toString('utf8')) });
      } catch (error) {
        this.problems.push(`${path}: ${String(error)}`);
        res.writeHead(400).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  }
}

/** One profile of an OTLP JSON profiles request, with the names of the functions its samples ran. */
export interface ProfileSummary {
  readonly serviceName: string | undefined;
  readonly sampleCount: number;
  /** Trace IDs (hex) the profile's samples link to. */
  readonly traceIds: ReadonlySet<string>;
  readonly functionNames: ReadonlySet<string>;
}

interface JsonRequest {
  dictionary?: {
    stringTable?: string[];
    functionTable?: Array<{ nameStrindex?: number }>;
    linkTable?: Array<{ traceId?: string }>;
  };
  resourceProfiles?: Array<{
    resource?: { attributes?: Array<{ key: string; value?: { stringValue?: string } }> };
    scopeProfiles?: Array<{ profiles?: Array<{ samples?: Array<{ linkIndex?: number }> }> }>;
  }>;
}

/**
 * Reads an OTLP JSON `ExportProfilesServiceRequest` into one summary per profile. Function names are
 * taken from the request's shared dictionary (every function the request names), which is enough
 * to tell whether a given function was sampled in it.
 */
export function summarizeProfiles(body: unknown): ProfileSummary[] {
  const request = body as JsonRequest;
  const strings = request.dictionary?.stringTable ?? [];
  const functionNames = new Set((request.dictionary?.functionTable ?? []).map((f) => strings[f.nameStrindex ?? 0] ?? ''));
  const links = request.dictionary?.linkTable ?? [];
  const summaries: ProfileSummary[] = [];
  for (const rp of request.resourceProfiles ?? []) {
    const serviceName = rp.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue;
    for (const sp of rp.scopeProfiles ?? []) {
      for (const profile of sp.profiles ?? []) {
        const samples = profile.samples ?? [];
        const traceIds = new Set(samples.map((s) => links[s.linkIndex ?? 0]?.traceId ?? '').filter((id) => id !== ''));
        summaries.push({ serviceName, sampleCount: samples.length, traceIds, functionNames });
      }
    }
  }
  return summaries;
}

/** The names of every span in OTLP JSON trace requests, with their trace IDs. */
export function spansOf(bodies: unknown[]): Array<{ name: string; traceId: string }> {
  const spans: Array<{ name: string; traceId: string }> = [];
  for (const body of bodies as Array<{ resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<{ name: string; traceId: string }> }> }> }>) {
    for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) for (const span of ss.spans ?? []) spans.push({ name: span.name, traceId: span.traceId });
  }
  return spans;
}
