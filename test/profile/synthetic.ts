/*
 * Hand-made span profiles for builder and encoder tests. Frames are shared objects within one
 * call, like the sampler's interned frames; `copyFrames` makes equal frames distinct objects to
 * exercise deduplication by contents.
 */
import type { ProfileFrame, ProfileResource, ProfileSample, ProfileStack, SpanProfile } from '../../src/profile/span-profile';

export const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
export const ROOT_SPAN_ID = 'b7ad6b7169203331';
export const CHILD_SPAN_ID = '00f067aa0ba902b7';
export const START_UNIX_NANO = 1755000000000000000n;

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

export function sample(offsetNanos: bigint, stack: ProfileStack, spanId = ROOT_SPAN_ID, cpuNanos = 0): ProfileSample {
  return { timeUnixNano: START_UNIX_NANO + offsetNanos, stack, spanId, cpuNanos };
}

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
