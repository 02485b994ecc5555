/*
 * The viewer's HTTP servers: the web UI and its JSON/text API on one port (read-only), and
 * optionally the OTLP endpoint on another. Both bind 127.0.0.1 unless a host is named, and both
 * refuse requests a web page could have sent through DNS rebinding (host-check.ts).
 */
import { errorMessage } from '../shared/errors';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { toFolded } from '../convert/to-folded';
import { flameTree } from './flame-tree';
import { HostCheck } from './host-check';
import { handleOtlp, PROFILES_PATH, TRACES_PATH } from './otlp-receiver';
import type { TraceStore } from './trace-store';

/** Options of {@link startViewer}. */
export interface ViewerOptions {
  readonly store: TraceStore;
  /** UI port; 0 picks a free one. Default 0. */
  readonly port?: number;
  /** OTLP/HTTP port; unset = no OTLP endpoint, 0 = a free one. */
  readonly otlpPort?: number;
  /** Interface both servers bind. Default '127.0.0.1'. */
  readonly host?: string;
  /** Folder received OTLP requests are appended to; nothing is written when unset. */
  readonly outputDir?: string;
  readonly onError?: (message: string) => void;
  /** Folder of the page's files (index.html, app.js, app.css). Default: the package's web/. */
  readonly webDir?: string;
}

/** Running servers; `close()` stops both. */
export interface RunningViewer {
  readonly url: string;
  readonly otlpUrl: string | undefined;
  close(): Promise<void>;
}

const HEX_TRACE = /^[0-9a-f]{32}$/i;
const HEX_SPAN = /^[0-9a-f]{16}$/i;
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};

export async function startViewer(options: ViewerOptions): Promise<RunningViewer> {
  const host = options.host ?? '127.0.0.1';
  const webDir = options.webDir ?? findWebDir();
  const hosts = new HostCheck(host);
  const vendor: Record<string, string> = {
    '/vendor/d3-flamegraph.min.js': require.resolve('d3-flame-graph/dist/d3-flamegraph.min.js'),
    '/vendor/d3-flamegraph.css': require.resolve('d3-flame-graph/dist/d3-flamegraph.css'),
    // d3-selection's `exports` hide dist/; its main entry sits beside the UMD build.
    '/vendor/d3-selection.min.js': join(dirname(require.resolve('d3-selection')), 'd3-selection.min.js'),
  };
  const receiver = { store: options.store, outputDir: options.outputDir, onError: options.onError };
  const ui = createServer((req, res) => {
    try {
      if (!hosts.allowsHost(req.headers.host)) return refuseHost(res, req.headers.host);
      handleUi(req, res, options.store, webDir, vendor);
    } catch (err) {
      send(res, 500, 'text/plain', `internal error: ${errorMessage(err)}\n`);
    }
  });
  const servers: Server[] = [ui];
  await listen(ui, options.port ?? 0, host);
  let otlpUrl: string | undefined;
  if (options.otlpPort !== undefined) {
    const otlp = createServer((req, res) => {
      // OTLP senders set no Origin; a browser does on every POST, so only pages are checked here.
      if (!hosts.allowsOrigin(req.headers.origin)) return refuseHost(res, req.headers.origin);
      if (!handleOtlp(req, res, receiver)) send(res, 404, 'text/plain', 'OTLP paths: POST /v1/traces, POST /v1development/profiles\n');
    });
    servers.push(otlp);
    try {
      await listen(otlp, options.otlpPort, host);
    } catch (err) {
      ui.close();
      throw err;
    }
    otlpUrl = `http://${urlHost(host)}:${(otlp.address() as AddressInfo).port}`;
  }
  return {
    url: `http://${urlHost(host)}:${(ui.address() as AddressInfo).port}`,
    otlpUrl,
    close: () =>
      Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      ).then(() => undefined),
  };
}

function handleUi(req: IncomingMessage, res: ServerResponse, store: TraceStore, webDir: string, vendor: Record<string, string>): void {
  const url = new URL(req.url ?? '/', 'http://viewer');
  const path = url.pathname;
  if (path === TRACES_PATH || path === PROFILES_PATH) {
    return send(
      res,
      405,
      'text/plain',
      "this is the viewer's web UI port, which takes no OTLP: start view with --otlp-port N and send OTLP to that port\n",
    );
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'GET only\n');
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'api') return handleApi(parts.slice(1), url.searchParams, res, store);
  // Pages: the app reads the path and fetches what it needs.
  if (path === '/' || path === '/process' || (parts.length === 2 && (parts[0] === 'trace' || parts[0] === 'span' || parts[0] === 'name'))) {
    return sendFile(res, join(webDir, 'index.html'));
  }
  if (vendor[path] !== undefined) return sendFile(res, vendor[path]);
  if (path === '/favicon.ico') return send(res, 204, 'text/plain', '');
  if (parts[0] === 'static' && parts.length === 2) {
    const file = normalize(join(webDir, parts[1]));
    if (file.startsWith(webDir + sep) && isFile(file)) return sendFile(res, file);
  }
  send(res, 404, 'text/plain', 'not found\n');
}

