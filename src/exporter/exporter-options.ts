import type * as http from 'http';
import type * as https from 'https';
import { inspect } from 'util';
import {
  HEADER_NAME,
  HEADER_VALUE,
  parseGrpcEndpoint,
  parseHttpUrl,
  readExporterEnv,
  readProtocolFromEnv,
  warnConfiguration,
  type Environment,
  type ReadFile,
  type TlsFiles,
} from './exporter-env';
import type { OTLPProfileCompression, OTLPProfileProtocol } from './otlp-protocol';

/**
 * Options of {@link OTLPProfileExporter}. Each one falls back to `OTEL_EXPORTER_OTLP_PROFILES_*`,
 * then `OTEL_EXPORTER_OTLP_*`, then the default, as the OpenTelemetry JS exporters do. A bad value
 * here throws from the constructor (TypeError or RangeError naming the option); a bad environment
 * value is reported once with `diag.warn` and ignored.
 */
export interface OTLPProfileExporterOptions {
  /**
   * Where the profiles go. HTTP: the full URL, used as is. Default
   * `OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT` as is, else `OTEL_EXPORTER_OTLP_ENDPOINT` +
   * `/v1development/profiles`, else `http://localhost:4318/v1development/profiles`.
   * gRPC: `http://host:port` (plaintext), `https://host:port` (TLS) or `host:port` (TLS unless
   * `OTEL_EXPORTER_OTLP_[PROFILES_]INSECURE=true`); a path is ignored with a warning. Default
   * either endpoint variable as is, else `http://localhost:4317`.
   */
  url?: string;
  /**
   * Default `OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else
   * `'http/protobuf'`.
   */
  protocol?: OTLPProfileProtocol;
  /**
   * Extra request headers (gRPC: metadata), merged over `OTEL_EXPORTER_OTLP_HEADERS` and then
   * `OTEL_EXPORTER_OTLP_PROFILES_HEADERS` (`k=v,k2=v2`, URL-decoded). Default none.
   */
  headers?: Record<string, string>;
  /** Default `OTEL_EXPORTER_OTLP_PROFILES_COMPRESSION`, else `OTEL_EXPORTER_OTLP_COMPRESSION`, else `'none'`. */
  compression?: OTLPProfileCompression;
  /**
   * Time allowed for one export, retries and waits between them included, in milliseconds.
   * Default `OTEL_EXPORTER_OTLP_PROFILES_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT`, else 10000.
   */
  timeoutMillis?: number;
  /**
   * Options of the `http.Agent` / `https.Agent` the HTTP protocols send through (`keepAlive`,
   * `maxSockets`, TLS: `ca`, `cert`, `key`, `rejectUnauthorized`...). Spread over the defaults:
   * `{ keepAlive: true }` and the PEM files named by `OTEL_EXPORTER_OTLP_[PROFILES_]CERTIFICATE`,
   * `..._CLIENT_CERTIFICATE` and `..._CLIENT_KEY`. Not used by gRPC.
   */
  httpAgentOptions?: http.AgentOptions | https.AgentOptions;
}

/** Where and how a gRPC channel connects, derived from the endpoint. */
export interface GrpcTarget {
  /** `host:port` (or `host`: gRPC's default port 443) for the channel. */
  readonly address: string;
  /** false: a plaintext (insecure) channel. */
  readonly secure: boolean;
}

/** Options after resolution: every field valid and present. */
export interface ResolvedExporterOptions {
  /** HTTP: the URL POSTed to. gRPC: the endpoint as configured. */
  readonly url: string;
  readonly protocol: OTLPProfileProtocol;
  /** Header names lower-cased, so sources merge case-insensitively. */
  readonly headers: Readonly<Record<string, string>>;
  readonly compression: OTLPProfileCompression;
  readonly timeoutMillis: number;
  /** PEM contents read from the certificate variables. */
  readonly tls: TlsFiles;
  /** HTTP agent options: defaults, then `tls`, then the code option. */
  readonly httpAgentOptions: http.AgentOptions | https.AgentOptions;
  /** Present when `protocol` is `'grpc'`. */
  readonly grpc?: GrpcTarget;
}

export const DEFAULT_OTLP_HTTP_ENDPOINT = 'http://localhost:4318';
export const DEFAULT_OTLP_GRPC_ENDPOINT = 'http://localhost:4317';
export const PROFILES_RESOURCE_PATH = 'v1development/profiles';
export const DEFAULT_EXPORT_TIMEOUT_MILLIS = 10000;
/** The gRPC method OTLP profiles are exported with. */
export const GRPC_EXPORT_PATH = '/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export';

const PROTOCOLS: readonly OTLPProfileProtocol[] = ['http/protobuf', 'http/json', 'grpc'];
const COMPRESSIONS: readonly OTLPProfileCompression[] = ['gzip', 'none'];

/**
 * Resolves the exporter's options: code value, else the signal-specific env variable, else the
 * generic one, else the default. A bad code value throws (TypeError or RangeError naming the
 * option, what was expected and the value); bad env values are warned about once and ignored.
 * Reads only its arguments, and the certificate files the environment names (through `readFile`).
 */
