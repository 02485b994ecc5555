import type * as http from 'http';
import type * as https from 'https';
import { promisify } from 'util';
import * as zlib from 'zlib';
import { toError } from '../shared/errors';
import type { ExportResponse, ProfileTransport } from './export-response';

// zlib's async form runs on the libuv pool, so compressing a large batch does not stall the event loop.
const gzip = promisify(zlib.gzip);

/**
 * How much of a response body we keep. An OTLP response is a small status or partial_success
 * message; anything bigger is cut here rather than buffered.
 */
export const MAX_RESPONSE_BODY_BYTES = 64 * 1024;

// OTLP/HTTP spec, "Retryable Response Codes".
const RETRYABLE_STATUS_CODES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

// The same set the OpenTelemetry JS HTTP transport retries on.
const RETRYABLE_NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
]);

/** What {@link createHttpTransport} needs; resolved options, nothing left to validate. */
export interface HttpTransportOptions {
  /** Absolute http: or https: URL the requests are POSTed to. */
  readonly url: string;
  /** Sent with every request, `Content-Type` included. */
  readonly headers: Readonly<Record<string, string>>;
  readonly compression: 'gzip' | 'none';
  /** Options of the keep-alive agent (TLS ones apply to https: only). Default `{ keepAlive: true }`. */
  readonly agentOptions?: https.AgentOptions;
  /** Default {@link MAX_RESPONSE_BODY_BYTES}. */
  readonly maxResponseBodyBytes?: number;
}

/**
 * Parses a `Retry-After` header, delay-seconds or HTTP-date (RFC 9110 §10.2.3), into milliseconds
 * from `nowMillis`. Returns undefined when absent or unreadable; a date in the past gives 0.
 */
export function parseRetryAfterMillis(value: string | undefined, nowMillis: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Every HTTP-date form starts with a day name; without this, Date.parse would read '-1' or '1.5' as dates.
  if (!/^[A-Za-z]/.test(trimmed)) return undefined;
  const dateMillis = Date.parse(trimmed);
  if (Number.isNaN(dateMillis)) return undefined;
  return Math.max(0, dateMillis - nowMillis);
}

/** Sends bytes with one HTTP POST per call; statuses and network errors become an ExportResponse. */
export function createHttpTransport(options: HttpTransportOptions): ProfileTransport {
  return new HttpTransport(options);
}

interface HttpModules {
  readonly request: typeof http.request;
  readonly agent: http.Agent;
}

class HttpTransport implements ProfileTransport {
  private readonly _url: URL;
  private readonly _headers: Readonly<Record<string, string>>;
  private readonly _compression: 'gzip' | 'none';
  private readonly _maxResponseBodyBytes: number;
  private readonly _agentOptions: https.AgentOptions;
  private _modules: HttpModules | undefined;

  constructor(options: HttpTransportOptions) {
    this._url = new URL(options.url);
    this._headers = options.headers;
    this._compression = options.compression;
    this._maxResponseBodyBytes = options.maxResponseBodyBytes ?? MAX_RESPONSE_BODY_BYTES;
    this._agentOptions = options.agentOptions ?? { keepAlive: true };
  }

  async send(bytes: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    let body: Uint8Array;
    try {
      body = this._compression === 'gzip' ? await gzip(bytes) : bytes;
    } catch (error) {
      return { status: 'failure', error: toError(error) };
    }
    return this._post(body, timeoutMillis);
  }

  shutdown(): void {
    this._modules?.agent.destroy();
  }

  private _post(body: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    return new Promise<ExportResponse>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = (response: ExportResponse): void => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        resolve(response);
      };
      const headers: Record<string, string> = { ...this._headers, 'Content-Length': String(body.byteLength) };
      if (this._compression === 'gzip') headers['Content-Encoding'] = 'gzip';
      let req: http.ClientRequest;
      try {
        const { request, agent } = this._load();
        req = request(this._url, { method: 'POST', headers, agent }, (res) => this._read(res, settle));
      } catch (error) {
        // http.request throws synchronously on, e.g., a header value Node refuses.
        settle({ status: 'failure', error: toError(error) });
        return;
      }
      // A deadline for the whole exchange: req.setTimeout only measures socket idleness, so a
      // server that trickles bytes would hold the export forever.
      timer = setTimeout(() => {
        settle({ status: 'retryable', error: new Error(`request timed out after ${timeoutMillis} ms`) });
        req.destroy();
      }, timeoutMillis);
      // The socket keeps the process alive while the request is open; this timer need not.
      timer.unref();
      req.on('error', (error) => {
        const code = (error as NodeJS.ErrnoException).code;
        const retryable = code !== undefined && RETRYABLE_NETWORK_ERROR_CODES.has(code);
        settle(retryable ? { status: 'retryable', error } : { status: 'failure', error });
      });
      req.end(body);
    });
  }

  private _read(res: http.IncomingMessage, settle: (response: ExportResponse) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (): void => settle(toResponse(res, Buffer.concat(chunks)));
    res.on('data', (chunk: Buffer) => {
      const room = this._maxResponseBodyBytes - size;
      if (room <= 0) return;
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      size += Math.min(chunk.length, room);
      if (size >= this._maxResponseBodyBytes) {
        finish();
        res.destroy();
      }
    });
    res.on('end', finish);
    // The status line has arrived, so a body cut short still tells us what the server decided.
    res.on('error', finish);
  }

  private _load(): HttpModules {
    if (this._modules === undefined) {
      // Loaded at the first send, not at import, so instrumentation registered later can patch it.
      const secure = this._url.protocol === 'https:';
      const mod = (secure ? require('https') : require('http')) as typeof https;
      // Certificates mean nothing to plain http; as in OpenTelemetry JS, they are left out there.
      const { ca, cert, key, ...plain } = this._agentOptions;
      const agent = new mod.Agent(secure ? this._agentOptions : plain);
      this._modules = { request: mod.request as typeof http.request, agent };
    }
    return this._modules;
  }
}

function toResponse(res: http.IncomingMessage, body: Buffer): ExportResponse {
  const statusCode = res.statusCode ?? 0;
  const contentType = res.headers['content-type'] ?? '';
  if (statusCode >= 200 && statusCode < 300) {
    return { status: 'success', body, contentType };
  }
  const error = new HttpStatusError(statusCode, res.statusMessage ?? '', body, contentType);
  if (RETRYABLE_STATUS_CODES.has(statusCode)) {
    const retryAfterHeader = res.headers['retry-after'];
    return { status: 'retryable', error, retryAfterMillis: parseRetryAfterMillis(retryAfterHeader, Date.now()) };
  }
  return { status: 'failure', error, statusCode };
}

/** A non-2xx answer; keeps the (capped) body so the exporter can say why the server refused. */
export class HttpStatusError extends Error {
  constructor(
    readonly statusCode: number,
    readonly statusMessage: string,
    readonly body: Uint8Array,
    readonly contentType: string,
  ) {
    super(`HTTP ${statusCode}${statusMessage ? ` ${statusMessage}` : ''}`);
    this.name = 'HttpStatusError';
  }
}
