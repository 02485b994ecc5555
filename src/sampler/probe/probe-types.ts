/**
 * Called on the main thread for each probe: `hrNano` is when the probe ran (monotonic ns, see
 * clock.ts), `cpuNanos` the main thread's CPU time since the previous sample (0 where not measured).
 */
export type ProbeHandler = (hrNano: number, cpuNanos: number) => void;

/** Counters of a {@link ProbeSampler} since it was created. Plain numbers: `JSON.stringify` works. */
export interface ProbeSamplerStats {
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
  /** Exceptions thrown by the handler inside a probe: swallowed (the probe runs inside the application's code), counted here. */
  readonly handlerErrors: number;
}
