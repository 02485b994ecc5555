/* Chrome DevTools `.cpuprofile` (the V8 CPU profile JSON), for DevTools, VS Code and speedscope. */
import type { FlatSample, Frame } from './profile-samples';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; scriptId: string; url: string; lineNumber: number; columnNumber: number };
  hitCount: number;
  children: number[];
}

/** The `.cpuprofile` JSON object. */
export interface CpuProfile {
  nodes: CpuProfileNode[];
  /** Microseconds. */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * Tools weigh each sample of a `.cpuprofile` by the time to the next one. The samples of span
 * profiles are spread over idle gaps and interleaved requests, so the timeline written here is
 * synthetic: samples keep their order, and each lasts exactly its CPU time (measured, or the
 * sampling period), so every tool's totals equal the profile's CPU time.
 */
export function toCpuProfile(frames: readonly Frame[], samples: readonly FlatSample[]): CpuProfile {
  const tree = new CallTree(frames);
  const events: { at: bigint; weightNanos: number; node: number }[] = [];
  for (const sample of samples) {
    const node = tree.nodeOf(sample.stack);
    if (sample.timestampsUnixNano.length === 0) {
      events.push({ at: 0n, weightNanos: sample.cpuNanos, node: node.id });
      node.hitCount += sample.count;
      continue;
    }
    for (let i = 0; i < sample.timestampsUnixNano.length; i++) {
      events.push({ at: sample.timestampsUnixNano[i], weightNanos: sample.weightsNanos[i] ?? 0, node: node.id });
      node.hitCount++;
    }
  }
  events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const firstAt = events.find((event) => event.at > 0n)?.at ?? 0n;
  const startTime = Number(firstAt / 1000n);
  const out: CpuProfile = { nodes: tree.nodes, startTime, endTime: startTime, samples: [], timeDeltas: [] };
  // Round the running total, not each delta, so rounding never accumulates.
  let elapsedNanos = 0;
  let previousMicros = 0;
  for (const event of events) {
    const micros = Math.round(elapsedNanos / 1000);
    out.samples.push(event.node);
    out.timeDeltas.push(micros - previousMicros);
    previousMicros = micros;
    elapsedNanos += event.weightNanos;
  }
  out.endTime = startTime + Math.round(elapsedNanos / 1000);
  return out;
}

/** The `.cpuprofile` call tree: one node per function on a path from the root, as V8 writes them. */
class CallTree {
  readonly nodes: CpuProfileNode[];
  private readonly _root: CpuProfileNode;
  private readonly _childIndex = new Map<string, number>();

  constructor(private readonly _frames: readonly Frame[]) {
    this._root = {
      id: 1,
      callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 },
      hitCount: 0,
      children: [],
    };
    this.nodes = [this._root];
  }

  /** The node of a stack (frame ids, outermost first), created with its path where new. */
  nodeOf(stack: readonly number[]): CpuProfileNode {
    let node = this._root;
    for (const frameId of stack) {
      const frame = this._frames[frameId];
      // One node per function on a path, as V8 writes them (lines would split a function).
      const key = `${node.id}\0${frame.name}\0${frame.file}`;
      let id = this._childIndex.get(key);
      if (id === undefined) {
        id = this.nodes.length + 1;
        this._childIndex.set(key, id);
        this.nodes.push({
          id,
          callFrame: {
            functionName: frame.name,
            scriptId: '0',
            url: frame.file,
            // V8 positions are 0-based; ours are 1-based with 0 = unknown.
            lineNumber: frame.line - 1,
            columnNumber: frame.column - 1,
          },
          hitCount: 0,
          children: [],
        });
        node.children.push(id);
      }
      node = this.nodes[id - 1];
    }
    return node;
  }
}
