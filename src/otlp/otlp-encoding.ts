import type * as Protobuf from 'protobufjs';
import { buildExportRequest } from './otlp-request-builder';
import type { PbExportProfilesServiceRequest } from './otlp-model';
import type { SpanProfile } from '../profile/span-profile';
import { otlpSchema as schema } from './otlp-schema';

// OTLP JSON writes these ids as hex, not base64 (opentelemetry-proto docs/specification.md);
// the Collector's pdata reads and writes profileId as hex too.
export const HEX_BYTES_FIELDS: ReadonlySet<string> = new Set(['traceId', 'spanId', 'profileId']);
export const INT64_TYPES: ReadonlySet<string> = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

/**
 * Encodes a batch as one binary OTLP `ExportProfilesServiceRequest` (`application/x-protobuf`).
 * Use it to send profiles over OTLP/HTTP or gRPC.
 */
export function encodeProtobuf(profiles: readonly SpanProfile[]): Uint8Array {
  return encodeRequestProtobuf(buildExportRequest(profiles));
}

/**
 * Encodes a batch as one OTLP JSON `ExportProfilesServiceRequest` on one line without a trailing
 * newline (`application/json`, or one line of a file export).
 */
export function encodeJson(profiles: readonly SpanProfile[]): string {
  return encodeRequestJson(buildExportRequest(profiles));
}

/** Binary encoding of an already built request model. */
export function encodeRequestProtobuf(request: PbExportProfilesServiceRequest): Uint8Array {
  return schema().request.encode(request).finish();
}

/**
 * OTLP JSON encoding of an already built request model: proto3 JSON mapping with lowerCamelCase
 * keys, 64-bit integers as decimal strings, enums as numbers, trace/span/profile ids as hex.
 */
export function encodeRequestJson(request: PbExportProfilesServiceRequest): string {
  return writeMessage(schema().request, request);
}

/**
 * Reads an `ExportProfilesServiceResponse` body (protobuf or JSON, chosen by `contentType`).
 * Returns `undefined` when the body is empty or cannot be parsed; a response without
 * `partial_success` reads as zero rejected profiles and no message.
 */
export function decodeExportResponse(
  body: Uint8Array,
  contentType: string,
): { rejectedProfiles: number; errorMessage: string } | undefined {
  if (body.length === 0) return undefined;
  const type = contentType.toLowerCase();
  try {
    let partialSuccess: { rejectedProfiles?: unknown; errorMessage?: unknown } | null | undefined;
    if (type.includes('json')) {
      const parsed: unknown = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
      const response = parsed as Record<string, Record<string, unknown> | undefined>;
      partialSuccess = response.partialSuccess ?? response.partial_success;
      if (partialSuccess != null && typeof partialSuccess === 'object') {
        const raw = partialSuccess as Record<string, unknown>;
        partialSuccess = {
          rejectedProfiles: raw.rejectedProfiles ?? raw.rejected_profiles,
          errorMessage: raw.errorMessage ?? raw.error_message,
        };
      }
    } else if (type === '' || type.includes('protobuf')) {
      const decoded = schema().response.decode(body) as { partialSuccess?: typeof partialSuccess };
      partialSuccess = decoded.partialSuccess;
    } else {
      return undefined;
    }
    const rejected = Number(String(partialSuccess?.rejectedProfiles ?? 0));
    const message = partialSuccess?.errorMessage;
    return {
      rejectedProfiles: Number.isFinite(rejected) ? rejected : 0,
      errorMessage: typeof message === 'string' ? message : '',
    };
  } catch {
    return undefined;
  }
}

let warmedUp = false;

/**
 * Loads protobufjs and the generated schema now rather than at the first export, and encodes one
 * small request: protobufjs generates each message's encoder at its first use, and the builder's
 * code is still cold. Together that made the first export's encoding a 40-70 ms pause of the
 * main thread mid-traffic (a warm batch of 64 profiles takes about 1 ms; bench/RESULTS.md, Sixth
 * pass). Call it while the application starts, e.g. when an exporter is constructed; idempotent,
 * throws if the schema cannot be loaded.
 */
