/* Gzipped pprof (profile.proto), written with the `pprof-format` package: `go tool pprof` reads it. */
import { gzipSync } from 'node:zlib';
import { Function as PprofFunction, Label, Line, Location, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import { SPAN_NAME_ATTRIBUTE } from '../otlp/attribute-names';
import type { FlatSample, Frame } from './profile-samples';

/**
 * One pprof profile with two sample types, `samples`/`count` and `cpu`/`nanoseconds` (the default:
 * measured CPU time, or count x period when the producer measured none). Each sample is labelled
 * `span_id` (its own span), `trace_id`, `local_root_span_id` (the link's span) and `span_name`.
 */
export function toPprof(frames: readonly Frame[], samples: readonly FlatSample[]): Buffer {
  const strings = new StringTable();
  const { functions, locations } = pprofLocations(frames, strings);
  const keys = {
    spanId: strings.dedup('span_id'),
    traceId: strings.dedup('trace_id'),
    rootSpanId: strings.dedup('local_root_span_id'),
    spanName: strings.dedup(SPAN_NAME_ATTRIBUTE),
  };
  let first: bigint | undefined;
  let last: bigint | undefined;
  let totalCount = 0;
  let totalCpu = 0;
  const pprofSamples = samples.map((sample) => {
    for (const ts of sample.timestampsUnixNano) {
      if (first === undefined || ts < first) first = ts;
      if (last === undefined || ts > last) last = ts;
    }
    totalCount += sample.count;
    totalCpu += sample.cpuNanos;
    const label: Label[] = [];
    if (sample.spanId) label.push(new Label({ key: keys.spanId, str: strings.dedup(sample.spanId) }));
    if (sample.traceId) label.push(new Label({ key: keys.traceId, str: strings.dedup(sample.traceId) }));
    if (sample.linkSpanId) label.push(new Label({ key: keys.rootSpanId, str: strings.dedup(sample.linkSpanId) }));
    if (sample.rootSpanName) label.push(new Label({ key: keys.spanName, str: strings.dedup(sample.rootSpanName) }));
    return new Sample({
      // pprof lists a stack leaf first.
      locationId: sample.stack.map((id) => id + 1).reverse(),
      value: [sample.count, Math.round(sample.cpuNanos)],
      label,
    });
  });
  const profile = new Profile({
    sampleType: [
      new ValueType({ type: strings.dedup('samples'), unit: strings.dedup('count') }),
      new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }),
    ],
    sample: pprofSamples,
    location: locations,
    function: functions,
    periodType: new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }),
    period: totalCount > 0 ? Math.round(totalCpu / totalCount) : 0,
    timeNanos: first ?? 0n,
    durationNanos: first !== undefined && last !== undefined ? last - first : 0,
    defaultSampleType: strings.dedup('cpu'),
    stringTable: strings,
  });
  return gzipSync(profile.encode());
}

/**
 * One pprof Location per frame (frame id n becomes location id n + 1: pprof ids start at 1), and
 * one Function per name and file.
 */
function pprofLocations(frames: readonly Frame[], strings: StringTable): { functions: PprofFunction[]; locations: Location[] } {
  const functionIds = new Map<string, number>();
  const functions: PprofFunction[] = [];
  const locations: Location[] = [];
  for (const [index, frame] of frames.entries()) {
    const key = `${frame.name}\0${frame.file}`;
    let functionId = functionIds.get(key);
    if (functionId === undefined) {
      functionId = functions.length + 1;
      functionIds.set(key, functionId);
      functions.push(
        new PprofFunction({
          id: functionId,
          name: strings.dedup(frame.name || '(anonymous)'),
          systemName: strings.dedup(frame.name),
          filename: strings.dedup(frame.file),
        }),
      );
    }
    locations.push(new Location({ id: index + 1, line: [new Line({ functionId, line: frame.line, column: frame.column })] }));
  }
  return { functions, locations };
}
