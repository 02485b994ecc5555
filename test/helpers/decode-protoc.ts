/*
 * An independent decoder for wire tests: `protoc --decode` (Debian package `protobuf-compiler`)
 * reads our bytes against proto/, and this file turns protoc's text format into the OTLP JSON
 * shape (lowerCamelCase keys, 64-bit integers as decimal strings, trace/span/profile ids as hex,
 * other bytes base64). Nothing here uses protobufjs or the library's own model, so an encoder bug
 * cannot cancel itself out.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const SERVICE_PROTO = 'opentelemetry/proto/collector/profiles/v1development/profiles_service.proto';
const SERVICE_PACKAGE = 'opentelemetry.proto.collector.profiles.v1development';

const REPEATED = new Set([
  'resource_profiles', 'scope_profiles', 'profiles', 'samples', 'attributes', 'attribute_indices',
  'timestamps_unix_nano', 'values', 'location_indices', 'lines', 'mapping_table', 'location_table',
  'function_table', 'link_table', 'string_table', 'attribute_table', 'stack_table', 'entity_refs',
  'id_keys', 'description_keys',
]);
const INT64 = new Set([
  'time_unix_nano', 'duration_nano', 'period', 'timestamps_unix_nano', 'values', 'line', 'column',
  'start_line', 'int_value', 'address', 'memory_start', 'memory_limit', 'file_offset', 'rejected_profiles',
]);
const HEX_BYTES = new Set(['trace_id', 'span_id', 'profile_id']);
const BASE64_BYTES = new Set(['bytes_value', 'original_payload']);

/** A JSON-shaped decoded message. */
export type Decoded = { [key: string]: DecodedValue };
export type DecodedValue = string | number | boolean | Decoded | DecodedValue[];

/** Path of the package's proto/ directory (found upwards from this compiled file). */
export function protoDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'proto', SERVICE_PROTO))) return join(dir, 'proto');
    dir = dirname(dir);
  }
  throw new Error(`proto/${SERVICE_PROTO} not found above ${__dirname}`);
}

/** Runs protoc with `args`, feeding `input`; fails with an install hint when protoc is missing. */
export function runProtoc(args: readonly string[], input?: Uint8Array): string {
  const result = spawnSync('protoc', ['-I', protoDir(), ...args], { input, maxBuffer: 256 * 1024 * 1024 });
  if (result.error !== undefined) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new Error('protoc is not installed: the wire tests need it (apt-get install -y protobuf-compiler)');
    }
    throw result.error;
  }
  if (result.status !== 0) {
    throw new Error(`protoc ${args.join(' ')} failed (${result.status}): ${result.stderr.toString()}`);
  }
  return result.stdout.toString('latin1');
}

/** Decodes a binary message of the profiles service package (default: the export request). */
export function decodeWithProtoc(bytes: Uint8Array, message = 'ExportProfilesServiceRequest'): Decoded {
  const text = runProtoc([`--decode=${SERVICE_PACKAGE}.${message}`, SERVICE_PROTO], bytes);
  return normalize(parseTextFormat(text));
}

/** Encodes protoc text format as a binary message of the profiles service package. */
export function encodeWithProtoc(text: string, message: string): Buffer {
  const result = runProtoc([`--encode=${SERVICE_PACKAGE}.${message}`, SERVICE_PROTO], Buffer.from(text, 'utf8'));
  return Buffer.from(result, 'latin1');
}

/** protoc's schema-less view of a message: field numbers and wire values, explicit zeros included. */
export function decodeRaw(bytes: Uint8Array): string {
  return runProtoc(['--decode_raw'], bytes);
}

/** A text-format message without schema: every field is a list, scalars stay as protoc printed them. */
export type Loose = { [field: string]: Array<string | Loose> };

