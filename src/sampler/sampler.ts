/**
 * What the processor sees of a sampling engine. The engine calls its handler on the main
 * thread, inside whatever JavaScript is running at the sampling instant, so the handler can
 * read the active OpenTelemetry context and capture the interrupted stack in one step.
 * Keeping the engine behind this interface leaves room for another one (for example V8's
 * CPU profiler with a context timeline) without touching attribution.
 */
export interface Sampler {
  /** One more reason to sample: sampling runs while acquisitions outnumber releases. */
  acquire(): void;
  /** Undo one {@link acquire}. Sampling stops when the count reaches zero. */
  release(): void;
  /** Mean interval between samples actually taken while sampling ran, in nanoseconds. */
  readonly measuredIntervalNanos: number;
  readonly stats: SamplerStats;
  /** Stops sampling for good and releases the worker and the inspector session. */
  shutdown(): Promise<void>;
}

/** Counters of a sampler since it was created. */
export interface SamplerStats {
  /** Samples the handler was called for (probes that ran on the main thread). */
  readonly probes: number;
  /** Whether sampling is running now (at least one acquisition open). */
  readonly active: boolean;
  /** Nanoseconds during which sampling ran (at least one acquisition open). */
  readonly activeNanos: bigint;
  /** Ticks skipped because earlier probes still waited for a busy main thread. */
  readonly skippedTicks: number;
  /** Ticks that took no sample because the main thread was off the CPU (asleep or blocked). */
  readonly offCpuTicks: number;
}

/** Called on the main thread for each sample; `hrNano` is when the probe ran (monotonic ns). */
export type SampleHandler = (hrNano: bigint) => void;
