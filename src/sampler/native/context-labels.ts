import { createHook, type AsyncHook } from 'node:async_hooks';
import { context, trace, type Context, type ContextManager, type Span } from '@opentelemetry/api';
import type { WallProfiler } from './pprof-addon';

/** Where @opentelemetry/api 1.x keeps its global context manager (every copy of the API shares it). */
const API_GLOBAL_KEY = Symbol.for('opentelemetry.js.api.1');

type WithFn = ContextManager['with'];
/** `with` as called here: loosely typed, the arguments are passed through unchanged. */
type LooseWith = (this: ContextManager, ctx: Context, fn: unknown, thisArg?: unknown, ...args: unknown[]) => unknown;

/**
 * Keeps the native profiler's label equal to the innermost active span, so that each sample
 * names it. The label is the Span object itself (or undefined): the processor finds its root
 * when the batch arrives.
 *
 * Two modes, as the addon allows:
 * - AsyncContextFrame (Node 24; 22 with `--experimental-async-context-frame`): the label lives in
 *   the async context frame, so continuations inherit it. It is set inside each `context.with()`
 *   callback (the frame that `with` entered) and set again after `with` returns: Node restores
 *   the outer frame by copying the inner one, label included (without that, 80.9% of samples
 *   were exact instead of 100%).
 * - Elsewhere: one global label, rewritten from an async_hooks `before` hook (each callback, each
 *   promise continuation) and on each entry into and return from `context.with()`.
 *
 * Context entries are learned by wrapping the `with` method of the global context manager
 * instance (all of `context.with`, `startActiveSpan` and `bind` go through it). The manager can be
 * replaced (`context.setGlobalContextManager`): {@link refresh} wraps the new one.
 */
export class ContextLabels {
  private _on = false;
  private _hook: AsyncHook | undefined;
  private _manager: ContextManager | undefined;
  private _original: WithFn | undefined;
  private _hadOwnWith = false;
  /** Global mode: the label last written to the addon (each write is a call into it). */
  private _last: Span | undefined;

  constructor(
    private readonly _profiler: WallProfiler,
    private readonly _asyncContextFrame: boolean,
  ) {}

  /** Starts labelling: wraps the context manager and, without AsyncContextFrame, hooks callbacks. */
  enable(): void {
    this._on = true;
    this.refresh();
    if (!this._asyncContextFrame) {
      // eslint-disable-next-line @typescript-eslint/no-this-alias
      const labels = this;
      this._hook ??= createHook({
        before() {
          // Runs before every callback and promise continuation of the process: the manager is
          // read directly, not through the API's global lookup, and the addon is told only of a
          // change (consecutive continuations mostly belong to one request).
          labels._setGlobal(labels._manager === undefined ? trace.getSpan(context.active()) : trace.getSpan(labels._manager.active()));
        },
      });
      this._hook.enable();
    }
    this._set(trace.getSpan(context.active()));
  }

  /** The label now (global mode: written to the addon only when it changes). */
  private _set(span: Span | undefined): void {
    if (this._asyncContextFrame) this._profiler.context = span;
    else this._setGlobal(span);
  }

  private _setGlobal(span: Span | undefined): void {
    if (span === this._last) return;
    this._last = span;
    this._profiler.context = span;
  }

  /** Stops labelling: the hook is disabled and the wrapped `with` only passes through. */
  disable(): void {
    this._on = false;
    this._hook?.disable();
    this._last = undefined;
  }

  /** Wraps the global context manager if it is not the one wrapped already. Cheap: one lookup. */
  refresh(): void {
    const manager = globalContextManager();
    if (manager === this._manager || manager === undefined) return;
    this._unwrap();
    this._wrap(manager);
  }

  /** Restores the context manager's own `with` (at shutdown). */
  uninstall(): void {
    this.disable();
    this._unwrap();
  }

  private _wrap(manager: ContextManager): void {
    const original = manager.with as unknown as LooseWith;
    if (typeof original !== 'function') return;
    // The wrapper's own `this` is the context manager, so the labels object needs a name of its own.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const labels = this;
    const profiler = this._profiler;
    const acf = this._asyncContextFrame;
    const wrapped = function withLabel(
      this: ContextManager,
      ctx: Context,
      fn: (...args: unknown[]) => unknown,
      thisArg?: unknown,
      ...args: unknown[]
    ) {
      if (!labels._on) return original.call(this, ctx, fn, thisArg, ...args);
      const span: Span | undefined = trace.getSpan(ctx);
      try {
        if (!acf) {
          labels._setGlobal(span);
          return original.call(this, ctx, fn, thisArg, ...args);
        }
        // Set inside the callback: that is where the frame `with` entered is current.
        return original.call(
          this,
          ctx,
          function (this: unknown, ...inner: unknown[]) {
            profiler.context = span;
            return fn.apply(this, inner);
          },
          thisArg,
          ...args,
        );
      } finally {
        // Back in the outer context: its own span again (see the class comment for why in both modes).
        labels._set(trace.getSpan(this.active()));
      }
    } as WithFn;
    this._hadOwnWith = Object.prototype.hasOwnProperty.call(manager, 'with');
    try {
      (manager as { with: WithFn }).with = wrapped;
    } catch {
      // A frozen manager: labels then change at async boundaries only (counted as less exact).
      return;
    }
    this._manager = manager;
    this._original = original as unknown as WithFn;
  }

  private _unwrap(): void {
    const manager = this._manager;
    if (manager === undefined) return;
    this._manager = undefined;
    try {
      if (this._hadOwnWith) (manager as { with: WithFn }).with = this._original as WithFn;
      else delete (manager as { with?: WithFn }).with;
    } catch {
      // Nothing to restore on a manager that refuses it.
    }
    this._original = undefined;
  }
}

/** The context manager registered with @opentelemetry/api, if any. */
function globalContextManager(): ContextManager | undefined {
  const registry = (globalThis as Record<symbol, { context?: ContextManager } | undefined>)[API_GLOBAL_KEY];
  return registry?.context;
}
