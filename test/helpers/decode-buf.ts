/*
 * An independent decoder for wire tests: `buf convert` (the devDependency @bufbuild/buf, whose
 * binary comes in its platform package: nothing to install besides `npm ci`) reads our bytes against
 * proto/ with Go's protobuf implementation and prints them as OTLP JSON (lowerCamelCase keys, 64-bit
 * integers as decimal strings); this file only turns trace/span/profile ids from base64 into hex.
 * Nothing here uses protobufjs or the library's own model, so an encoder bug cannot cancel itself out.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const SERVICE_PROTO = 'opentelemetry/proto/collector/profiles/v1development/profiles_service.proto';
const SERVICE_PACKAGE = 'opentelemetry.proto.collector.profiles.v1development';
const HEX_BYTES = new Set(['traceId', 'spanId', 'profileId']);

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

// The packages @bufbuild/buf depends on, one per platform, each with the binary in bin/.
const PLATFORM_PACKAGES: Record<string, string> = {
  'linux x64': '@bufbuild/buf-linux-x64',
  'linux arm64': '@bufbuild/buf-linux-aarch64',
  'linux arm': '@bufbuild/buf-linux-armv7',
  'darwin x64': '@bufbuild/buf-darwin-x64',
  'darwin arm64': '@bufbuild/buf-darwin-arm64',
  'win32 x64': '@bufbuild/buf-win32-x64',
  'win32 arm64': '@bufbuild/buf-win32-arm64',
};

let command: { file: string; prefix: string[] } | undefined;

/** The buf binary of this platform's package; else @bufbuild/buf's own launcher, run by this Node. */
function bufCommand(): { file: string; prefix: string[] } {
  if (command !== undefined) return command;
  const pkg = PLATFORM_PACKAGES[`${platform()} ${arch()}`];
  const exe = platform() === 'win32' ? 'buf.exe' : 'buf';
  try {
    if (pkg !== undefined) return (command = { file: require.resolve(`${pkg}/bin/${exe}`), prefix: [] });
  } catch {
    // not installed for this platform: the launcher below says why
  }
  try {
    return (command = { file: process.execPath, prefix: [require.resolve('@bufbuild/buf/bin/buf')] });
  } catch {
    throw new Error('buf is not installed: the wire tests decode with it (npm ci installs the devDependency @bufbuild/buf)');
  }
}

/** Runs buf with `args`, feeding `input`; returns its stdout. */
export function runBuf(args: readonly string[], input?: Uint8Array | string): Buffer {
  const { file, prefix } = bufCommand();
  // No buf.yaml in proto/: buf reads the folder as a module of its own, and needs no network.
  const result = spawnSync(file, [...prefix, ...args], {
    input,
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, BUF_CACHE_DIR: join(scratch(), 'cache') },
  });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) {
    throw new Error(`buf ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr.toString()}`);
  }
  return result.stdout;
}

let scratchDir: string | undefined;

/** A temporary folder for this process, removed when it exits. */
function scratch(): string {
  if (scratchDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'otlp-buf-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    scratchDir = dir;
  }
  return scratchDir;
}

let image: string | undefined;

/** proto/ compiled once per process into a buf image, so each conversion skips the compile. */
function protoImage(): string {
  if (image === undefined) {
    const out = join(scratch(), 'proto.binpb');
    runBuf(['build', protoDir(), '--exclude-source-info', '-o', out]);
    image = out;
  }
  return image;
}

/** Converts `input` from one format to another as a message of the profiles service package. */
function convert(input: Uint8Array | string, message: string, from: string, to: string): Buffer {
  return runBuf(['convert', protoImage(), `--type=${SERVICE_PACKAGE}.${message}`, `--from=-#format=${from}`, `--to=-#format=${to}`], input);
}

/** Decodes a binary message of the profiles service package (default: the export request). */
export function decodeWithBuf(bytes: Uint8Array, message = 'ExportProfilesServiceRequest'): Decoded {
  return hexIds(JSON.parse(convert(bytes, message, 'binpb', 'json').toString('utf8')) as Decoded);
}

/** Encodes protobuf text format as a binary message of the profiles service package. */
export function encodeWithBuf(text: string, message: string): Buffer {
  return convert(text, message, 'txtpb', 'binpb');
}

/**
 * The message as Go's protobuf writes it again after reading it: without fields whose value is the
 * default (zero scalars, empty strings), with repeated scalars packed. Compare lengths, not bytes:
 * Go's field order is not fixed.
 */
export function reencodeWithBuf(bytes: Uint8Array, message = 'ExportProfilesServiceRequest'): Buffer {
  return convert(bytes, message, 'binpb', 'binpb');
}

/** A message without its schema's types: every field is a list, scalars are strings, names snake_case. */
export type Loose = { [field: string]: Array<string | Loose> };

/** The FileDescriptorSet buf compiles from proto/ for the profiles service (with its imports). */
export function describeProtos(): Loose {
  const out = runBuf([
    'build',
    protoDir(),
    '--path',
    join(protoDir(), SERVICE_PROTO),
    '--as-file-descriptor-set',
    '--exclude-source-info',
    '-o',
    '-#format=json',
  ]);
  return loose(JSON.parse(out.toString('utf8')) as Record<string, unknown>);
}

function loose(message: Record<string, unknown>): Loose {
  const out: Loose = {};
  for (const [name, value] of Object.entries(message)) {
    const values = Array.isArray(value) ? value : [value];
    out[name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = values.map((v) =>
      typeof v === 'object' && v !== null ? loose(v as Record<string, unknown>) : String(v),
    );
  }
  return out;
}

function hexIds(message: Decoded): Decoded {
  const out: Decoded = {};
  for (const [key, value] of Object.entries(message)) {
    out[key] = HEX_BYTES.has(key) && typeof value === 'string' ? Buffer.from(value, 'base64').toString('hex') : walk(value);
  }
  return out;
}

function walk(value: DecodedValue): DecodedValue {
  if (Array.isArray(value)) return value.map(walk);
  if (typeof value === 'object') return hexIds(value);
  return value;
}
