import { diag } from '@opentelemetry/api';
import { parseKeyPairsIntoRecord } from '../shared/otel-core';
import * as fs from 'fs';
import * as path from 'path';
import { inspect } from 'util';
import type { OTLPProfileCompression, OTLPProfileProtocol } from './otlp-protocol';
import { errorMessage } from '../shared/errors';
import { plural } from '../shared/wording';

/** An environment to read, normally `process.env`. */
export type Environment = Readonly<Record<string, string | undefined>>;
/** Reads a whole file; `fs.readFileSync` unless a test passes another. */
export type ReadFile = (filePath: string) => Buffer;

/** PEM contents named by the certificate variables; a field is absent when its variable is unset or unreadable. */
export interface TlsFiles {
  /** Trusted root certificates (`OTEL_EXPORTER_OTLP_[PROFILES_]CERTIFICATE`). */
  readonly ca?: Buffer;
  /** Client certificate chain for mTLS (`..._CLIENT_CERTIFICATE`). */
  readonly cert?: Buffer;
  /** Client private key for mTLS (`..._CLIENT_KEY`). */
  readonly key?: Buffer;
}

/** What the environment says, per option: undefined where it says nothing usable. */
export interface ExporterEnv {
  readonly url?: string;
  readonly headers: Record<string, string>;
  readonly compression?: OTLPProfileCompression;
  readonly timeoutMillis?: number;
  /** `OTEL_EXPORTER_OTLP_[PROFILES_]INSECURE=true`: plaintext gRPC for endpoints without a scheme. */
  readonly insecure: boolean;
  readonly tls: TlsFiles;
}

/** Options given in code, whose variables are then not read (nor warned about). */
export interface GivenInCode {
  readonly url: boolean;
  readonly compression: boolean;
  readonly timeoutMillis: boolean;
}

const logger = diag.createComponentLogger({ namespace: 'otel-span-profiler/exporter-options' });
const SIGNAL = 'OTEL_EXPORTER_OTLP_PROFILES_';
const GENERIC = 'OTEL_EXPORTER_OTLP_';
// RFC 9110 §5.6.2 token, and field values without control characters (what Node accepts).
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
export const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Logs a configuration problem found in the environment: a warning, never an exception. */
export function warnConfiguration(message: string): void {
  logger.warn(message);
}

/** The protocol the environment asks for, signal-specific first; warns about a bad value. */
export function readProtocolFromEnv(env: Environment): OTLPProfileProtocol | undefined {
  return pick("'http/protobuf', 'http/json' or 'grpc'", env, 'PROTOCOL', parseProtocol, 'http/protobuf', parseProtocol);
}

/**
 * Reads the `OTEL_EXPORTER_OTLP_[PROFILES_]*` variables for `protocol`. Each bad value gets one
 * `diag.warn` naming the variable, the expected form, the value and what is used instead.
 */
export function readExporterEnv(
  env: Environment,
  protocol: OTLPProfileProtocol,
  defaults: { readonly url: string; readonly compression: OTLPProfileCompression; readonly timeoutMillis: number },
  given: GivenInCode,
  readFile: ReadFile = fs.readFileSync,
): ExporterEnv {
  const grpc = protocol === 'grpc';
  // gRPC takes both endpoints as they are; OTLP/HTTP appends the signal path to the generic one.
  const url = given.url
    ? undefined
    : pick(
        grpc ? 'an http: or https: URL, or host:port' : 'an absolute http: or https: URL',
        env,
        'ENDPOINT',
        grpc ? parseGrpcEndpoint : parseHttpUrl,
        defaults.url,
        grpc ? parseGrpcEndpoint : appendResourcePath,
      );
  const compression = given.compression
    ? undefined
    : pick("'gzip' or 'none'", env, 'COMPRESSION', parseCompression, defaults.compression, parseCompression);
  const timeoutMillis = given.timeoutMillis
    ? undefined
    : pick('a number greater than 0', env, 'TIMEOUT', parsePositiveNumber, defaults.timeoutMillis, parsePositiveNumber);
  return {
    url,
    compression,
    timeoutMillis,
    headers: { ...headersFromEnv(env, `${GENERIC}HEADERS`, grpc), ...headersFromEnv(env, `${SIGNAL}HEADERS`, grpc) },
    insecure: grpc ? readInsecure(env) : false,
    tls: readTlsFiles(env, readFile),
  };
}

/**
 * Tries `OTEL_EXPORTER_OTLP_PROFILES_<suffix>`, then `OTEL_EXPORTER_OTLP_<suffix>`; warns about each
 * one that is set but unusable, naming the value finally used (the fallback's, or `defaultValue`).
 */
