import type { ProfileFrame, ProfileStack } from '../profile/span-profile';

/**
 * Frames the interner keeps before it starts over. Profiles keep their own references to
 * frame and stack objects, so starting over only costs re-interning; it bounds memory for
 * processes whose code paths (eval, generated code) never repeat.
 */
const MAX_INTERNED_FRAMES = 20_000;
const MAX_INTERNED_STACKS = 20_000;

type CallSite = NodeJS.CallSite & { isAsync?(): boolean; isPromiseAll?(): boolean };

const structured = (_: Error, callSites: NodeJS.CallSite[]): NodeJS.CallSite[] => callSites;

/**
 * Captures the JavaScript stack under the probe and interns it, so that equal stacks are one
 * object and the per-sample cost after warm-up is a few map lookups.
 */
export class StackCapturer {
  private readonly _frames = new Map<string, number>();
  private readonly _frameList: ProfileFrame[] = [];
  private readonly _stacks = new Map<string, ProfileStack>();

  /**
   * @param maxDepth frames kept, counted from the leaf
   * @param probeUrl the `sourceURL` of the evaluated probe expression, whose frame is skipped
   */
  constructor(
    private readonly maxDepth: number,
    private readonly probeUrl: string
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
    // Start over before, never during, a stack: its key is made of frame ids.
    if (this._frameList.length + this.maxDepth > MAX_INTERNED_FRAMES) {
      this._frames.clear();
      this._frameList.length = 0;
      this._stacks.clear();
    }
    let key = '';
    const ids: number[] = [];
    for (let i = 0; i < callSites.length; i++) {
      const site = callSites[i];
      // Async frames are the await chain of the running function, not frames on the CPU.
      if (site.isAsync?.()) continue;
      const fileName = site.getScriptNameOrSourceURL() ?? '';
      // The probe expression is the top frame under the probe.
      if (i === 0 && fileName === this.probeUrl) continue;
      if (ids.length === this.maxDepth) break;
      const id = this._frameId(site, fileName);
      ids.push(id);
      key += id + ',';
    }
    let stack = this._stacks.get(key);
    if (stack === undefined) {
      if (this._stacks.size >= MAX_INTERNED_STACKS) this._stacks.clear();
      stack = Object.freeze(ids.map((id) => this._frameList[id]));
      this._stacks.set(key, stack);
    }
    return stack;
  }

  private _frameId(site: CallSite, fileName: string): number {
    // The name is part of the key even though the position fixes the code: closures of one
    // piece of code can carry different names (computed method keys, `name` set at run time).
    const functionName = site.getFunctionName() ?? site.getMethodName() ?? '';
    const lineNumber = site.getLineNumber() ?? 0;
    const columnNumber = site.getColumnNumber() ?? 0;
    const key = `${lineNumber}:${columnNumber}:${functionName}:${fileName}`;
    let id = this._frames.get(key);
    if (id === undefined) {
      id = this._frameList.length;
      this._frameList.push(Object.freeze({ functionName, fileName, lineNumber, columnNumber }));
      this._frames.set(key, id);
    }
    return id;
  }
}