function handleApi(parts: string[], query: URLSearchParams, res: ServerResponse, store: TraceStore): void {
  const valueKind = query.get('value') === 'samples' ? 'samples' : 'cpu-nanos';
  if (parts.length === 1 && parts[0] === 'traces') {
    const roots = store.roots();
    return sendJson(res, { cpuMeasured: store.cpuMeasured, roots, aggregates: aggregate(roots), stats: store.stats });
  }
  if (parts.length === 2 && parts[0] === 'traces') {
    if (!HEX_TRACE.test(parts[1])) return send(res, 400, 'text/plain', 'a trace id is 32 hex characters\n');
    const trace = store.trace(parts[1]);
    if (trace === undefined) return send(res, 404, 'text/plain', `trace ${parts[1]} is not in the viewer\n`);
    return sendJson(res, { ...trace, cpuMeasured: store.cpuMeasured, roots: store.roots().filter((r) => r.traceId === trace.traceId) });
  }
  if (parts[0] === 'spans' && parts.length >= 2) {
    if (!HEX_SPAN.test(parts[1])) return send(res, 400, 'text/plain', 'a span id is 16 hex characters\n');
    const selfOnly = query.get('self') === '1';
    const samples = store.spanSamples(parts[1], selfOnly);
    if (samples === undefined) return send(res, 404, 'text/plain', `span ${parts[1]} is not in the viewer\n`);
    if (parts.length === 2) return sendJson(res, { spanId: parts[1].toLowerCase(), traceId: store.traceOfSpan(parts[1]) });
    if (parts.length === 3 && parts[2] === 'folded')
      return send(res, 200, 'text/plain; charset=utf-8', toFolded(store.frames, samples, valueKind));
    if (parts.length === 3 && parts[2] === 'flame') return sendJson(res, flameTree(store.frames, samples));
  }
  if (parts.length === 1 && parts[0] === 'process') {
    return sendJson(res, {
      ...store.processView({ service: query.get('service') ?? '' }),
      cpuMeasured: store.cpuMeasured,
      stats: store.stats,
    });
  }
  if (parts.length === 2 && parts[0] === 'names') {
    let name: string;
    try {
      name = decodeURIComponent(parts[1]);
    } catch {
      return send(res, 400, 'text/plain', 'a root span name is percent-encoded UTF-8 (encodeURIComponent)\n');
    }
    return sendJson(res, flameTree(store.frames, store.samplesByRootName(name), name));
  }
  send(res, 404, 'text/plain', 'unknown API path\n');
}

function aggregate(roots: ReturnType<TraceStore['roots']>): object[] {
  const byName = new Map<string, { name: string; service: string; count: number; cpuNanos: number; durations: number[]; cpus: number[] }>();
  for (const root of roots) {
    const key = `${root.service}\0${root.name}`;
    const acc = byName.get(key) ?? { name: root.name, service: root.service, count: 0, cpuNanos: 0, durations: [], cpus: [] };
    acc.count++;
    acc.cpuNanos += root.cpuNanos;
    acc.durations.push(root.durationNanos);
    acc.cpus.push(root.cpuNanos);
    byName.set(key, acc);
  }
  return [...byName.values()]
    .map((acc) => ({
      name: acc.name,
      service: acc.service,
      count: acc.count,
      cpuNanos: acc.cpuNanos,
      meanCpuNanos: acc.cpuNanos / acc.count,
      p50DurationNanos: median(acc.durations),
    }))
    .sort((a, b) => b.cpuNanos - a.cpuNanos);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)];
}

function sendJson(res: ServerResponse, value: unknown): void {
  send(res, 200, 'application/json', JSON.stringify(value));
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

function sendFile(res: ServerResponse, file: string): void {
  const stream = createReadStream(file);
  stream.once('open', () => {
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    stream.pipe(res);
  });
  // Without a listener a read error (a file gone or unreadable) would end the viewer's process.
  stream.once('error', (err) => {
    if (res.headersSent) res.destroy(err);
    else
      send(res, 500, 'text/plain', `cannot read ${extname(file) || 'the'} file: ${(err as NodeJS.ErrnoException).code ?? err.message}\n`);
  });
  res.once('close', () => stream.destroy());
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function refuseHost(res: ServerResponse, what: string | undefined): void {
  send(
    res,
    403,
    'text/plain',
    `refused: this viewer answers requests for localhost, an IP address or the --host it binds, not '${what ?? ''}' (DNS rebinding protection)\n`,
  );
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

// web/ sits at the package root; this file runs from dist/viewer/ or build/src/viewer/.
function findWebDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'web');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`otel-span-profiler: cannot find web/index.html above ${__dirname}`);
}
