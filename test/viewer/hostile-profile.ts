/*
 * Hand-made OTLP JSON profiles requests for the viewer's hostile-input tests: the point of each is
 * a value no profiler sends (a huge sample value, a function name full of RegExp syntax, thousands
 * of distinct frames), so they are written out rather than sampled.
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
}

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
  const timestamps = profile.values.map((_, i) => String(BigInt(Date.now()) * 1_000_000n + BigInt(i) * 10_000_000n));
  const request = {
    resourceProfiles: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'hostile-input' } }] },
        scopeProfiles: [
          {
            profiles: [
              {
                sampleType: { typeStrindex: str('cpu'), unitStrindex: str('nanoseconds') },
                samples: [
                  {
                    stackIndex: 1,
                    linkIndex: 1,
                    attributeIndices: [1],
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
      attributeTable: [{}, { keyStrindex: str('span_name'), value: { stringValue: profile.rootSpanName ?? 'GET /hostile' } }],
    },
  };
  return { request, traceId, spanId };
}
