import { context, diag, ROOT_CONTEXT } from '@opentelemetry/api';
import { ExportResultCode, globalErrorHandler, suppressTracing, type ExportResult } from '../shared/otel-core';
import { toError } from '../shared/errors';
import { checkNumber } from '../shared/option-checks';
import { settlesWithin } from '../shared/timeouts';
import { plural } from '../shared/wording';
import { DropCounter, type DropReason } from './drop-counter';
import type { SourceMapper } from '../source-maps/source-maps';
import type { SpanProfile } from '../profile/span-profile';
import type { ProfileExporter } from '../exporter/profile-exporter';

/** How {@link ProfileBatcher} queues and batches profiles; like the SDK's `BufferConfig`. */
export interface BatchOptions {
  /** Profiles waiting at most; later ones are dropped (counted). Default 2048. */
  maxQueueSize?: number;
  /**
   * Profiles per export call at most; a full batch is exported at once. Default 64: encoding runs
   * on the main thread, about 1 ms for 64 one-sample profiles (10 ms for 512).
   */
  maxExportBatchSize?: number;
  /** Longest wait before a partial batch is exported. Default 5000. */
  scheduledDelayMillis?: number;
  /** Time allowed for one export call, and for all of forceFlush or shutdown. Default 30000. */
  exportTimeoutMillis?: number;
  /**
   * Samples waiting at most, over all queued profiles; a profile that would pass it is dropped
   * (counted), unless the queue is empty. Bounds memory when the exporter is stuck. Default 100000.
   */
  maxQueuedSamples?: number;
}

/**
 * Counts kept by {@link ProfileBatcher}: `processor.stats.export`. Its drops are counted with the
 * processor's, in `processor.stats.dropped`. docs/stats.md is the one full description of each field.
 */
export interface BatcherStats {
  /** Profiles waiting now. */
  readonly queued: number;
  /** Samples in the profiles waiting now. */
  readonly queuedSamples: number;
  /** Profiles in export calls that succeeded. */
  readonly exported: number;
}

/** {@link BatchOptions} with defaults applied and values checked. */
export type ResolvedBatchOptions = Readonly<Required<BatchOptions>>;

const DEFAULTS: ResolvedBatchOptions = {
  maxQueueSize: 2048,
  maxExportBatchSize: 64,
  scheduledDelayMillis: 5000,
  exportTimeoutMillis: 30000,
  maxQueuedSamples: 100_000,
};

/**
 * Applies defaults and checks values, with the processor's policy for options given in code: a
 * wrong value throws a TypeError or RangeError naming the option (`batch.<name>`), what was
 * expected and the value.
 */
export function resolveBatchOptions(options: BatchOptions = {}): ResolvedBatchOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`ProfilingSpanProcessor: option "batch" must be an object, got ${String(options)}`);
  }
  const resolved = { ...DEFAULTS };
  for (const name of Object.keys(DEFAULTS) as (keyof BatchOptions)[]) {
    const value: unknown = options[name];
    if (value === undefined) continue;
    const integer = name === 'maxQueueSize' || name === 'maxExportBatchSize' || name === 'maxQueuedSamples';
    const min = name === 'scheduledDelayMillis' ? 0 : 1;
    resolved[name] = checkNumber(`ProfilingSpanProcessor: option "batch.${name}"`, value, min, Number.MAX_SAFE_INTEGER, integer);
  }
  return resolved;
}

type BatcherDropReason = Extract<DropReason, 'maxQueueSize' | 'maxQueuedSamples' | 'afterShutdown' | 'exportFailed'>;

/**
 * Queues finished profiles and hands them to an exporter in batches, one export at a time, the way
 * `BatchSpanProcessor` does for spans. Internal: the processor owns one.
 */
export class ProfileBatcher {
  private readonly _logger = diag.createComponentLogger({ namespace: 'otel-span-profiler/profile-batcher' });
  private readonly _maxQueueSize: number;
  private readonly _maxExportBatchSize: number;
  private readonly _scheduledDelayMillis: number;
  private readonly _exportTimeoutMillis: number;
  private readonly _maxQueuedSamples: number;
  private _queue: SpanProfile[] = [];
  private _queuedSamples = 0;
  private _exported = 0;
  private readonly _drops: DropCounter;
  private readonly _ownsDrops: boolean;
  private _exporting: Promise<void> | undefined;
  private _timer: NodeJS.Timeout | undefined;
  private _exportSoon = false;
  private _shutdown: Promise<void> | undefined;

  /**
   * @param options checked by {@link resolveBatchOptions}: a bad value throws
   * @param drops the processor's drop counter; a batcher used alone keeps its own and logs its totals at shutdown
   */
  constructor(
    private readonly _exporter: ProfileExporter,
    options: BatchOptions = {},
    drops?: DropCounter,
    private readonly _sourceMapper?: Pick<SourceMapper, 'mapProfiles'>,
  ) {
    const resolved = resolveBatchOptions(options);
    this._maxQueueSize = resolved.maxQueueSize;
    this._maxExportBatchSize = resolved.maxExportBatchSize;
    this._scheduledDelayMillis = resolved.scheduledDelayMillis;
    this._exportTimeoutMillis = resolved.exportTimeoutMillis;
    this._maxQueuedSamples = resolved.maxQueuedSamples;
    this._ownsDrops = drops === undefined;
    this._drops = drops ?? new DropCounter(this._logger);
    if (this._maxExportBatchSize > this._maxQueueSize) {
      // Contradictory, not wrong: corrected with a warning, as the SDK's BatchSpanProcessor does.
      this._logger.warn(
        `Configuration: maxExportBatchSize (${this._maxExportBatchSize}) is larger than maxQueueSize ` +
          `(${this._maxQueueSize}); using ${this._maxQueueSize}`,
      );
      this._maxExportBatchSize = this._maxQueueSize;
    }
  }