/** The FileDescriptorSet protoc compiles from proto/ (all files the service imports). */
export function describeProtos(): Loose {
  const dir = mkdtempSync(join(tmpdir(), 'otlp-proto-'));
  try {
    const out = join(dir, 'set.pb');
    runProtoc(['--include_imports', `--descriptor_set_out=${out}`, SERVICE_PROTO]);
    const text = runProtoc(['--decode=google.protobuf.FileDescriptorSet', 'google/protobuf/descriptor.proto'], readFileSync(out));
    return loose(parseTextFormat(text));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function loose(message: TextMessage): Loose {
  const out: Loose = {};
  for (const [name, values] of message) {
    out[name] = values.map((v) => (v instanceof Map ? loose(v) : v.kind === 'string' ? v.bytes!.toString('utf8') : v.text));
  }
  return out;
}

type Token = { kind: 'ident' | 'number' | 'string' | 'punct'; text: string; bytes?: Buffer };
type TextMessage = Map<string, Array<Token | TextMessage>>;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\n' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '{' || c === '}' || c === ':') {
      tokens.push({ kind: 'punct', text: c });
      i++;
    } else if (c === '"') {
      const bytes: number[] = [];
      i++;
      while (text[i] !== '"') {
        if (i >= text.length) throw new Error('unterminated string in protoc output');
        if (text[i] !== '\\') {
          bytes.push(text.charCodeAt(i++));
          continue;
        }
        const e = text[i + 1];
        const simple: Record<string, number> = { n: 10, r: 13, t: 9, '"': 34, "'": 39, '\\': 92, a: 7, b: 8, f: 12, v: 11 };
        if (e in simple) {
          bytes.push(simple[e]);
          i += 2;
        } else if (e === 'x') {
          const m = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i + 2))!;
          bytes.push(parseInt(m[0], 16));
          i += 2 + m[0].length;
        } else {
          const m = /^[0-7]{1,3}/.exec(text.slice(i + 1));
          if (m === null) throw new Error(`bad escape \\${e} in protoc output`);
          bytes.push(parseInt(m[0], 8));
          i += 1 + m[0].length;
        }
      }
      i++;
      tokens.push({ kind: 'string', text: '', bytes: Buffer.from(bytes) });
    } else {
      const m = /^[A-Za-z0-9_.+-]+/.exec(text.slice(i));
      if (m === null) throw new Error(`unexpected ${JSON.stringify(c)} in protoc output`);
      tokens.push({ kind: /^[-0-9]/.test(m[0]) ? 'number' : 'ident', text: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

function parseTextFormat(text: string): TextMessage {
  const tokens = tokenize(text);
  let pos = 0;
  const parseMessage = (): TextMessage => {
    const message: TextMessage = new Map();
    while (pos < tokens.length && tokens[pos].text !== '}') {
      const name = tokens[pos++].text;
      let value: Token | TextMessage;
      if (tokens[pos].text === ':') pos++;
      if (tokens[pos].text === '{') {
        pos++;
        value = parseMessage();
        pos++; // '}'
      } else {
        value = tokens[pos++];
      }
      const list = message.get(name) ?? [];
      list.push(value);
      message.set(name, list);
    }
    return message;
  };
  return parseMessage();
}

function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_m, ch: string) => ch.toUpperCase());
}

function normalize(message: TextMessage): Decoded {
  const out: Decoded = {};
  for (const [name, values] of message) {
    const converted = values.map((v) => convert(name, v));
    out[camel(name)] = REPEATED.has(name) ? converted : converted[converted.length - 1];
  }
  return out;
}

function convert(name: string, value: Token | TextMessage): DecodedValue {
  if (value instanceof Map) return normalize(value);
  if (value.kind === 'string') {
    if (HEX_BYTES.has(name)) return value.bytes!.toString('hex');
    if (BASE64_BYTES.has(name)) return value.bytes!.toString('base64');
    return value.bytes!.toString('utf8');
  }
  if (INT64.has(name)) return BigInt(value.text).toString();
  if (value.text === 'true' || value.text === 'false') return value.text === 'true';
  return Number(value.text);
}