export function loadEncoding(): void {
  schema();
  if (warmedUp) return;
  warmedUp = true;
  encodeProtobuf([WARM_UP_PROFILE]);
}

const WARM_UP_FRAME = { functionName: 'warmUp', fileName: 'file:///warm-up.js', lineNumber: 1, columnNumber: 1 };
/** One profile that touches every message type of a request (a frame, a link, attributes, a sample). */
const WARM_UP_PROFILE: SpanProfile = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  rootSpanId: 'b7ad6b7169203331',
  rootSpanName: 'warm-up',
  resource: { attributes: { 'service.name': 'warm-up' } },
  startTimeUnixNano: 1n,
  endTimeUnixNano: 2n,
  periodNanos: 10_101_010,
  samples: [{ timeUnixNano: 1n, stack: [WARM_UP_FRAME], spanId: 'b7ad6b7169203331', cpuNanos: 1 }],
  truncated: false,
  droppedSamples: 0,
};

/**
 * {@link loadEncoding} for exporter constructors: the load happens while the application
 * starts instead of during the first export, mid-traffic, and a failure is logged, not thrown
 * (each export then reports it).
 */
export function preloadEncoding(logger: { error(message: string, ...args: unknown[]): void }): void {
  try {
    loadEncoding();
  } catch (err) {
    logger.error('cannot load the OTLP profiles schema; exports will fail', err);
  }
}

type JsonKind = 'message' | 'int64' | 'hex' | 'base64' | 'string' | 'double' | 'plain';

interface JsonField {
  readonly name: string;
  readonly kind: JsonKind;
  readonly repeated: boolean;
  readonly type: Protobuf.Type | undefined;
}

const jsonFieldCache = new Map<Protobuf.Type, readonly JsonField[]>();

function jsonFields(type: Protobuf.Type): readonly JsonField[] {
  let fields = jsonFieldCache.get(type);
  if (fields === undefined) {
    fields = type.fieldsArray.map((field) => {
      const nested = field.resolvedType instanceof schema().protobuf.Type ? field.resolvedType : undefined;
      let kind: JsonKind;
      if (nested !== undefined) kind = 'message';
      else if (INT64_TYPES.has(field.type)) kind = 'int64';
      else if (field.type === 'bytes') kind = HEX_BYTES_FIELDS.has(field.name) ? 'hex' : 'base64';
      else if (field.type === 'string') kind = 'string';
      else if (field.type === 'double' || field.type === 'float') kind = 'double';
      else kind = 'plain';
      return { name: field.name, kind, repeated: field.repeated, type: nested };
    });
    jsonFieldCache.set(type, fields);
  }
  return fields;
}

function writeMessage(type: Protobuf.Type, message: object): string {
  const record = message as Record<string, unknown>;
  let out = '{';
  for (const field of jsonFields(type)) {
    const value = record[field.name];
    if (value === undefined || value === null) continue;
    let text: string;
    if (field.repeated) {
      const items = value as readonly unknown[];
      if (items.length === 0) continue;
      text = '[';
      for (let i = 0; i < items.length; i++) {
        if (i > 0) text += ',';
        text += writeValue(field, items[i]);
      }
      text += ']';
    } else {
      text = writeValue(field, value);
    }
    if (out.length > 1) out += ',';
    out += `"${field.name}":${text}`;
  }
  return out + '}';
}

function writeValue(field: JsonField, value: unknown): string {
  switch (field.kind) {
    case 'message':
      return writeMessage(field.type!, value as object);
    case 'int64':
      return `"${String(value)}"`;
    case 'hex':
    case 'base64': {
      const bytes = value as Uint8Array;
      return `"${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(field.kind)}"`;
    }
    case 'string':
      return JSON.stringify(value);
    case 'double':
      return Number.isFinite(value) ? String(value) : `"${String(value)}"`;
    default:
      return String(value);
  }
}
