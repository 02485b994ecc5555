/*
 * Hand-made OTLP JSON profiles requests for the viewer's hostile-input tests: the point of each is
 * a value no profiler sends (a huge sample value, a function name full of RegExp syntax, thousands
 * of distinct frames, a profile attribute of the wrong type), or an exact sequence of process
 * profiles (the process view's bound), so they are written out rather than sampled.
 */
import { randomBytes } from 'node:crypto';

export interface HandMadeProfile {
  /** Function names of the one stack, outermost first. */
  readonly functions: readonly string[];
  /** The sample's values (CPU nanoseconds); JSON numbers as given, e.g. 1e308. */
  readonly values: readonly (number | string)[];
  readonly traceId?: string;
  readonly spanId?: string;
  readonly rootSpanName?: string;
  /** A sample outside any span: no Link and no span_name attribute. */
  readonly unlinked?: boolean;
  /** Profile attributes, e.g. {@link CONTINUOUS}; values as given, however wrong. */
  readonly profileAttributes?: readonly { readonly key: string; readonly value: unknown }[];
  /** The profile's time_unix_nano and duration_nano, as given. */
  readonly timeUnixNano?: unknown;
  readonly durationNano?: unknown;
  readonly serviceName?: string;
}

/** The profile attribute of continuous mode's process profiles, as the library writes it. */
export const CONTINUOUS = { key: 'otel_span_profiler.continuous', value: { boolValue: true } } as const;

/** One profile with one sample on one stack, as an OTLP JSON `ExportProfilesServiceRequest`. */
export function profilesRequest(profile: HandMadeProfile): { request: object; traceId: string; spanId: string } {
  const traceId = profile.traceId ?? randomBytes(16).toString('hex');
  const spanId = profile.spanId ?? randomBytes(8).toString('hex');
  const strings = ['', 'cpu', 'nanoseconds', 'service.name', 'span_name', '/srv/app.js'];
  const str = (s: string): number => {
    const i = strings.indexOf(s);
    return i >= 0 ? i : strings.push(s) - 1;
  };
  const functionTable: object[] = [{}];
  const locationTable: object[] = [{}];
  for (const [i, name] of profile.functions.entries()) {
    functionTable.push({ nameStrindex: str(name), filenameStrindex: str('/srv/app.js') });
    locationTable.push({ lines: [{ functionIndex: i + 1, line: i + 1, column: 1 }] });
  }
  // OTLP stacks are leaf first.
  const locationIndices = profile.functions.map((_, i) => i + 1).reverse();
  const attributeTable: object[] = [{}, { keyStrindex: str('span_name'), value: { stringValue: profile.rootSpanName ?? 'GET /hostile' } }];
  const profileAttributeIndices = (profile.profileAttributes ?? []).map(
    (attribute) => attributeTable.push({ keyStrindex: str(attribute.key), value: attribute.value }) - 1,
  );
  const timestamps = profile.values.map((_, i) => String(BigInt(Date.now()) * 1_000_000n + BigInt(i) * 10_000_000n));
  const request = {
    resourceProfiles: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: profile.serviceName ?? 'hostile-input' } }] },
        scopeProfiles: [
          {
            profiles: [
              {
                sampleType: { typeStrindex: str('cpu'), unitStrindex: str('nanoseconds') },
                attributeIndices: profileAttributeIndices,
                timeUnixNano: profile.timeUnixNano,
                durationNano: profile.durationNano,
                samples: [
                  {
                    stackIndex: 1,
                    linkIndex: profile.unlinked ? 0 : 1,
                    attributeIndices: profile.unlinked ? [] : [1],
                    values: profile.values,
                    timestampsUnixNano: timestamps,
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
    dictionary: {
      stringTable: strings,
      functionTable,
      locationTable,
      stackTable: [{}, { locationIndices }],
      linkTable: [{}, { traceId, spanId }],
      attributeTable,
    },
  };
  return { request, traceId, spanId };
}
