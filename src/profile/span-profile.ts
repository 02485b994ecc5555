import type { Attributes } from '@opentelemetry/api';

/**
 * One JavaScript frame as V8 reports it. Positions are 1-based; 0 means unknown
 * (V8's CallSite API is already 1-based, unlike the inspector's 0-based CallFrame).
 */
export interface ProfileFrame {
  /** Function name, `''` when V8 has none (anonymous function). */
  readonly functionName: string;
  /** Script path or URL, `''` for builtins. */
  readonly fileName: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
  /**
   * Set when the frame was source-mapped before export: the frame as V8 reported it, in the
   * generated script. The fields above then name the original source (see docs/source-maps.md).
   */
  readonly generated?: ProfileFrame;
}

/**
 * A call stack, innermost (leaf) frame first. Stacks and frames are interned by the
 * sampler, so equal stacks are usually the same object: builders may dedupe by
 * identity first, but must fall back to comparing contents.
 */
export type ProfileStack = readonly ProfileFrame[];

/** One CPU sample charged to a span. */
export interface ProfileSample {
  /** When the sample was taken, nanoseconds since the Unix epoch (exact, never a JS number). */
  readonly timeUnixNano: bigint;
  readonly stack: ProfileStack;
  /**
   * 16 hex chars: the span that was active when the sample was taken (the innermost one), or
   * the profiled root when the active span was not recorded. What the OTLP Link names is
   * {@link SpanProfile.sampleLinks}'s choice.
   */
  readonly spanId: string;
  /**
   * The main thread's CPU time this sample stands for, in nanoseconds: its CPU since the
   * previous sample, as measured by the sampler (Linux). 0 where not measured: then every
   * sample stands for one tick of the sampling interval.
   */
  readonly cpuNanos: number;
  /**
   * Process profiles only (continuous mode, see {@link SpanProfile.kind}): the profiled local
   * root the sample was charged to, which its Link names; absent for a sample taken with no
   * active span or under a span of no profiled root (it then carries no Link). Span profiles
   * leave it out: their root is the profile's.
   */
  readonly root?: SampleRoot;
}

/** The profiled local root of a process profile's sample: one object per root and period, shared by its samples. */
export interface SampleRoot {
  /** 32 hex chars. */
  readonly traceId: string;
  /** 16 hex chars: the local root span. */
  readonly spanId: string;
  /** The root's name when the period ended (or when the root ended, if earlier). */
  readonly name: string;
}

/** The resource of the spans a profile came from (the SDK's `Resource` satisfies this). */
export interface ProfileResource {
  readonly attributes: Attributes;
}

/**
 * The samples of one profiled local root span, handed to a {@link ProfileExporter} when the
 * root ends. Only roots that received at least one sample become a SpanProfile.
 */
export interface SpanProfile {
  /** 32 hex chars. */
  readonly traceId: string;
  /** 16 hex chars: the local root span. */
  readonly rootSpanId: string;
  readonly rootSpanName: string;
  readonly resource: ProfileResource;
  /** Start of the root's window, nanoseconds since the Unix epoch (monotonic clock, not Date.now()). */
  readonly startTimeUnixNano: bigint;
  /** End of the window: the root's end, or the duration cap when `truncated`. */
  readonly endTimeUnixNano: bigint;
  /** The measured mean interval between samples while sampling ran, in nanoseconds. */
  readonly periodNanos: number;
  /** Samples in time order. */
  readonly samples: readonly ProfileSample[];
  /** True when the profile was closed by the duration cap before the root ended. */
  readonly truncated: boolean;
  /** Samples dropped because the per-profile sample cap was hit. */
  readonly droppedSamples: number;
  /**
   * What each sample's OTLP Link names: `'local-root'`, the root span (and the active span goes
   * in the sample attribute `otel_span_profiler.active_span_id`), or `'active-span'`, the
   * sample's own span. The processor sets it from its `linkSamplesTo` option; absent means
   * `'active-span'`.
   */
  readonly sampleLinks?: 'local-root' | 'active-span';
  /**
   * `'span'` (absent means the same): the samples of one profiled root, as described above.
   * `'process'`: one period of continuous mode (docs/continuous.md), every sample of the process
   * in that period; `traceId`, `rootSpanId` and `rootSpanName` are then empty, and each sample's
   * {@link ProfileSample.root} says which root, if any, its Link names.
   */
  readonly kind?: 'span' | 'process';
}
