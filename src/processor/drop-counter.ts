/*
 * The processor's one drop counter, shared with its export queue: why data was left out, by
 * reason, and the warning each reason logs once. A file of its own so that the export queue
 * (profile-batcher.ts) and the stats snapshot (processor-stats.ts) both import it and not each other.
 */
import type { DiagLogger } from '@opentelemetry/api';

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