export function resolveExporterOptions(
  options: OTLPProfileExporterOptions | undefined,
  env: Environment,
  readFile?: ReadFile,
): ResolvedExporterOptions {
  const code = checkCodeOptions(options ?? {});
  const protocol = code.protocol ?? readProtocolFromEnv(env) ?? 'http/protobuf';
  const grpc = protocol === 'grpc';
  const defaultUrl = grpc ? DEFAULT_OTLP_GRPC_ENDPOINT : `${DEFAULT_OTLP_HTTP_ENDPOINT}/${PROFILES_RESOURCE_PATH}`;
  let codeUrl = code.url;
  if (codeUrl !== undefined && !grpc && parseHttpUrl(codeUrl) === undefined) {
    // A bare host:port passed the code check because env could still have chosen gRPC; it did not.
    warnConfiguration(
      `Configuration: url ${inspect(codeUrl)} needs a scheme for ${protocol} (chosen by the environment); using ${inspect(defaultUrl)}`,
    );
    codeUrl = defaultUrl;
  }
  const fromEnv = readExporterEnv(
    env,
    protocol,
    { url: defaultUrl, compression: 'none', timeoutMillis: DEFAULT_EXPORT_TIMEOUT_MILLIS },
    { url: codeUrl !== undefined, compression: code.compression !== undefined, timeoutMillis: code.timeoutMillis !== undefined },
    readFile,
  );
  const url = codeUrl ?? fromEnv.url ?? defaultUrl;
  return {
    url: grpc ? url : parseHttpUrl(url)!,
    protocol,
    // Headers merge rather than override: generic < signal-specific < code, as in OpenTelemetry JS.
    headers: { ...fromEnv.headers, ...code.headers },
    compression: code.compression ?? fromEnv.compression ?? 'none',
    timeoutMillis: code.timeoutMillis ?? fromEnv.timeoutMillis ?? DEFAULT_EXPORT_TIMEOUT_MILLIS,
    tls: fromEnv.tls,
    httpAgentOptions: { keepAlive: true, ...fromEnv.tls, ...code.httpAgentOptions },
    ...(grpc ? { grpc: grpcTarget(url, fromEnv.insecure) } : {}),
  };
}

/** The gRPC channel for an endpoint; the scheme decides plaintext or TLS, as in OpenTelemetry JS. */
function grpcTarget(endpoint: string, insecure: boolean): GrpcTarget {
  const trimmed = endpoint.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed)?.[1]?.toLowerCase();
  const parsed = new URL(scheme === undefined ? `https://${trimmed}` : trimmed);
  if (parsed.pathname !== '' && parsed.pathname !== '/') {
    warnConfiguration(
      `Configuration: the gRPC endpoint ${inspect(endpoint)} has a path, which gRPC does not use; ignoring '${parsed.pathname}'`,
    );
  }
  // http:// is plaintext and https:// is TLS whatever INSECURE says; without a scheme, INSECURE decides.
  const secure = scheme === 'https' || (scheme === undefined && !insecure);
  return { address: parsed.host, secure };
}

interface CodeOptions {
  readonly url?: string;
  readonly protocol?: OTLPProfileProtocol;
  readonly headers: Record<string, string>;
  readonly compression?: OTLPProfileCompression;
  readonly timeoutMillis?: number;
  readonly httpAgentOptions?: http.AgentOptions | https.AgentOptions;
}

function checkCodeOptions(options: OTLPProfileExporterOptions): CodeOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`OTLPProfileExporter: expected an options object or nothing, got ${describe(options)}`);
  }
  const { url, protocol, headers, compression, timeoutMillis, httpAgentOptions } = options;
  if (protocol !== undefined && !PROTOCOLS.includes(protocol)) {
    throw new RangeError(
      `OTLPProfileExporter: option "protocol" must be 'http/protobuf', 'http/json' or 'grpc', got ${describe(protocol)}`,
    );
  }
  if (url !== undefined) {
    if (typeof url !== 'string') throw new TypeError(`OTLPProfileExporter: option "url" must be a string, got ${describe(url)}`);
    // Without a protocol in code, env may still pick gRPC, so a bare host:port passes here.
    const http = protocol === 'http/protobuf' || protocol === 'http/json';
    if (http ? parseHttpUrl(url) === undefined : parseGrpcEndpoint(url) === undefined) {
      const expected = http ? 'an absolute http: or https: URL' : 'an http: or https: URL (or host:port for gRPC)';
      throw new RangeError(`OTLPProfileExporter: option "url" must be ${expected}, got ${describe(url)}`);
    }
  }
  if (compression !== undefined && !COMPRESSIONS.includes(compression)) {
    throw new RangeError(`OTLPProfileExporter: option "compression" must be 'gzip' or 'none', got ${describe(compression)}`);
  }
  if (timeoutMillis !== undefined && !(typeof timeoutMillis === 'number' && Number.isFinite(timeoutMillis) && timeoutMillis > 0)) {
    throw new RangeError(`OTLPProfileExporter: option "timeoutMillis" must be a number greater than 0, got ${describe(timeoutMillis)}`);
  }
  if (
    httpAgentOptions !== undefined &&
    (typeof httpAgentOptions !== 'object' || httpAgentOptions === null || Array.isArray(httpAgentOptions))
  ) {
    throw new TypeError(
      `OTLPProfileExporter: option "httpAgentOptions" must be an object of http.Agent options, got ${describe(httpAgentOptions)}`,
    );
  }
  return { url, protocol, headers: checkCodeHeaders(headers), compression, timeoutMillis, httpAgentOptions };
}

function checkCodeHeaders(raw: unknown): Record<string, string> {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new TypeError(`OTLPProfileExporter: option "headers" must be an object of header names to strings, got ${describe(raw)}`);
  }
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!HEADER_NAME.test(key)) {
      throw new RangeError(
        `OTLPProfileExporter: option "headers" has an invalid header name, expected an HTTP token, got ${describe(key)}`,
      );
    }
    if (typeof value !== 'string' || !HEADER_VALUE.test(value)) {
      // The value is not shown: it may be a credential.
      throw new TypeError(
        `OTLPProfileExporter: option "headers['${key}']" must be a string without control characters, got ${typeof value === 'string' ? 'a string with control characters' : typeof value}`,
      );
    }
    headers[key.toLowerCase()] = value;
  }
  return headers;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : inspect(value, { depth: 0, breakLength: Infinity });
}
