import type { DiagLogger } from '@opentelemetry/api';
import type { BatcherStats } from './exporter/profile-batcher';
import type { SamplerStats } from './sampler/sampler';


/** Why a root or a sample was left out. */
export type DropReason = 'maxOpenProfiles' | 'maxSamplesPerProfile';

/**
 * A snapshot of a {@link ProfilingSpanProcessor}'s counters, from `processor.stats`.
 * Counts are since the processor was created.
 */
export interface ProcessorStats {
  /**
   * Probes that ran on the main thread: one per sampling tick while profiling, except ticks
   * that found the main thread off the CPU (see {@link offCpuTicks}).
   */
  readonly probes: number;
  /** Whether sampling runs now (at least one profiled root is open). */
  readonly samplingActive: boolean;
  /** Nanoseconds during which at least one profiled root was open (sampling ran). */
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
  /** Samples charged to a profiled root's span. */
  readonly samples: number;
  /** Probes that found no active span (untraced code, or the event loop between callbacks). */
  readonly idleProbes: number;
  /** Probes whose active span belongs to no open profiled root. */
  readonly otherProbes: number;
  /** Local roots chosen for profiling. */
  readonly profiledRoots: number;
  /** Profiled roots open now. */
  readonly openRoots: number;
  /** Profiled roots that ended with at least one sample (and so became profiles). */
  readonly profiles: number;
  /** Profiled roots that ended with no sample: nothing is exported for them. */
  readonly emptyRoots: number;
  /** Profiles closed by the duration cap (or by shutdown) before their root ended. */
  readonly truncatedProfiles: number;
  /** Roots not profiled and samples not kept, by cap. */
  readonly dropped: Readonly<Record<DropReason, number>>;
  /** The export queue. */
  readonly export: BatcherStats;
}

/** The processor's counters, with each drop reason logged once. */
export class ProfilerStats {
  samples = 0;
  idleProbes = 0;
  otherProbes = 0;
  profiledRoots = 0;
  profiles = 0;
  emptyRoots = 0;
  truncatedProfiles = 0;
  private readonly _dropped: Record<DropReason, number> = { maxOpenProfiles: 0, maxSamplesPerProfile: 0 };

  constructor(private readonly logger: DiagLogger) {}

  drop(reason: DropReason, message: string): void {
    if (this._dropped[reason]++ === 0) {
      this.logger.warn(`${message} (cap ${reason}); further drops are counted in stats.dropped.${reason}`);
    }
  }

  snapshot(
    sampler: SamplerStats,
    openRoots: number,
    exportStats: BatcherStats
  ): ProcessorStats {
    return {
      probes: sampler.probes,
      samplingActive: sampler.active,
      activeNanos: sampler.activeNanos,
      skippedTicks: sampler.skippedTicks,
      noCpuTicks: sampler.noCpuTicks,
      cpuTimeMeasured: sampler.cpuTimeMeasured,
      tickRateHz: sampler.tickRateHz,
      overheadPercent: sampler.overheadPercent,
      probeCostMicros: sampler.probeCostMicros,
      offCpuTicks: sampler.offCpuTicks,
      samples: this.samples,
      idleProbes: this.idleProbes,
      otherProbes: this.otherProbes,
      profiledRoots: this.profiledRoots,
      openRoots,
      profiles: this.profiles,
      emptyRoots: this.emptyRoots,
      truncatedProfiles: this.truncatedProfiles,
      dropped: { ...this._dropped },
      export: exportStats,
    };
  }
}
