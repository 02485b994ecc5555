import type { Span } from '@opentelemetry/api';
import type { ProfileFrame, ProfileStack } from '../../profile/span-profile';
import type { RawProfileNode, RawTimeProfile } from './pprof-addon';

/** Frames the interner keeps before it starts over (bounds memory where code paths never repeat). */
const MAX_INTERNED_FRAMES = 20_000;
/** V8's pseudo-nodes for time outside JavaScript: no code of the application ran. */
const IDLE_NODE_NAMES = new Set(['(idle)', '(program)']);

/** One sample read from a native profile, in time order after {@link readSamples}. */
export interface NativeSample {
  /** Monotonic ns (clock.ts). */
  readonly hrNano: number;
  readonly cpuNanos: number;
  /** The label: the innermost active span, or undefined (none, or idle). */
  readonly span: Span | undefined;
  readonly stack: ProfileStack;
}

/**
 * Turns V8's top-down tree into samples: each node's samples get the stack from the root to
 * that node (leaf first, at most `maxDepth` frames), one frozen array shared by all of them.
 * Frames are interned across rotations, so the same function is one object in every profile.
 */
export class NativeSampleReader {
  private _frames = new Map<string, ProfileFrame>();
  /** performance.timeOrigin in Unix microseconds: the addon's timestamps are Unix microseconds. */
  private readonly _originMicros = BigInt(Math.round(performance.timeOrigin * 1000));

  constructor(private readonly _maxDepth: number) {}

  /** The samples of `profile`, in time order. */
  readSamples(profile: RawTimeProfile): NativeSample[] {
    if (this._frames.size > MAX_INTERNED_FRAMES) this._frames = new Map();
    const out: NativeSample[] = [];
    const path: ProfileFrame[] = [];
    // Depth-first without recursion: deep stacks must not overflow ours. Each entry is a node
    // and the path length at which its frame goes.
    const pending: [RawProfileNode, number][] = [];
    for (const child of profile.topDownRoot.children) pending.push([child, 0]);
    // The root's own samples (if any) have no frame at all.
    this._emit(profile.topDownRoot, [], out, true);
    while (pending.length > 0) {
      const [node, depth] = pending.pop() as [RawProfileNode, number];
      path.length = depth;
      path.push(this._frame(node));
      const contexts = node.contexts;
      if (contexts !== undefined && contexts.length > 0) {
        const idle = IDLE_NODE_NAMES.has(node.name ?? '');
        this._emit(node, idle ? [] : this._stackOf(path), out, idle);
      }
      for (const child of node.children) pending.push([child, depth + 1]);
    }
    out.sort((a, b) => a.hrNano - b.hrNano);
    return out;
  }

  private _emit(node: RawProfileNode, stack: ProfileStack, out: NativeSample[], idle: boolean): void {
    for (const c of node.contexts ?? []) {
      const label = c.context;
      out.push({
        hrNano: Number(c.timestamp - this._originMicros) * 1000,
        cpuNanos: c.cpuTime ?? 0,
        // An idle sample ran no code of the span whose label was current (the label is stale between callbacks).
        span: idle || label === null || typeof label !== 'object' ? undefined : (label as Span),
        stack,
      });
    }
  }

  /** Leaf first, the leaf-most `maxDepth` frames. */
  private _stackOf(path: readonly ProfileFrame[]): ProfileStack {
    const start = Math.max(0, path.length - this._maxDepth);
    const stack: ProfileFrame[] = [];
    for (let i = path.length - 1; i >= start; i--) stack.push(path[i]);
    return Object.freeze(stack);
  }

  private _frame(node: RawProfileNode): ProfileFrame {
    const functionName = node.name ?? '';
    const fileName = node.scriptName ?? '';
    const lineNumber = node.lineNumber ?? 0;
    const columnNumber = node.columnNumber ?? 0;
    const key = `${lineNumber}:${columnNumber}:${functionName}\0${fileName}`;
    let frame = this._frames.get(key);
    if (frame === undefined) {
      frame = Object.freeze({ functionName, fileName, lineNumber, columnNumber });
      this._frames.set(key, frame);
    }
    return frame;
  }
}
