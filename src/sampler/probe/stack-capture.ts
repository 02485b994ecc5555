import type { ProfileFrame, ProfileStack } from '../../profile/span-profile';

/**
 * Frames and stack-trie nodes the interner keeps before it starts over. Profiles keep their own
 * references to frame and stack objects, so starting over only costs re-interning; it bounds
 * memory for processes whose code paths (eval, generated code) never repeat.
 */
const MAX_INTERNED_FRAMES = 20_000;
const MAX_STACK_NODES = 50_000;
/** Line and column make one number while the column is below this (2^21: safe up to 2^32 lines). */
const COLUMN_SPAN = 2 ** 21;

type CallSite = NodeJS.CallSite & { isAsync?(): boolean; isPromiseAll?(): boolean };

const structured = (_: Error, callSites: NodeJS.CallSite[]): NodeJS.CallSite[] => callSites;

/**
 * Captures the JavaScript stack under the probe and interns it, so that equal stacks are one
 * object and the per-sample cost after warm-up is a few map lookups.
 */
export class StackCapturer {
  // Per file, per position (one number), the frames seen there: usually one, more when
  // closures of one piece of code carry different names (computed keys, `name` set at run time).
  private _files = new Map<string, Map<number | string, FrameEntry>>();
  private _frameList: ProfileFrame[] = [];
  // Stacks by their frame ids, root first, as a trie: requests share their outer frames, and
  // a lookup costs one small map step per frame instead of building and hashing a string key.
  private _stackRoot: StackNode = newNode();
  private _stackNodes = 0;
  private readonly _ids: number[] = [];

  /**
   * @param maxDepth frames kept, counted from the leaf
   * @param probeUrl the `sourceURL` of the evaluated probe expression, whose frame is skipped
   */
  constructor(
    private readonly maxDepth: number,
    private readonly probeUrl: string,
  ) {}

  /**
   * The stack of the code that called `above`, leaf first. `above` and every frame over it
   * are left out, and so is the probe expression's own frame.
   */
  capture(above: Function): ProfileStack {
    const holder: { stack?: unknown } = {};
    // Restore both globals exactly, so user code and other tools never see our settings.
    const savedLimit = Error.stackTraceLimit;
    const savedPrepare = Error.prepareStackTrace;
    let callSites: CallSite[];
    try {
      // One more than kept: the probe expression's frame is dropped below.
      Error.stackTraceLimit = this.maxDepth + 1;
      Error.prepareStackTrace = structured;
      Error.captureStackTrace(holder, above);
      callSites = holder.stack as CallSite[];
    } finally {
      Error.prepareStackTrace = savedPrepare;
      Error.stackTraceLimit = savedLimit;
    }
    return this._intern(Array.isArray(callSites) ? callSites : []);
  }

  private _intern(callSites: CallSite[]): ProfileStack {
    // Start over before, never during, a stack: it is made of frame ids.
    if (this._frameList.length + this.maxDepth > MAX_INTERNED_FRAMES || this._stackNodes + this.maxDepth > MAX_STACK_NODES) {
      this._files = new Map();
      this._frameList = [];
      this._stackRoot = newNode();
      this._stackNodes = 0;
    }
    const ids = this._ids;
    ids.length = 0;
    for (let i = 0; i < callSites.length; i++) {
      const site = callSites[i];
      // Async frames are the await chain of the running function, not frames on the CPU.
      if (site.isAsync?.()) continue;
      const fileName = site.getScriptNameOrSourceURL() ?? '';
      // The probe expression is the top frame under the probe.
      if (i === 0 && fileName === this.probeUrl) continue;
      if (ids.length === this.maxDepth) break;
      ids.push(this._frameId(site, fileName));
    }
    let node = this._stackRoot;
    for (let i = ids.length - 1; i >= 0; i--) {
      const children = (node.children ??= new Map());
      let child = children.get(ids[i]);
      if (child === undefined) {
        child = newNode();
        children.set(ids[i], child);
        this._stackNodes++;
      }
      node = child;
    }
    node.stack ??= Object.freeze(ids.map((id) => this._frameList[id]));
    return node.stack;
  }

  private _frameId(site: CallSite, fileName: string): number {
    const functionName = site.getFunctionName() ?? site.getMethodName() ?? '';
    const lineNumber = site.getLineNumber() ?? 0;
    const columnNumber = site.getColumnNumber() ?? 0;
    let positions = this._files.get(fileName);
    if (positions === undefined) {
      positions = new Map();
      this._files.set(fileName, positions);
    }
    const position = columnNumber < COLUMN_SPAN ? lineNumber * COLUMN_SPAN + columnNumber : `${lineNumber}:${columnNumber}`;
    const first = positions.get(position);
    for (let entry = first; entry !== undefined; entry = entry.next) {
      if (entry.functionName === functionName) return entry.id;
    }
    const id = this._frameList.length;
    this._frameList.push(Object.freeze({ functionName, fileName, lineNumber, columnNumber }));
    positions.set(position, { id, functionName, next: first });
    return id;
  }
}

interface FrameEntry {
  readonly id: number;
  readonly functionName: string;
  readonly next: FrameEntry | undefined;
}

interface StackNode {
  children: Map<number, StackNode> | undefined;
  stack: ProfileStack | undefined;
}

function newNode(): StackNode {
  return { children: undefined, stack: undefined };
}
