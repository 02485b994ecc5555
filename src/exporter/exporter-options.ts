import { diag } from '@opentelemetry/api';
import { parseKeyPairsIntoRecord } from '@opentelemetry/core';
import { inspect } from 'util';

/** OTLP/HTTP with a binary protobuf body, or with an OTLP JSON body. */
export type OTLPProfileProtocol = 'http/protobuf' | 'http/json';
export type OTLPProfileCompression = 'gzip' | 'none';

/**
 * Options of {@link OTLPProfileExporter}. Each one falls back to `OTEL_EXPORTER_OTLP_PROFILES_*`,
 * then `OTEL_EXPORTER_OTLP_*`, then the default, as the OpenTelemetry JS trace exporters do.
 * A bad value is reported through `diag` and ignored; the constructor never throws.
 */
export interface OTLPProfileExporterOptions {
  /**
   * Full URL the profiles are POSTed to, used as is. Default: `OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT`
   * as is, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1development/profiles`, else
   * `http://localhost:4318/v1development/profiles`.
   */
  url?: string;
  /**
   * Body encoding. Default: `OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`,
   * else `'http/protobuf'` (`grpc` is not supported: warned about and ignored).
   */
  protocol?: OTLPProfileProtocol;
  /**
   * Extra request headers, merged over `OTEL_EXPORTER_OTLP_HEADERS` and then
   * `OTEL_EXPORTER_OTLP_PROFILES_HEADERS` (`k=v,k2=v2`, URL-decoded). Default none.
   */
  headers?: Record<string, string>;
  /** Default: `OTEL_EXPORTER_OTLP_PROFILES_COMPRESSION`, else `OTEL_EXPORTER_OTLP_COMPRESSION`, else `'none'`. */
  compression?: OTLPProfileCompression;
  /**
   * Time allowed for one export, retries and waits between them included. Default:
   * `OTEL_EXPORTER_OTLP_PROFILES_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT`, else 10000.
   */
  timeoutMillis?: number;
}

/** Options after resolution: every field valid and present. */
export interface ResolvedExporterOptions {
  readonly url: string;
  readonly protocol: OTLPProfileProtocol;
  /** Header names lower-cased, so sources merge case-insensitively. */
  readonly headers: Readonly<Record<string, string>>;
  readonly compression: OTLPProfileCompression;
  readonly timeoutMillis: number;
}

/** An environment to read, normally `process.env`. */
export type Environment = Readonly<Record<string, string | undefined>>;

export const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318';
export const PROFILES_RESOURCE_PATH = 'v1development/profiles';
export const DEFAULT_EXPORT_TIMEOUT_MILLIS = 10000;

const logger = diag.createComponentLogger({ namespace: 'otel-span-profiler/exporter-options' });
const SIGNAL = 'OTEL_EXPORTER_OTLP_PROFILES_';
const GENERIC = 'OTEL_EXPORTER_OTLP_';
const URL_EXPECTED = 'an absolute http: or https: URL';
// RFC 9110 §5.6.2 token, and field values without control characters (what Node accepts).
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

interface Candidate<T> {
  /** The option name or env variable, as the message shows it. */
  readonly source: string;
  readonly fromCode: boolean;
  readonly raw: unknown;
  readonly parse: (raw: unknown) => T | undefined;
}

/**
 * Resolves the exporter's options: code value, else the signal-specific env variable, else the
 * generic one, else the default. Reads nothing but its arguments. An invalid code value is logged with
 * `diag.error` and an invalid env value with `diag.warn`, each once, naming the value used instead.
 */
export function resolveExporterOptions(options: OTLPProfileExporterOptions, env: Environment): ResolvedExporterOptions {
  const url = pick(
    URL_EXPECTED,
    [
      codeCandidate('url', options.url, parseUrl),
      envCandidate(env, `${SIGNAL}ENDPOINT`, parseUrl),
      envCandidate(env, `${GENERIC}ENDPOINT`, raw => appendResourcePath(raw)),
    ],
    `${DEFAULT_OTLP_ENDPOINT}/${PROFILES_RESOURCE_PATH}`,
  );
  const protocol = pick<OTLPProfileProtocol>(
    "'http/protobuf' or 'http/json'",
    [
      codeCandidate('protocol', options.protocol, parseProtocol),
      envCandidate(env, `${SIGNAL}PROTOCOL`, parseProtocol),
      envCandidate(env, `${GENERIC}PROTOCOL`, parseProtocol),
    ],
    'http/protobuf',
  );
  const compression = pick<OTLPProfileCompression>(
    "'gzip' or 'none'",
    [
      codeCandidate('compression', options.compression, parseCompression),
      envCandidate(env, `${SIGNAL}COMPRESSION`, parseCompression),
      envCandidate(env, `${GENERIC}COMPRESSION`, parseCompression),
    ],
    'none',
  );
  const timeoutMillis = pick(
    'a number greater than 0',
    [
      codeCandidate('timeoutMillis', options.timeoutMillis, parsePositiveNumber),
      envCandidate(env, `${SIGNAL}TIMEOUT`, parsePositiveNumber),
      envCandidate(env, `${GENERIC}TIMEOUT`, parsePositiveNumber),
    ],
    DEFAULT_EXPORT_TIMEOUT_MILLIS,
  );
  // Headers merge rather than override: generic < signal-specific < code, as in OpenTelemetry JS.
  const headers = {
    ...headersFromEnv(env, `${GENERIC}HEADERS`),
    ...headersFromEnv(env, `${SIGNAL}HEADERS`),
    ...headersFromCode(options.headers),
  };
  return { url, protocol, headers, compression, timeoutMillis };
}

