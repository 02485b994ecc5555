/* The flame graph's data: samples merged into a call tree, in d3-flame-graph's { name, value, children } shape. */
import { functionLabel, type FlatSample, type Frame } from '../convert/profile-samples';

/** A node of the call tree; `value` includes the children's. */
export interface FlameNode {
  /** Function name and file base name, as drawn. */
  name: string;
  /** `name (full file path)`: the function's identity. */
  fn: string;
  value: number;
  samples: number;
  children: FlameNode[];
}

/** Merges the samples' stacks by function; values are CPU nanoseconds. */
export function flameTree(frames: readonly Frame[], samples: readonly FlatSample[], rootName = 'all'): FlameNode {
  const root: FlameNode = { name: rootName, fn: rootName, value: 0, samples: 0, children: [] };
  const index = new Map<FlameNode, Map<string, FlameNode>>();
  for (const sample of samples) {
    let node = root;
    node.value += sample.cpuNanos;
    node.samples += sample.count;
    for (const frameId of sample.stack) {
      const frame = frames[frameId];
      const fn = functionLabel(frame);
      let children = index.get(node);
      if (children === undefined) index.set(node, (children = new Map()));
      let child = children.get(fn);
      if (child === undefined) {
        const base = frame.file.split(/[\\/]/).pop() ?? '';
        child = {
          name: base ? `${frame.name || '(anonymous)'} (${base})` : frame.name || '(anonymous)',
          fn,
          value: 0,
          samples: 0,
          children: [],
        };
        children.set(fn, child);
        node.children.push(child);
      }
      child.value += sample.cpuNanos;
      child.samples += sample.count;
      node = child;
    }
  }
  return root;
}
