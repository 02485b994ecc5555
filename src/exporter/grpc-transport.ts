import type * as Grpc from '@grpc/grpc-js';
import type { TlsFiles } from './exporter-env';
import type { ExportResponse, ProfileTransport } from './export-response';
import { decodeRpcStatus } from './rpc-status';
import { toError } from '../shared/errors';

/**
 * Status codes worth another attempt (OTLP/gRPC spec, "Failures"): CANCELLED, DEADLINE_EXCEEDED,
 * ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS. RESOURCE_EXHAUSTED only with a RetryInfo detail,
 * i.e. when the server says recovery is possible.
 */
const RETRYABLE_CODES: ReadonlySet<number> = new Set([1, 4, 10, 11, 14, 15]);
const RESOURCE_EXHAUSTED = 8;
// grpc-js's compressionAlgorithms values, here so that grpc-js loads only at the first send.
const GRPC_COMPRESSION = { none: 0, gzip: 2 } as const;
const STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** What {@link createGrpcTransport} needs; resolved options, nothing left to validate. */
export interface GrpcTransportOptions {
  /** `host:port` of the server. */
  readonly address: string;
  /** TLS (with `tls`'s certificates) or plaintext. */
  readonly secure: boolean;
  readonly tls: TlsFiles;
  /** The full method path, `/package.Service/Method`. */
  readonly methodPath: string;
  /** Sent as metadata with every call; names lower-case. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly compression: 'gzip' | 'none';
  /** Put before grpc-js's own user agent. */
  readonly userAgent: string;
}

/** A gRPC call that ended with a status other than OK; `code` is the gRPC status code. */
export class GrpcStatusError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`gRPC status ${STATUS_NAMES[code] ?? 'UNKNOWN'} (${code})${details ? `: ${details}` : ''}`);
    this.name = 'GrpcStatusError';
  }
}

/**
 * Sends each request as one unary OTLP/gRPC call through `@grpc/grpc-js`, with the bytes already
 * encoded (no proto-loader); statuses become an ExportResponse. grpc-js is loaded at the first send,
 * so gRPC instrumentation registered later still applies, and never for HTTP users.
 */
export function createGrpcTransport(options: GrpcTransportOptions): ProfileTransport {
  // Binary metadata takes bytes, and grpc-js throws at every call when given a string: say so now.
  // Names from the environment were already dropped with a warning (exporter-env.ts), so these are code's.
  const binary = Object.keys(options.metadata).find((key) => key.endsWith('-bin'));
  if (binary !== undefined) {
    throw new RangeError(
      `OTLPProfileExporter: option "headers['${binary}']" is binary gRPC metadata (a name ending in -bin), which takes bytes, not a string; remove it or rename it`,
    );
  }
  return new GrpcTransport(options);
}

class GrpcTransport implements ProfileTransport {
  private _grpc: typeof Grpc | undefined;
  private _client: Grpc.Client | undefined;

  constructor(private readonly _options: GrpcTransportOptions) {}

  send(bytes: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    let grpc: typeof Grpc;
    let client: Grpc.Client;
    try {
      ({ grpc, client } = this._connect());
    } catch (error) {
      // A bad certificate, or grpc-js missing: nothing a retry can fix.
      return Promise.resolve({ status: 'failure', error: toError(error) });
    }
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(this._options.metadata)) metadata.set(key, value);
    const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return new Promise<ExportResponse>((resolve) => {
      client.makeUnaryRequest<Buffer, Buffer>(
        this._options.methodPath,
        identity,
        identity,
        body,
        metadata,
        { deadline: Date.now() + timeoutMillis },
        (error, response) =>
          resolve(
            error ? toResponse(error) : { status: 'success', body: response ?? Buffer.alloc(0), contentType: 'application/x-protobuf' },
          ),
      );
    });
  }

  shutdown(): void {
    this._client?.close();
    this._client = undefined;
  }

  private _connect(): { grpc: typeof Grpc; client: Grpc.Client } {
    // Loaded at the first export, not at import: applications that never export over gRPC never load it.
    const grpc = (this._grpc ??= require('@grpc/grpc-js') as typeof Grpc);
    if (this._client === undefined) {
      const { secure, tls } = this._options;
      const credentials = secure
        ? grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null)
        : grpc.credentials.createInsecure();
      this._client = new grpc.Client(this._options.address, credentials, {
        'grpc.default_compression_algorithm': GRPC_COMPRESSION[this._options.compression],
        'grpc.primary_user_agent': this._options.userAgent,
      });
    }
    return { grpc, client: this._client };
  }
}

function toResponse(error: Grpc.ServiceError): ExportResponse {
  const code = typeof error.code === 'number' ? error.code : 2;
  const failure = new GrpcStatusError(code, error.details ?? error.message);
  const details = error.metadata?.get('grpc-status-details-bin')[0];
  const retryAfterMillis = Buffer.isBuffer(details) ? decodeRpcStatus(details)?.retryDelayMillis : undefined;
  if (RETRYABLE_CODES.has(code) || (code === RESOURCE_EXHAUSTED && retryAfterMillis !== undefined)) {
    return { status: 'retryable', error: failure, retryAfterMillis };
  }
  return { status: 'failure', error: failure };
}

function identity(value: Buffer): Buffer {
  return value;
}
