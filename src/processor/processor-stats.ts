import type { BatcherStats } from './profile-batcher';
import type { DropCounter, DropReason } from './drop-counter';
import type { SourceMapStats } from '../source-maps/source-maps';
import type { EngineStats } from '../sampler/engine';
import type { ContinuousStats } from './continuous-mode';

/**
 * A snapshot of a {@link ProfilingSpanProcessor}'s counters, from `processor.stats`. Counts are
 * since the processor was created. Plain numbers and booleans only, so `JSON.stringify(stats)`
 * (and `res.json(stats)`) works. docs/stats.md describes each field.
 */
export interface ProcessorStats {
  /** The sampling engine: which one, why, and its own counters (see {@link EngineStats}). */
  readonly engine: EngineStats;
  /** Samples charged to a profiled root (kept in its profile). */
  readonly samples: number;
  /**
   * Of {@link samples}, those whose active span was not recorded (a non-recording child span,
   * which the processor never sees start) and which were charged to the open profiled root of
   * the same trace.
   */
  readonly unrecordedSpanSamples: number;
  /** Samples that found no active span (untraced code, or the event loop between callbacks). */
  readonly idleProbes: number;
  /**
   * Samples whose active span belongs to no open profiled root: a root not chosen for profiling,
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
  /** Continuous mode's counters; absent in span mode (the `mode` option). */
  readonly continuous?: ContinuousStats;
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

  snapshot(
    engine: EngineStats,
    openRoots: number,
    exportStats: BatcherStats,
    sourceMaps?: SourceMapStats,
    continuous?: ContinuousStats,
  ): ProcessorStats {
    return {
      engine,
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
      // Absent, not undefined, in span mode: JSON.stringify(stats) round-trips.
      ...(continuous === undefined ? {} : { continuous }),
    };
  }
}
