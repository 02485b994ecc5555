/**
 * What the processor sees of a sampling engine. The engine calls its handler on the main
 * thread, inside whatever JavaScript is running at the sampling instant, so the handler can
 * read the active OpenTelemetry context and capture the interrupted stack in one step.
 * Keeping the engine behind this interface leaves room for another one (for example V8's
 * CPU profiler with a context timeline) without touching attribution.
 */
export interface Sampler {
  /**
   * False when the environment refused what sampling needs (no inspector, no worker threads,
   * a processor created inside a worker thread): the processor then profiles nothing.
   */
  readonly enabled: boolean;
  /** One more reason to sample: sampling runs while acquisitions outnumber releases. */
  acquire(): void;
  /** Undo one {@link acquire}. Sampling stops when the count reaches zero. */
  release(): void;
  /** Mean interval between ticks while sampling ran, in nanoseconds. */
  readonly measuredIntervalNanos: number;
  readonly stats: SamplerStats;
  /** Stops sampling for good and releases the worker and the inspector session. */
  shutdown(): Promise<void>;
}

/** Counters of a sampler since it was created. Plain numbers: `JSON.stringify` works. */
export interface SamplerStats {
  /** Samples the handler was called for (probes that ran on the main thread). */
  readonly probes: number;
  /** Whether sampling is running now (at least one acquisition open). */
  readonly active: boolean;
  /** Nanoseconds during which sampling ran (at least one acquisition open). */
  readonly activeNanos: number;
  /** Ticks that sent no probe because the previous probe had not run yet (at most one is in flight). */
  readonly skippedTicks: number;
  /** Ticks that took no sample because the main thread was asleep (waiting for I/O or timers, or blocked). Linux only. */
  readonly offCpuTicks: number;
  /**
   * Ticks that took no sample because the main thread got (almost) no CPU since the last
   * probe: runnable but waiting for a core, or throttled by a CPU quota. Linux only.
   */
  readonly noCpuTicks: number;
  /** Whether samples carry the main thread's measured CPU time (Linux: /proc schedstat). */
  readonly cpuTimeMeasured: boolean;
  /** The tick rate in use now, in hertz: the configured rate, or lower where the overhead budget requires. */
  readonly tickRateHz: number;
  /** Probes' measured share of the main thread's time over the last second of sampling, in percent; null before the first measurement. */
  readonly overheadPercent: number | null;
  /** Estimated main-thread CPU per probe (inspector dispatch plus the probe's JavaScript), in microseconds; null before the first estimate. */
  readonly probeCostMicros: number | null;
}

/**
 * Called on the main thread for each sample: `hrNano` is when the probe ran (monotonic ns, see clock.ts),
 * `cpuNanos` the main thread's CPU time since the previous sample (0 where not measured).
 */
export type SampleHandler = (hrNano: number, cpuNanos: number) => void;
