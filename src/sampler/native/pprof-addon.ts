import { AsyncLocalStorage } from 'node:async_hooks';
import { isMainThread } from 'node:worker_threads';
import { describeError } from '../../shared/errors';

/**
 * The one file that touches `@datadog/pprof` (STYLE.md rule 9): it loads the addon lazily,
 * inside a try/catch, and hands out typed wrappers. Nothing else imports the package, so a
 * missing build, a bundle that left the `.node` file behind, or a permission model that refuses
 * addons is one caught error here, and the processor falls back to the probe engine.
 *
 * We use the addon's `TimeProfiler` class, not the package's `time.*` functions: those keep one
 * profiler in a module-level variable and serialize every rotation to pprof, whereas the raw
 * profile tree carries what we need (each sample's label, time and CPU time) at no extra cost.
 */

/** One sample on a node of V8's profile tree, as the addon reports it. */
export interface RawSampleContext {
  /** The label set by {@link WallProfiler.context} when the sample was taken. */
  readonly context?: unknown;
  /** When the sample was taken, microseconds since the Unix epoch. */
  readonly timestamp: bigint;
  /** The main thread's CPU time since the previous sample, in nanoseconds (with `collectCpuTime`). */
  readonly cpuTime?: number;
}

/** A node of V8's top-down profile tree: one function at one position under its callers. */
export interface RawProfileNode {
  readonly name?: string;
  readonly scriptName: string;
  /** 1-based line of the function (the profiler runs without line-level detail). */
  readonly lineNumber?: number;
  /** 1-based column of the function. */
  readonly columnNumber?: number;
  readonly children: readonly RawProfileNode[];
  readonly contexts?: readonly RawSampleContext[];
}

/** A profile read at a rotation. */
export interface RawTimeProfile {
  readonly topDownRoot: RawProfileNode;
  readonly hasCpuTime?: boolean;
}

/** V8's signal-based profiler with span labels, one per process (the addon refuses a second one). */
export interface WallProfiler {
  start(): void;
  /** Ends the profile and returns it; with `restart`, a new one begins at once. */
  stop(restart: boolean): RawTimeProfile;
  dispose(): void;
  /** The label stamped on samples from now on (in the current async context frame where those are used). */
  context: unknown;
}

/** What the native engine gets from the addon. */
export interface NativeAddon {
  /** Whether labels live in Node's AsyncContextFrame (Node 24, or 22 with `--experimental-async-context-frame`). */
  readonly asyncContextFrame: boolean;
  /** Samples taken by a running profiler since its profile began. */
  sampleCount(profiler: WallProfiler): number;
  /** A profiler labelled with span contexts and the thread's CPU time; not started. */
  createProfiler(intervalMicros: number): WallProfiler;
}

/** The addon, or why it cannot serve. */
export type AddonLoad = { readonly addon: NativeAddon } | { readonly error: string };

interface Bindings {
  readonly TimeProfiler: new (options: Record<string, unknown>) => WallProfiler & { readonly state: Uint32Array };
  readonly constants: { readonly kSampleCount: number };
}

/**
 * Loads the addon. Never throws: every refusal comes back as a reason in words. Checked first:
 * Windows (its build has no labels), a worker thread (the processor samples the main thread only).
 */
export function loadNativeAddon(): AddonLoad {
  if (process.platform === 'win32')
    return { error: "@datadog/pprof's Windows build stamps no labels on samples, so they cannot be charged to spans" };
  if (!isMainThread) return { error: 'a worker thread (the native engine samples the main thread only)' };
  try {
    // Literal paths, so bundlers see them; a bundle without the .node file throws here.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bindings = require('@datadog/pprof/out/src/time-profiler-bindings') as Bindings;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const acf = require('@datadog/pprof/out/src/async-context-frame') as { isAsyncContextFrameActive(): boolean };
    if (typeof bindings.TimeProfiler !== 'function') return { error: '@datadog/pprof has no TimeProfiler (an unsupported version)' };
    const asyncContextFrame = acf.isAsyncContextFrameActive() === true;
    const sampleIndex = bindings.constants.kSampleCount;
    const TimeProfiler = bindings.TimeProfiler;
    return {
      addon: {
        asyncContextFrame,
        sampleCount: (profiler) => (profiler as WallProfiler & { readonly state: Uint32Array }).state[sampleIndex] ?? 0,
        createProfiler: (intervalMicros) =>
          new TimeProfiler({
            intervalMicros,
            durationMillis: 60_000,
            lineNumbers: false,
            withContexts: true,
            // ~1 ms rotations instead of 15-19 ms (a full stop and start of V8's profiler each time).
            workaroundV8Bug: false,
            collectCpuTime: true,
            collectAsyncId: false,
            useCPED: asyncContextFrame,
            CPEDKey: asyncContextFrame ? new AsyncLocalStorage() : undefined,
            isMainThread: true,
          }),
      },
    };
  } catch (err) {
    return { error: describeError(err) };
  }
}
