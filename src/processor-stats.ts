import type { DiagLogger } from '@opentelemetry/api';
import type { BatcherStats } from './exporter/profile-batcher';
import type { SourceMapStats } from './profile/source-maps';
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
  readonly activeNanos: bigint;
  /** Ticks skipped because earlier probes still waited for a busy main thread. */
  readonly skippedTicks: number;
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
  /** Source maps used at export; `undefined` when the `sourceMaps` option is false. */
  readonly sourceMaps: SourceMapStats | undefined;
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
    exportStats: BatcherStats,
    sourceMaps?: SourceMapStats
  ): ProcessorStats {
    return {
      probes: sampler.probes,
      samplingActive: sampler.active,
      activeNanos: sampler.activeNanos,
      skippedTicks: sampler.skippedTicks,
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
      sourceMaps,
    };
  }
}
