/*
 * Reads OTLP data from files in the shapes users have: OTLP JSON lines (FileProfileExporter, the
 * Collector `file` exporter with `format: json`), the Collector `file` exporter's protobuf output
 * (each message after a 4-byte big-endian length; with `compression: zstd` each message is a zstd
 * frame, JSON or protobuf inside), a raw export request body (JSON or protobuf), any of them gzipped
 * or zstd-compressed. Each request is sorted into profiles or traces by its content.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { decodeProfilesRequest, decodeTracesRequest } from './otlp-protobuf';
import { asRecord } from './otlp-values';
import { errorMessage } from '../shared/errors';

/** OTLP requests read from one or more inputs, in input order. */
export interface OtlpRequests {
  readonly profiles: OtlpRequest[];
  readonly traces: OtlpRequest[];
}

/** One request and where it was read (`file:line` or `file: message N`), for error messages. */
export interface OtlpRequest {
  readonly where: string;
  readonly request: unknown;
}

/** A problem with an input file: `where` names the file and the line or record. */
export class InputError extends Error {
  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
    super(`${where}: ${problem}`);
  }
}

const DIRECTORY_EXTENSIONS = /\.(jsonl|json|pb|binpb|proto|otlp|gz)$/i;

/** Lists the files a path names: itself, or the OTLP-looking files of a directory (sorted). */
export function expandInputPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch (err) {
      throw new InputError(path, `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    if (!isDirectory) {
      out.push(path);
      continue;
    }
    const files = readdirSync(path)
      .filter((name) => DIRECTORY_EXTENSIONS.test(name))
      .sort();
    if (files.length === 0) throw new InputError(path, 'the folder has no .jsonl, .json, .pb or .gz files');
    for (const name of files) out.push(join(path, name));
  }
  return out;
}

/** Reads every file (directories expanded); throws InputError naming the file and line. */
export function readOtlpFiles(paths: readonly string[], into: OtlpRequests = { profiles: [], traces: [] }): OtlpRequests {
  for (const path of expandInputPaths(paths)) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new InputError(path, `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    readOtlpBytes(bytes, path, into);
  }
  return into;
}

/** Reads one input's bytes (see the module comment for the shapes); `name` is used in errors. */
export function readOtlpBytes(bytes: Uint8Array, name: string, into: OtlpRequests = { profiles: [], traces: [] }): OtlpRequests {
  let data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) {
    try {
      data = zlib.gunzipSync(data);
    } catch (err) {
      throw new InputError(name, `looks gzipped but does not decompress: ${errorMessage(err)}`);
    }
  }
  if (isZstd(data)) data = unzstd(data, name);
  if (data.length === 0 || data.every((byte) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09)) {
    throw new InputError(name, 'the file is empty');
  }
  if (looksLikeText(data)) readJson(data.toString('utf8'), name, into);
  else readProtobuf(data, name, into);
  return into;
}

// JSON never holds raw control bytes other than tab, newline and carriage return; protobuf's
// field tags and lengths put some in its first bytes (a request starts 0x0a or 0x12, a framed file 0x00).
function looksLikeText(data: Buffer): boolean {
  const end = Math.min(data.length, 4096);
  for (let i = 0; i < end; i++) {
    const byte = data[i];
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return false;
  }
  return true;
}

function readJson(text: string, name: string, into: OtlpRequests): void {
  const lines = text.split('\n');
  const documents: { where: string; value: unknown }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    try {
      documents.push({ where: `${name}:${i + 1}`, value: JSON.parse(line) });
    } catch (err) {
      // One pretty-printed request (a raw body saved from a debugger) spans many lines.
      if (documents.length === 0) {
        try {
          documents.push({ where: name, value: JSON.parse(text) });
          break;
        } catch {
          // fall through: report the line
        }
      }
      throw new InputError(`${name}:${i + 1}`, `not valid JSON (${errorMessage(err)}); expected one OTLP JSON request per line`);
    }
  }
  for (const { where, value } of documents) sortRequest(value, where, into);
}