function pick<T>(expected: string, candidates: ReadonlyArray<Candidate<T> | undefined>, defaultValue: T): T {
  const rejected: Array<Candidate<T>> = [];
  let chosen = defaultValue;
  for (const candidate of candidates) {
    if (candidate === undefined) continue;
    const value = candidate.parse(candidate.raw);
    if (value !== undefined) {
      chosen = value;
      break;
    }
    rejected.push(candidate);
  }
  for (const { source, fromCode, raw } of rejected) {
    const message = `Configuration: ${source} is invalid, expected ${expected} (actual: ${describe(raw, fromCode)}); using ${inspect(chosen)}`;
    if (fromCode) logger.error(message);
    else logger.warn(message);
  }
  return chosen;
}

function codeCandidate<T>(name: string, raw: unknown, parse: (raw: unknown) => T | undefined): Candidate<T> | undefined {
  return raw === undefined ? undefined : { source: name, fromCode: true, raw, parse };
}

function envCandidate<T>(env: Environment, name: string, parse: (raw: string) => T | undefined): Candidate<T> | undefined {
  const raw = readEnv(env, name);
  return raw === undefined ? undefined : { source: name, fromCode: false, raw, parse: r => parse(r as string) };
}

/** Like @opentelemetry/core's getStringFromEnv: unset, empty and blank all mean "not set". */
function readEnv(env: Environment, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw;
}

function describe(raw: unknown, fromCode: boolean): string {
  return fromCode ? inspect(raw) : `'${String(raw)}'`;
}

function parseUrl(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    const url = new URL(raw.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** The generic endpoint is a base: the signal path goes after it, as for /v1/traces. */
function appendResourcePath(raw: string): string | undefined {
  if (parseUrl(raw) === undefined) return undefined;
  const base = raw.trim();
  return parseUrl(`${base.endsWith('/') ? base : `${base}/`}${PROFILES_RESOURCE_PATH}`);
}

function parseProtocol(raw: unknown): OTLPProfileProtocol | undefined {
  const value = typeof raw === 'string' ? raw.trim() : raw;
  return value === 'http/protobuf' || value === 'http/json' ? value : undefined;
}

function parseCompression(raw: unknown): OTLPProfileCompression | undefined {
  const value = typeof raw === 'string' ? raw.trim() : raw;
  return value === 'gzip' || value === 'none' ? value : undefined;
}

function parsePositiveNumber(raw: unknown): number | undefined {
  const value = typeof raw === 'string' ? Number(raw.trim()) : raw;
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

function headersFromEnv(env: Environment, name: string): Record<string, string> {
  const raw = readEnv(env, name);
  if (raw === undefined) return {};
  let malformed = 0;
  for (const entry of raw.split(',')) {
    if (entry.trim() !== '' && !isWellFormedPair(entry)) malformed++;
  }
  const headers: Record<string, string> = {};
  // The same parser the OpenTelemetry JS exporters use, so values decode identically.
  for (const [key, value] of Object.entries(parseKeyPairsIntoRecord(raw))) {
    if (HEADER_NAME.test(key) && HEADER_VALUE.test(value)) headers[key.toLowerCase()] = value;
    else malformed++;
  }
  if (malformed > 0) {
    // Counts only: header values are often credentials.
    logger.warn(
      `Configuration: ${name} has ${malformed} malformed ${malformed === 1 ? 'entry' : 'entries'}, ` +
        `expected comma-separated key=value pairs with URL-encoded values; ignoring ${malformed === 1 ? 'it' : 'them'}`,
    );
  }
  return headers;
}

function isWellFormedPair(entry: string): boolean {
  const pair = entry.split(';')[0];
  const separator = pair.indexOf('=');
  if (separator <= 0) return false;
  const key = pair.slice(0, separator).trim();
  const value = pair.slice(separator + 1).trim();
  if (key === '' || value === '') return false;
  try {
    decodeURIComponent(key);
    decodeURIComponent(value);
    return true;
  } catch {
    return false;
  }
}

function headersFromCode(raw: unknown): Record<string, string> {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    logger.error(`Configuration: headers is invalid, expected an object of header names to strings (actual: ${inspect(raw)}); ignoring it`);
    return {};
  }
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!HEADER_NAME.test(key)) {
      logger.error(`Configuration: headers has an invalid header name, expected an HTTP token (actual: ${inspect(key)}); ignoring it`);
    } else if (typeof value !== 'string' || !HEADER_VALUE.test(value)) {
      // The value is not shown: it may be a credential.
      logger.error(`Configuration: headers['${key}'] is invalid, expected a string without control characters; ignoring it`);
    } else {
      headers[key.toLowerCase()] = value;
    }
  }
  return headers;
}
