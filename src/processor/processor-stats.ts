import type { DiagLogger } from '@opentelemetry/api';
import type { BatcherStats } from './profile-batcher';
import type { SourceMapStats } from '../source-maps/source-maps';
import type { EngineStats } from '../sampler/engine';
import type { ContinuousStats } from './continuous-mode';

/**
 * Why data was left out, named after the cap (option) that refused it, or after the event.
 * One list for the whole pipeline: the processor's caps and the export queue's drops.
 * - `maxOpenProfiles`: a root was not profiled (counts roots).
 * - `maxSamplesPerProfile`: a sample was not kept (counts samples).
 * - `maxQueueSize`, `maxQueuedSamples`: a finished profile found the export queue full (counts profiles).
 * - `afterShutdown`: a profile finished after shutdown (counts profiles).
 * - `exportFailed`: an export call failed or timed out (counts the profiles it carried).
 * - `maxSamplesPerPeriod`, `maxStacksPerPeriod`: continuous mode, a sample was not kept (counts samples).
 */
export type DropReason =
  | 'maxOpenProfiles'
  | 'maxSamplesPerProfile'
  | 'maxQueueSize'
  | 'maxQueuedSamples'
  | 'afterShutdown'
  | 'exportFailed'
  | 'maxSamplesPerPeriod'
  | 'maxStacksPerPeriod';

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

/** What the warning of each reason's first drop says; the processor fills in its option values where a reason has one. */
export type DropExplanations = Readonly<Record<DropReason, string>>;

/** The wording without option values; a counter's own wording replaces any of them. */
const DEFAULT_EXPLANATIONS: DropExplanations = {
  maxOpenProfiles: 'too many profiled roots are open; more roots are not profiled',
  maxSamplesPerProfile: 'a profile reached its sample cap; later samples are dropped',
  maxQueueSize: 'the export queue is full; finished profiles are dropped',
  maxQueuedSamples: 'the export queue holds too many samples; finished profiles are dropped',
  afterShutdown: 'a profile finished after shutdown and is dropped',
  exportFailed: 'an export failed; its profiles are dropped',
  maxSamplesPerPeriod: 'a continuous period reached its sample cap; later samples are dropped',
  maxStacksPerPeriod: 'a continuous period reached its stack cap; samples with new stacks are dropped',
};

/**
 * The one drop counter of a processor, shared with its export queue. Counting never logs, so
 * it is safe inside the probe (which runs inside the application's interrupted code); the
 * first drop of each reason is logged once by {@link logPending}, which callers run outside it.
 */
export class DropCounter {
  private readonly _counts: Record<DropReason, number> = {
    maxOpenProfiles: 0,
    maxSamplesPerProfile: 0,
    maxQueueSize: 0,
    maxQueuedSamples: 0,
    afterShutdown: 0,
    exportFailed: 0,
    maxSamplesPerPeriod: 0,
    maxStacksPerPeriod: 0,
  };
  private readonly _logged = new Set<DropReason>();
  private _pending = false;
  private readonly _explanations: DropExplanations;

  constructor(
    private readonly _logger: DiagLogger,
    explanations: Partial<DropExplanations> = {},
  ) {
    this._explanations = { ...DEFAULT_EXPLANATIONS, ...explanations };
  }

  /** Counts `count` drops. Never logs: safe in the probe path. */
  count(reason: DropReason, count = 1): void {
    this._counts[reason] += count;
    if (!this._logged.has(reason)) this._pending = true;
  }

  /** Counts, then logs at once: for callers outside the probe (span hooks, timers, export callbacks). */
  countAndLog(reason: DropReason, count = 1): void {
    this.count(reason, count);
    this.logPending();
  }

  /** One warning per reason, at its first drop. Never call it from the probe. */
  logPending(): void {
    if (!this._pending) return;
    this._pending = false;
    for (const reason of Object.keys(this._counts) as DropReason[]) {
      if (this._counts[reason] === 0 || this._logged.has(reason)) continue;
      this._logged.add(reason);
      this._logger.warn(`${this._explanations[reason]} (${reason}); further drops are counted in stats.dropped.${reason}`);
    }
  }

  /** Logs the totals, if anything was dropped (at shutdown). */
  logSummary(): void {
    this.logPending();
    const parts = (Object.keys(this._counts) as DropReason[])
      .filter((reason) => this._counts[reason] > 0)
      .map((reason) => `${this._counts[reason]} ${reason}`);
    if (parts.length > 0) this._logger.warn(`dropped in total: ${parts.join(', ')}`);
  }

  snapshot(): Record<DropReason, number> {
    return { ...this._counts };
  }
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

  snapshot(engine: EngineStats, openRoots: number, exportStats: BatcherStats, sourceMaps?: SourceMapStats, continuous?: ContinuousStats): ProcessorStats {
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
