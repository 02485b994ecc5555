/* Reads the spans of an OTLP `ExportTraceServiceRequest` (JSON-shaped, see otlp-values.ts). */
import { SERVICE_NAME_ATTRIBUTE } from '../otlp/attribute-names';
import { asArray, asBigInt, asHexId, asInt, asRecord, keyValues } from './otlp-values';

/** One span as the viewer shows it. */
export interface SpanRecord {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP SpanKind number (2 = server). */
  readonly kind: number;
  readonly serviceName: string;
  readonly startUnixNano: bigint;
  readonly endUnixNano: bigint;
  readonly attributes: Readonly<Record<string, string>>;
  /** OTLP StatusCode number (2 = error). */
  readonly statusCode: number;
}

/** Every span of a traces request with a valid trace and span id. */
export function spansOfRequest(request: unknown): SpanRecord[] {
  const out: SpanRecord[] = [];
  for (const resourceValue of asArray(asRecord(request).resourceSpans)) {
    const resource = asRecord(resourceValue);
    const serviceName = keyValues(asRecord(resource.resource).attributes).get(SERVICE_NAME_ATTRIBUTE) ?? '';
    for (const scopeValue of asArray(resource.scopeSpans)) {
      for (const spanValue of asArray(asRecord(scopeValue).spans)) {
        const span = asRecord(spanValue);
        const traceId = asHexId(span.traceId, 16);
        const spanId = asHexId(span.spanId, 8);
        if (traceId === '' || spanId === '') continue;
        const kind = typeof span.kind === 'string' ? SPAN_KINDS.indexOf(span.kind) : asInt(span.kind);
        out.push({
          traceId,
          spanId,
          parentSpanId: asHexId(span.parentSpanId, 8),
          name: typeof span.name === 'string' ? span.name : '',
          kind: kind < 0 ? 0 : kind,
          serviceName,
          startUnixNano: asBigInt(span.startTimeUnixNano),
          endUnixNano: asBigInt(span.endTimeUnixNano),
          attributes: Object.fromEntries(keyValues(span.attributes)),
          statusCode: asInt(asRecord(span.status).code),
        });
      }
    }
  }
  return out;
}

const SPAN_KINDS = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
];