function sortRequest(value: unknown, where: string, into: OtlpRequests): void {
  const record = asRecord(value);
  if ('resourceProfiles' in record || 'dictionary' in record) into.profiles.push({ where, request: record });
  else if ('resourceSpans' in record) into.traces.push({ where, request: record });
  else if ('resource_profiles' in record || 'resource_spans' in record) {
    throw new InputError(where, 'uses snake_case keys; OTLP JSON uses lowerCamelCase (resourceProfiles, resourceSpans)');
  } else {
    const keys = Object.keys(record).slice(0, 5).join(', ');
    throw new InputError(where, `not an OTLP profiles or traces request (no resourceProfiles or resourceSpans; keys: ${keys || 'none'})`);
  }
}

function readProtobuf(data: Buffer, name: string, into: OtlpRequests): void {
  const records = lengthPrefixed(data) ?? [data];
  const framed = records.length > 1 || records[0] !== data;
  for (let i = 0; i < records.length; i++) {
    const where = framed ? `${name}: message ${i + 1}` : name;
    decodeOne(records[i], where, into);
  }
}

/** The Collector file exporter's protobuf framing, if the whole buffer follows it; else undefined. */
function lengthPrefixed(data: Buffer): Buffer[] | undefined {
  const out: Buffer[] = [];
  let offset = 0;
  while (offset < data.length) {
    if (offset + 4 > data.length) return undefined;
    const length = data.readUInt32BE(offset);
    if (length === 0 || offset + 4 + length > data.length) return undefined;
    out.push(data.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return out.length > 0 ? out : undefined;
}

// The zstd frame magic number, 0xFD2FB528 little-endian (RFC 8878 §3.1.1).
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

function isZstd(data: Buffer): boolean {
  return data.length >= 4 && ZSTD_MAGIC.every((byte, i) => data[i] === byte);
}

/** Decompresses zstd where Node.js has it (zlib.zstdDecompressSync: 22.15+, 23.8+); else says so. */
function unzstd(data: Buffer, where: string): Buffer {
  const decompress = (zlib as { zstdDecompressSync?: (data: Buffer) => Buffer }).zstdDecompressSync;
  if (decompress === undefined) {
    throw new InputError(
      where,
      `is zstd-compressed, which this Node.js (${process.version}) cannot decompress (Node.js 22.15 or newer can): ` +
        "decompress it with `zstd -d`, run convert on a newer Node.js, or leave the Collector file exporter's compression off",
    );
  }
  try {
    return decompress(data);
  } catch (err) {
    throw new InputError(where, `looks zstd-compressed but does not decompress: ${errorMessage(err)}`);
  }
}

function decodeOne(bytes: Buffer, where: string, into: OtlpRequests): void {
  if (isZstd(bytes)) {
    // The Collector file exporter's `compression: zstd`: one frame per message, JSON or protobuf inside.
    const inner = unzstd(bytes, where);
    if (looksLikeText(inner)) readJson(inner.toString('utf8'), where, into);
    else decodeMessage(inner, where, into);
    return;
  }
  decodeMessage(bytes, where, into);
}

function decodeMessage(bytes: Buffer, where: string, into: OtlpRequests): void {
  let profileError: Error | undefined;
  try {
    const profiles = decodeProfilesRequest(bytes);
    // Only a profiles request has field 2 (the dictionary); a traces request decodes without it.
    if (profiles.dictionary !== undefined) {
      into.profiles.push({ where, request: profiles });
      return;
    }
  } catch (err) {
    profileError = err as Error;
  }
  try {
    const traces = decodeTracesRequest(bytes);
    if (Array.isArray(traces.resourceSpans) && traces.resourceSpans.length > 0) {
      into.traces.push({ where, request: traces });
      return;
    }
  } catch (err) {
    throw new InputError(where, `not valid OTLP protobuf or JSON (${(profileError ?? (err as Error)).message})`);
  }
  throw new InputError(where, 'neither an OTLP profiles request (no dictionary) nor a traces request (no resource spans)');
}
