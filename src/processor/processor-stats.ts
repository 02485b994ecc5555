import type { BatcherStats } from './profile-batcher';
import type { DropCounter, DropReason } from './drop-counter';
import type { SourceMapStats } from '../source-maps/source-maps';
import type { SamplerStats } from '../sampler/engine';

/**
 * A snapshot of a {@link ProfilingSpanProcessor}'s counters, from `processor.stats`. Counts are
 * since the processor was created. Plain numbers and booleans only, so `JSON.stringify(stats)`
 * (and `res.json(stats)`) works. docs/stats.md describes each field.
 */
export interface ProcessorStats {
  /**
   * Probes that ran on the main thread: one per sampling tick while profiling, except ticks
   * that found the main thread off the CPU (see {@link offCpuTicks}) or skipped (see {@link skippedTicks}).
   */
  readonly probes: number;
  /** Whether sampling runs now (at least one profiled root is open). */
  readonly samplingActive: boolean;
  /**
   * Nanoseconds during which at least one profiled root was open (sampling ran), as a JS number:
   * exact up to 2^53 ns (104 days of sampling), then rounded to the nearest representable value.
   */
  readonly activeNanos: number;
  /** Ticks that sent no probe because the previous one had not run yet (at most one probe is in flight). */
  readonly skippedTicks: number;
  /** Ticks that sent no probe because the main thread got (almost) no CPU since the last one: waiting for a core or throttled. Linux only. */
  readonly noCpuTicks: number;
  /** Whether samples carry the main thread's measured CPU time (Linux); elsewhere they are counts. */
  readonly cpuTimeMeasured: boolean;
  /** The sampler's tick rate now, in hertz: `samplingFrequencyHz`, or lower where `maxOverheadPercent` requires. */
  readonly tickRateHz: number;
  /** Probes' measured share of the main thread's time over the last second of sampling, in percent; null before the first measurement. */
  readonly overheadPercent: number | null;
  /** Estimated main-thread CPU per probe (inspector dispatch plus the probe's JavaScript), in microseconds; null before the first estimate. */
  readonly probeCostMicros: number | null;
  /**
   * Ticks that sent no probe because the main thread was asleep (waiting for I/O or timers, or
   * blocked in a synchronous call): it ran no code to sample. Linux only; elsewhere every tick probes.
   */
  readonly offCpuTicks: number;
  /** Samples charged to a profiled root (kept in its profile). */
  readonly samples: number;
  /**
   * Of {@link samples}, those whose active span was not recorded (a non-recording child span,
   * which the processor never sees start) and which were charged to the open profiled root of
   * the same trace.
   */
  readonly unrecordedSpanSamples: number;
  /** Probes that found no active span (untraced code, or the event loop between callbacks). */
  readonly idleProbes: number;
  /**
   * Probes whose active span belongs to no open profiled root: a root not chosen for profiling,
   * a root already closed, or one past the duration cap but not swept yet.
   */
  readonly otherProbes: number;
  /** Local roots chosen for profiling. */
  readonly profiledRoots: number;
  /** Profiled roots open now. */
  readonly openRoots: number;
  /** Profiled roots that ended (or were truncated) with at least one sample, and so became profiles. */
  readonly profiles: number;
  /** Profiled roots that ended with no sample: nothing is exported for them. */
  readonly emptyRoots: number;
  /** Profiles closed by the duration cap (or by shutdown) before their root ended. */
  readonly truncatedProfiles: number;
  /** Everything left out, by reason; see {@link DropReason} for what each one counts. */
  readonly dropped: Readonly<Record<DropReason, number>>;
  /** The export queue. */
  readonly export: BatcherStats;
  /** Source maps used at export; `undefined` when the `sourceMaps` option is false. */
  readonly sourceMaps: SourceMapStats | undefined;
}

/** The processor's own counters. */
export class ProfilerStats {
  samples = 0;
  unrecordedSpanSamples = 0;
  idleProbes = 0;
  otherProbes = 0;
  profiledRoots = 0;
  profiles = 0;
  emptyRoots = 0;
  truncatedProfiles = 0;

  constructor(readonly drops: DropCounter) {}

  snapshot(sampler: SamplerStats, openRoots: number, exportStats: BatcherStats, sourceMaps?: SourceMapStats): ProcessorStats {
    return {
      probes: sampler.probes,
      samplingActive: sampler.active,
      // Number() takes a bigint or a number, whichever the sampler reports.
      activeNanos: Number(sampler.activeNanos),
      skippedTicks: sampler.skippedTicks,
      noCpuTicks: sampler.noCpuTicks,
      cpuTimeMeasured: sampler.cpuTimeMeasured,
      tickRateHz: sampler.tickRateHz,
      overheadPercent: sampler.overheadPercent,
      probeCostMicros: sampler.probeCostMicros,
      offCpuTicks: sampler.offCpuTicks,
      samples: this.samples,
      unrecordedSpanSamples: this.unrecordedSpanSamples,
      idleProbes: this.idleProbes,
      otherProbes: this.otherProbes,
      profiledRoots: this.profiledRoots,
      openRoots,
      profiles: this.profiles,
      emptyRoots: this.emptyRoots,
      truncatedProfiles: this.truncatedProfiles,
      dropped: this.drops.snapshot(),
      export: exportStats,
      sourceMaps,
    };
  }
}
