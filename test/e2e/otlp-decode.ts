import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { repoRoot } from '../helpers/collector';

/**
 * Decoders for what the Collector's otlp_http exporter forwards, profiles and traces, with the project's own
 * proto/ (the schema the library sends with, and the traces messages the viewer decodes).
 * Ids come out as lowercase hex, 64-bit integers as decimal strings.
 */

let root: protobuf.Root | undefined;

function schema(): protobuf.Root {
  if (root !== undefined) return root;
  const protoDir = path.join(repoRoot(), 'proto');
  const loaded = new protobuf.Root();
  // Imports name paths relative to proto/, as protoc's -I does.
  loaded.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(protoDir, target));
  loaded.loadSync(
    [
      'opentelemetry/proto/collector/profiles/v1development/profiles_service.proto',
      'opentelemetry/proto/collector/trace/v1/trace_service.proto',
    ],
    { keepCase: false },
  );
  root = loaded;
  return loaded;
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, arrays: true, defaults: false };

/** A decoded `ExportTraceServiceRequest`, reduced to what the test reads. */
export interface DecodedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

/**
 * Flattens KeyValue lists into a plain object of their values. With `strings` (a profiles
 * dictionary's string table), keys and string values sent as `key_strindex` /
 * `string_value_strindex` are resolved: the Collector's OTLP exporters (pdata v1.71.0) rewrite
 * resource and scope attributes of profiles into that form when they marshal.
 */
export function attributesOf(list: unknown, strings: readonly string[] = []): Record<string, unknown> {
  const valueOf = (value: Record<string, unknown> | undefined): unknown => {
    if (value === undefined) return undefined;
    if (value.stringValueStrindex !== undefined) return strings[Number(value.stringValueStrindex)];
    if (value.arrayValue !== undefined) {
      return ((value.arrayValue as { values?: Record<string, unknown>[] }).values ?? []).map(valueOf);
    }
    return value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue ?? value;
  };
  const out: Record<string, unknown> = {};
  for (const kv of (list as { key?: string; keyStrindex?: number; value?: Record<string, unknown> }[] | undefined) ?? []) {
    const key = kv.key || strings[kv.keyStrindex ?? 0] || '';
    out[key] = valueOf(kv.value);
  }
  return out;
}

function hex(bytes: unknown): string {
  return bytes instanceof Uint8Array ? Buffer.from(bytes).toString('hex') : '';
}

/** Decodes a binary OTLP trace export into its spans. */
export function decodeTraces(body: Uint8Array): DecodedSpan[] {
  const type = schema().lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  const request = type.toObject(type.decode(body), { ...TO_OBJECT, bytes: Buffer }) as {
    resourceSpans?: { resource?: { attributes?: unknown }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[];
  };
  const spans: DecodedSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const resource = attributesOf(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        spans.push({
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: hex(span.parentSpanId),
          name: String(span.name ?? ''),
          attributes: attributesOf(span.attributes),
          resource,
        });
      }
    }
  }
  return spans;
}

/** One sample of a decoded profile with its dictionary references resolved. */
export interface DecodedSample {
  /** Function names, leaf first. */
  functions: string[];
  traceId: string;
  spanId: string;
  /** values[0], else the number of timestamps. */
  count: number;
}

/** A decoded profile with the resource it came under. */
export interface DecodedProfile {
  resource: Record<string, unknown>;
  scope: { name: string; version: string };
  samples: DecodedSample[];
}

/** Decodes a binary `ExportProfilesServiceRequest` and resolves every sample through its dictionary. */
export function decodeProfiles(body: Uint8Array): DecodedProfile[] {
  const type = schema().lookupType('opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest');
  const request = type.toObject(type.decode(body), { ...TO_OBJECT, bytes: Buffer }) as any;
  const dict = request.dictionary ?? {};
  const strings: string[] = dict.stringTable ?? [];
  const functionName = (locationIndex: number): string => {
    const location = dict.locationTable?.[locationIndex] ?? {};
    const fn = dict.functionTable?.[location.lines?.[0]?.functionIndex ?? 0] ?? {};
    return strings[fn.nameStrindex ?? 0] ?? '';
  };
  const profiles: DecodedProfile[] = [];
  for (const rp of request.resourceProfiles ?? []) {
    const resource = attributesOf(rp.resource?.attributes, strings);
    for (const sp of rp.scopeProfiles ?? []) {
      for (const profile of sp.profiles ?? []) {
        const samples: DecodedSample[] = (profile.samples ?? []).map((sample: any) => {
          const stack = dict.stackTable?.[sample.stackIndex ?? 0] ?? {};
          const link = dict.linkTable?.[sample.linkIndex ?? 0] ?? {};
          return {
            functions: (stack.locationIndices ?? []).map(functionName),
            traceId: hex(link.traceId),
            spanId: hex(link.spanId),
            count: sample.values?.length ? Number(sample.values[0]) : (sample.timestampsUnixNano?.length ?? 0),
          };
        });
        profiles.push({ resource, scope: { name: sp.scope?.name ?? '', version: sp.scope?.version ?? '' }, samples });
      }
    }
  }
  return profiles;
}