  get stats(): BatcherStats {
    return { queued: this._queue.length, queuedSamples: this._queuedSamples, exported: this._exported };
  }

  /** Queues a profile; never throws, never waits. */
  add(profile: SpanProfile): void {
    if (this._shutdown !== undefined) return this._drop('afterShutdown', 1);
    if (this._queue.length >= this._maxQueueSize) return this._drop('maxQueueSize', 1);
    const samples = profile.samples.length;
    if (this._queue.length > 0 && this._queuedSamples + samples > this._maxQueuedSamples) {
      return this._drop('maxQueuedSamples', 1);
    }
    this._queue.push(profile);
    this._queuedSamples += samples;
    this._schedule();
  }

  /** Exports everything queued now, in batches, within exportTimeoutMillis. Never rejects. */
  forceFlush(): Promise<void> {
    if (this._shutdown !== undefined) return this._shutdown;
    return this._flushAll('forceFlush');
  }

  /** Flushes, then shuts the exporter down. Runs once; later calls return the same promise. */
  shutdown(): Promise<void> {
    this._shutdown ??= this._flushAll('shutdown')
      .then(() => this._exporter.shutdown())
      .catch((error) => globalErrorHandler(error))
      .then(() => {
        if (this._ownsDrops) this._drops.logSummary();
      });
    return this._shutdown;
  }

  private _schedule(): void {
    if (this._exporting !== undefined || this._queue.length === 0) return;
    if (this._queue.length >= this._maxExportBatchSize) {
      // Soon, not now: add() runs inside the application's span.end(), and an export encodes
      // a whole batch.
      if (this._exportSoon) return;
      this._clearTimer();
      this._exportSoon = true;
      this._timer = setTimeout(() => {
        this._timer = undefined;
        this._exportSoon = false;
        if (this._exporting === undefined) this._startExport();
      }, 0);
      this._timer.unref();
    } else if (this._timer === undefined) {
      this._timer = setTimeout(() => {
        this._timer = undefined;
        if (this._exporting === undefined) this._startExport();
      }, this._scheduledDelayMillis);
      this._timer.unref();
    }
  }

  private _startExport(): void {
    this._clearTimer();
    const batch = this._queue.length <= this._maxExportBatchSize ? this._queue : this._queue.slice(0, this._maxExportBatchSize);
    this._queue = batch === this._queue ? [] : this._queue.slice(batch.length);
    for (const profile of batch) this._queuedSamples -= profile.samples.length;
    this._exporting = this._export(batch).then(() => {
      this._exporting = undefined;
      // While shutting down, _flushAll drives the exports; the timer would only race it.
      if (this._shutdown === undefined) this._schedule();
    });
  }

  private _export(batch: SpanProfile[]): Promise<void> {
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = (result: ExportResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (result.code === ExportResultCode.SUCCESS) {
          this._exported += batch.length;
        } else {
          this._drop('exportFailed', batch.length);
          globalErrorHandler(result.error ?? new Error(`export of ${plural(batch.length, 'profile')} failed`));
        }
        resolve();
      };
      const timer = setTimeout(() => {
        finish({
          code: ExportResultCode.FAILED,
          error: new Error(`export of ${plural(batch.length, 'profile')} timed out after ${this._exportTimeoutMillis} ms`),
        });
      }, this._exportTimeoutMillis);
      timer.unref();
      // The exporter's own HTTP calls must not become spans (and profiles) themselves.
      // And not in the context of whichever request's span.end() queued the last profile.
      const send = (profiles: SpanProfile[]) =>
        context.with(suppressTracing(ROOT_CONTEXT), () => {
          if (done) return;
          try {
            this._exporter.export(profiles, finish);
          } catch (error) {
            finish({ code: ExportResultCode.FAILED, error: toError(error) });
          }
        });
      // Source maps load asynchronously, within half the export time; mapProfiles never rejects.
      if (this._sourceMapper === undefined) send(batch);
      else
        void context
          .with(suppressTracing(ROOT_CONTEXT), () => this._sourceMapper!.mapProfiles(batch, this._exportTimeoutMillis / 2))
          .then(send);
    });
  }

  private async _flushAll(operation: string): Promise<void> {
    const drain = (): Promise<void> =>
      this._drain()
        .then(() => this._exporter.forceFlush?.())
        // Handled here, not after the race: a flush that lost the race may still fail later.
        .catch((error: unknown) => globalErrorHandler(toError(error)));
    // The deadline starts first: an export stuck in the drain times out at the same moment, and
    // the flush must still report that it did not finish.
    if (!(await settlesWithin(this._exportTimeoutMillis, drain))) {
      this._logger.warn(`${operation} did not finish within exportTimeoutMillis (${this._exportTimeoutMillis} ms)`);
    }
  }

  private async _drain(): Promise<void> {
    // Only what is queued now: profiles that keep arriving must not keep a flush going forever.
    let batches = Math.ceil(this._queue.length / this._maxExportBatchSize);
    await this._exportsDone();
    while (batches-- > 0 && this._queue.length > 0) {
      this._startExport();
      await this._exportsDone();
    }
  }

  /** Waits until no export is running (each one that ends may have scheduled the next). */
  private async _exportsDone(): Promise<void> {
    while (this._exporting !== undefined) await this._exporting;
  }

  // Never called from the probe: add() runs in span hooks and timers, the rest in export callbacks.
  private _drop(reason: BatcherDropReason, count: number): void {
    this._drops.countAndLog(reason, count);
  }

  private _clearTimer(): void {
    if (this._timer !== undefined) {
      clearTimeout(this._timer);
      this._timer = undefined;
    }
    this._exportSoon = false;
  }
}
