import type { ProfileFrame, ProfileSample, SpanProfile } from '../../src/profile/span-profile';

/** Hand-made SpanProfiles for exporter tests: small, synthetic, no sampler involved. */

export const TRACE_ID = '5b8efff798038103d269b633813fc60c';
export const ROOT_SPAN_ID = 'eee19b7ec3c1b174';
export const CHILD_SPAN_ID = 'e457b5a2e4d86bd1';
/** Needs all 64 bits: a JS number would round it. */
export const START_UNIX_NANO = 1764150000123456789n;
export const PERIOD_NANOS = 10_101_010;

const handler: ProfileFrame = { functionName: 'handleRequest', fileName: '/app/server.js', lineNumber: 12, columnNumber: 5 };
const query: ProfileFrame = { functionName: 'runQuery', fileName: '/app/db.js', lineNumber: 40, columnNumber: 17 };

/** A profile of `sampleCount` samples, alternating two stacks and two spans; names vary with `index`. */
export function makeProfile(index = 0, sampleCount = 3): SpanProfile {
  const samples: ProfileSample[] = [];
  for (let i = 0; i < sampleCount; i++) {
    samples.push({
      timeUnixNano: START_UNIX_NANO + BigInt(i * PERIOD_NANOS),
      stack: i % 2 === 0 ? [query, handler] : [handler],
      spanId: i % 2 === 0 ? CHILD_SPAN_ID : ROOT_SPAN_ID,
      cpuNanos: 0,
    });
  }
  return {
    traceId: TRACE_ID,
    rootSpanId: ROOT_SPAN_ID,
    rootSpanName: `GET /items/${index}`,
    resource: { attributes: { 'service.name': 'exporter-test' } },
    startTimeUnixNano: START_UNIX_NANO,
    endTimeUnixNano: START_UNIX_NANO + BigInt(sampleCount * PERIOD_NANOS),
    periodNanos: PERIOD_NANOS,
    samples,
    truncated: false,
    droppedSamples: 0,
  };
}

export function makeProfiles(count: number, sampleCount = 3): SpanProfile[] {
  return Array.from({ length: count }, (_, i) => makeProfile(i, sampleCount));
}
