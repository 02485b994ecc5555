/*
 * The one place the converters and the viewer decode OTLP protobuf (profiles and traces requests).
 * It loads proto/ with protobufjs reflection, the way src/exporter/otlp-encoding.ts does; if the
 * schema moves to generated or bundled code, only this module changes. The output is the same
 * shape as OTLP JSON read with JSON.parse, except that ids are bytes (Uint8Array) and 64-bit
 * integers are decimal strings; `otlp-json-model.ts` reads both.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type * as Protobuf from 'protobufjs';

const PROFILES_PROTO = 'opentelemetry/proto/collector/profiles/v1development/profiles_service.proto';
const TRACES_PROTO = 'opentelemetry/proto/collector/trace/v1/trace_service.proto';
const PROFILES_REQUEST = 'opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest';
const TRACES_REQUEST = 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest';

interface Schema {
  readonly profilesRequest: Protobuf.Type;
  readonly tracesRequest: Protobuf.Type;
}

let loaded: Schema | undefined;

// Longs as decimal strings (exact, like OTLP JSON), enums as numbers, bytes left as Uint8Array.
const TO_OBJECT: Protobuf.IConversionOptions = { longs: String, enums: Number, arrays: false, defaults: false };

/** Decodes a binary `ExportProfilesServiceRequest`; throws when the bytes are not protobuf. */
export function decodeProfilesRequest(bytes: Uint8Array): Record<string, unknown> {
  const type = schema().profilesRequest;
  return type.toObject(type.decode(bytes), TO_OBJECT);
}

/** Decodes a binary `ExportTraceServiceRequest`; throws when the bytes are not protobuf. */
export function decodeTracesRequest(bytes: Uint8Array): Record<string, unknown> {
  const type = schema().tracesRequest;
  return type.toObject(type.decode(bytes), TO_OBJECT);
}

function schema(): Schema {
  if (loaded === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const protobuf = require('protobufjs') as typeof Protobuf;
    const protoDir = findProtoDir();
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : join(protoDir, target));
    root.loadSync([join(protoDir, PROFILES_PROTO), join(protoDir, TRACES_PROTO)]);
    root.resolveAll();
    loaded = { profilesRequest: root.lookupType(PROFILES_REQUEST), tracesRequest: root.lookupType(TRACES_REQUEST) };
  }
  return loaded;
}

// Runs from dist/convert/ (the package) or build/src/convert/ (tests): look upwards for proto/.
function findProtoDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, TRACES_PROTO))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`otel-span-profiler: cannot find proto/${TRACES_PROTO} above ${__dirname}`);
}
