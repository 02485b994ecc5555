/*
 * Hand-made span profiles for builder, encoder and exporter tests: small, synthetic, no sampler
 * involved. Frames are shared objects within one call, like the sampler's interned frames;
 * `copyFrames` makes equal frames distinct objects to exercise deduplication by contents.
 */
import type { ProfileFrame, ProfileResource, ProfileSample, ProfileStack, SpanProfile } from '../../src/profile/span-profile';

export const TRACE_ID = '5b8efff798038103d269b633813fc60c';
export const ROOT_SPAN_ID = 'eee19b7ec3c1b174';
export const CHILD_SPAN_ID = 'e457b5a2e4d86bd1';
/** Needs all 64 bits: a JS number would round it. */
export const START_UNIX_NANO = 1764150000123456789n;
export const PERIOD_NANOS = 10_101_010;

export function frame(functionName: string, fileName: string, lineNumber: number, columnNumber: number): ProfileFrame {
  return { functionName, fileName, lineNumber, columnNumber };
}

/** A small app: main -> handle -> (query | render | anonymous callback). Stacks leaf first. */
export function appStacks(): { query: ProfileStack; render: ProfileStack; callback: ProfileStack; handle: ProfileStack } {
  const main = frame('main', '/app/index.js', 1, 1);
  const handle = frame('handle', '/app/server.js', 20, 3);
  const query = frame('query', '/app/db.js', 7, 14);
  const render = frame('render', '/app/view.js', 42, 9);
  const anonymous = frame('', '/app/view.js', 50, 22);
  return {
    handle: [handle, main],
    query: [query, handle, main],
    render: [render, handle, main],
    callback: [anonymous, render, handle, main],
  };
}

export function copyFrames(stack: ProfileStack): ProfileStack {
  return stack.map((f) => ({ ...f }));
}

/** A sample `offsetNanos` after START_UNIX_NANO, charged to `spanId`, standing for `cpuNanos` of CPU (0 = unmeasured). */
export function sample(offsetNanos: bigint, stack: ProfileStack, spanId = ROOT_SPAN_ID, cpuNanos = 0): ProfileSample {
  return { timeUnixNano: START_UNIX_NANO + offsetNanos, stack, spanId, cpuNanos };
}

/** A 100 ms profile of six samples over the `appStacks` stacks and two spans; `overrides` replace fields. */
export function spanProfile(overrides: Partial<SpanProfile> = {}): SpanProfile {
  const stacks = appStacks();
  const resource: ProfileResource = { attributes: { 'service.name': 'checkout', 'process.pid': 4242 } };
  return {
    traceId: TRACE_ID,
    rootSpanId: ROOT_SPAN_ID,
    rootSpanName: 'GET /cart',
    resource,
    startTimeUnixNano: START_UNIX_NANO,
    endTimeUnixNano: START_UNIX_NANO + 100_000_000n,
    periodNanos: 10_101_010.6,
    samples: [
      sample(1_000_000n, stacks.handle),
      sample(11_000_000n, stacks.query, CHILD_SPAN_ID),
      sample(21_000_000n, stacks.query, CHILD_SPAN_ID),
      sample(31_000_000n, stacks.render),
      sample(41_000_000n, stacks.callback),
      sample(51_000_000n, stacks.render),
    ],
    truncated: false,
    droppedSamples: 0,
    ...overrides,
  };
}

/**
 * A profile of `sampleCount` samples one period apart, alternating two stacks and two spans
 * (first the child span in `runQuery`); its root span name varies with `index`.
 */
export function makeProfile(index = 0, sampleCount = 3): SpanProfile {
  const handler = frame('handleRequest', '/app/server.js', 12, 5);
  const query = frame('runQuery', '/app/db.js', 40, 17);
  const samples = Array.from({ length: sampleCount }, (_, i) =>
    sample(BigInt(i * PERIOD_NANOS), i % 2 === 0 ? [query, handler] : [handler], i % 2 === 0 ? CHILD_SPAN_ID : ROOT_SPAN_ID),
  );
  return spanProfile({
    rootSpanName: `GET /items/${index}`,
    resource: { attributes: { 'service.name': 'exporter-test' } },
    endTimeUnixNano: START_UNIX_NANO + BigInt(sampleCount * PERIOD_NANOS),
    periodNanos: PERIOD_NANOS,
    samples,
  });
}

export function makeProfiles(count: number, sampleCount = 3): SpanProfile[] {
  return Array.from({ length: count }, (_, i) => makeProfile(i, sampleCount));
}