function pick<T>(
  expected: string,
  env: Environment,
  suffix: string,
  parseSignal: (raw: string) => T | undefined,
  defaultValue: T,
  parseGeneric: (raw: string) => T | undefined,
): T | undefined {
  const rejected: Array<[string, string]> = [];
  let chosen: T | undefined;
  for (const [name, parse] of [
    [`${SIGNAL}${suffix}`, parseSignal],
    [`${GENERIC}${suffix}`, parseGeneric],
  ] as const) {
    const raw = readEnv(env, name);
    if (raw === undefined) continue;
    chosen = parse(raw);
    if (chosen !== undefined) break;
    rejected.push([name, raw]);
  }
  for (const [name, raw] of rejected) {
    logger.warn(`Configuration: ${name} is invalid, expected ${expected} (actual: '${raw}'); using ${inspect(chosen ?? defaultValue)}`);
  }
  return chosen;
}

/** Like @opentelemetry/core's getStringFromEnv: unset, empty and blank all mean "not set". */
function readEnv(env: Environment, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw;
}

function readInsecure(env: Environment): boolean {
  for (const name of [`${SIGNAL}INSECURE`, `${GENERIC}INSECURE`]) {
    const raw = readEnv(env, name);
    if (raw === undefined) continue;
    const value = raw.trim().toLowerCase();
    if (value === 'true' || value === 'false') return value === 'true';
    logger.warn(`Configuration: ${name} is invalid, expected 'true' or 'false' (actual: '${raw}'); ignoring it`);
  }
  return false;
}

function readTlsFiles(env: Environment, readFile: ReadFile): TlsFiles {
  const read = (suffix: string): Buffer | undefined => {
    const name = readEnv(env, `${SIGNAL}${suffix}`) !== undefined ? `${SIGNAL}${suffix}` : `${GENERIC}${suffix}`;
    const file = readEnv(env, name);
    if (file === undefined) return undefined;
    let contents: Buffer;
    try {
      contents = readFile(path.resolve(file.trim()));
    } catch (error) {
      logger.warn(`Configuration: ${name} names a file that cannot be read (actual: '${file}': ${errorMessage(error)}); not using it`);
      return undefined;
    }
    // Checked here, where a warning can name the variable: TLS would only fail at the first connection.
    if (!contents.includes('-----BEGIN ')) {
      logger.warn(`Configuration: ${name} is invalid, expected a PEM file (actual: '${file}', no -----BEGIN line); not using it`);
      return undefined;
    }
    return contents;
  };
  const ca = read('CERTIFICATE');
  let cert = read('CLIENT_CERTIFICATE');
  let key = read('CLIENT_KEY');
  if ((cert === undefined) !== (key === undefined)) {
    // TLS refuses a certificate without its key and the other way round; connect without client auth.
    logger.warn(
      `Configuration: a client certificate needs both ${GENERIC}[PROFILES_]CLIENT_CERTIFICATE and ..._CLIENT_KEY, ` +
        `but only ${cert !== undefined ? 'the certificate' : 'the key'} was given; not using it`,
    );
    cert = undefined;
    key = undefined;
  }
  return { ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }) };
}

/** An absolute http: or https: URL, normalized; undefined otherwise. */
export function parseHttpUrl(raw: string): string | undefined {
  try {
    const url = new URL(raw.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** The generic endpoint is a base: the signal path goes after it, as for /v1/traces. */
function appendResourcePath(raw: string): string | undefined {
  if (parseHttpUrl(raw) === undefined) return undefined;
  const base = raw.trim();
  return parseHttpUrl(`${base.endsWith('/') ? base : `${base}/`}v1development/profiles`);
}

/** `http(s)://host[:port]` or a bare `host:port`, kept as written: the scheme decides TLS later. */
export function parseGrpcEndpoint(raw: string): string | undefined {
  const trimmed = raw.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return parseHttpUrl(trimmed) === undefined ? undefined : trimmed;
  try {
    const url = new URL(`https://${trimmed}`);
    return url.hostname !== '' && url.username === '' && url.password === '' ? trimmed : undefined;
  } catch {
    return undefined;
  }
}

function parseProtocol(raw: string): OTLPProfileProtocol | undefined {
  const value = raw.trim();
  return value === 'http/protobuf' || value === 'http/json' || value === 'grpc' ? value : undefined;
}

function parseCompression(raw: string): OTLPProfileCompression | undefined {
  const value = raw.trim();
  return value === 'gzip' || value === 'none' ? value : undefined;
}

function parsePositiveNumber(raw: string): number | undefined {
  const value = Number(raw.trim());
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

function headersFromEnv(env: Environment, name: string, grpc: boolean): Record<string, string> {
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
  if (grpc) {
    // gRPC carries a `-bin` metadata value as bytes; a text variable cannot give it, and grpc-js
    // would refuse it at every call. Names only: the values are often credentials.
    const binary = Object.keys(headers).filter((key) => key.endsWith('-bin'));
    for (const key of binary) delete headers[key];
    if (binary.length > 0) {
      logger.warn(
        `Configuration: ${name} has ${binary.join(', ')}, binary gRPC metadata (a name ending in -bin), ` +
          `which a variable cannot carry; ignoring ${binary.length === 1 ? 'it' : 'them'}`,
      );
    }
  }
  if (malformed > 0) {
    // Counts only: header values are often credentials.
    logger.warn(
      `Configuration: ${name} has ${plural(malformed, 'malformed entry', 'malformed entries')}, ` +
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
