/*
 * The one place the converters and the viewer decode OTLP protobuf (profiles and traces requests),
 * through the schema the package generates at build time (src/otlp/otlp-schema.ts), so the CLI
 * works from a bundle or an installed package without proto/. The output is the same shape as
 * OTLP JSON read with JSON.parse, except that ids are bytes (Uint8Array) and 64-bit integers are
 * decimal strings; `otlp-values.ts` reads both.
 */
import type * as Protobuf from 'protobufjs';
import { otlpSchema } from '../otlp/otlp-schema';

const TRACES_REQUEST = 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest';

// Longs as decimal strings (exact, like OTLP JSON), enums as numbers, bytes left as Uint8Array.
const TO_OBJECT: Protobuf.IConversionOptions = { longs: String, enums: Number, arrays: false, defaults: false };

let tracesRequest: Protobuf.Type | undefined;

/** Decodes a binary `ExportProfilesServiceRequest`; throws when the bytes are not protobuf. */
export function decodeProfilesRequest(bytes: Uint8Array): Record<string, unknown> {
  const type = otlpSchema().request;
  return type.toObject(type.decode(bytes), TO_OBJECT);
}

/** Decodes a binary `ExportTraceServiceRequest`; throws when the bytes are not protobuf. */
export function decodeTracesRequest(bytes: Uint8Array): Record<string, unknown> {
  tracesRequest ??= otlpSchema().root.lookupType(TRACES_REQUEST);
  return tracesRequest.toObject(tracesRequest.decode(bytes), TO_OBJECT);
}
