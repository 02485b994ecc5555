import { context, diag, ROOT_CONTEXT } from '@opentelemetry/api';
import { ExportResultCode, globalErrorHandler, suppressTracing, type ExportResult } from '@opentelemetry/core';
import type { SourceMapper } from '../profile/source-maps';
import type { SpanProfile } from '../profile/span-profile';
import type { ProfileExporter } from './profile-exporter';

/** How {@link ProfileBatcher} queues and batches profiles; like the SDK's `BufferConfig`. */
export interface BatchOptions {
  /** Profiles waiting at most; later ones are dropped (counted). Default 2048. */
  maxQueueSize?: number;
  /** Profiles per export call at most; a full batch is exported at once. Default 512. */
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

/** Counts kept by {@link ProfileBatcher}; `dropped` is the sum of `droppedByReason`. */
export interface BatcherStats {
  /** Profiles waiting now. */
  readonly queued: number;
  /** Samples in the profiles waiting now. */
  readonly queuedSamples: number;
  /** Profiles in export calls that succeeded. */
  readonly exported: number;
  readonly dropped: number;
  readonly droppedByReason: {
    /** The queue held maxQueueSize profiles. */
    readonly queueFull: number;
    /** The queue held maxQueuedSamples samples. */
    readonly sampleCap: number;
    /** add() after shutdown(). */
    readonly afterShutdown: number;
    /** The export call failed or timed out. */
    readonly exportFailed: number;
  };
}

type DropReason = keyof BatcherStats['droppedByReason'];

const DEFAULTS = {
  maxQueueSize: 2048,
  maxExportBatchSize: 512,
  scheduledDelayMillis: 5000,
  exportTimeoutMillis: 30000,
  maxQueuedSamples: 100_000,
} as const;

const DROP_EXPLANATIONS: Record<DropReason, string> = {
  queueFull: 'the queue is full (maxQueueSize)',
  sampleCap: 'the queue holds too many samples (maxQueuedSamples)',
  afterShutdown: 'the batcher is shut down',
  exportFailed: 'an export failed',
};

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
  private readonly _dropped: Record<DropReason, number> = { queueFull: 0, sampleCap: 0, afterShutdown: 0, exportFailed: 0 };
  private _exporting: Promise<void> | undefined;
  private _timer: NodeJS.Timeout | undefined;
  private _exportSoon = false;
  private _shutdown: Promise<void> | undefined;

  constructor(
    private readonly _exporter: ProfileExporter,
    options: BatchOptions = {},
    private readonly _sourceMapper?: Pick<SourceMapper, 'mapProfiles'>,
  ) {
    this._maxQueueSize = this._option(options, 'maxQueueSize', isPositiveInteger, 'a positive integer');
    this._maxExportBatchSize = this._option(options, 'maxExportBatchSize', isPositiveInteger, 'a positive integer');
    this._scheduledDelayMillis = this._option(options, 'scheduledDelayMillis', isNonNegativeNumber, 'a number >= 0');
    this._exportTimeoutMillis = this._option(options, 'exportTimeoutMillis', isPositiveNumber, 'a number > 0');
    this._maxQueuedSamples = this._option(options, 'maxQueuedSamples', isPositiveInteger, 'a positive integer');
    if (this._maxExportBatchSize > this._maxQueueSize) {
      this._logger.warn(
        `Configuration: maxExportBatchSize (${this._maxExportBatchSize}) is larger than maxQueueSize ` +
          `(${this._maxQueueSize}); using ${this._maxQueueSize}`,
      );
      this._maxExportBatchSize = this._maxQueueSize;
    }
  }

  get stats(): BatcherStats {
    const d = this._dropped;
    return {
      queued: this._queue.length,
      queuedSamples: this._queuedSamples,
      exported: this._exported,
      dropped: d.queueFull + d.sampleCap + d.afterShutdown + d.exportFailed,
      droppedByReason: { ...d },
    };
  }

  /** Queues a profile; never throws, never waits. */
  add(profile: SpanProfile): void {
    if (this._shutdown !== undefined) return this._drop('afterShutdown', 1);
    if (this._queue.length >= this._maxQueueSize) return this._drop('queueFull', 1);
    const samples = profile.samples.length;
    if (this._queue.length > 0 && this._queuedSamples + samples > this._maxQueuedSamples) {
      return this._drop('sampleCap', 1);
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
      .catch(error => globalErrorHandler(error))
      .then(() => this._logDropSummary());
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
    return new Promise<void>(resolve => {
      let done = false;
      const finish = (result: ExportResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (result.code === ExportResultCode.SUCCESS) {
          this._exported += batch.length;
        } else {
          this._drop('exportFailed', batch.length);
          globalErrorHandler(result.error ?? new Error(`export of ${profileCount(batch.length)} failed`));
        }
        resolve();
      };
      const timer = setTimeout(() => {
        finish({
          code: ExportResultCode.FAILED,
          error: new Error(`export of ${profileCount(batch.length)} timed out after ${this._exportTimeoutMillis} ms`),
        });
      }, this._exportTimeoutMillis);
      timer.unref();
      // The exporter's own HTTP calls must not become spans (and profiles) themselves.
      // And not in the context of whichever request's span.end() queued the last profile.
      const send = (profiles: SpanProfile[]) => context.with(suppressTracing(ROOT_CONTEXT), () => {
        if (done) return;
        try {
          this._exporter.export(profiles, finish);
        } catch (error) {
          finish({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
        }
      });
      // Source maps load asynchronously, within half the export time; mapProfiles never rejects.
      if (this._sourceMapper === undefined) send(batch);
      else void context.with(suppressTracing(ROOT_CONTEXT), () => this._sourceMapper!.mapProfiles(batch, this._exportTimeoutMillis / 2)).then(send);
    });
  }

  private async _flushAll(operation: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>(resolve => {
      timer = setTimeout(() => resolve(true), this._exportTimeoutMillis);
      timer.unref();
    });
    const drained = this._drain()
      .then(() => this._exporter.forceFlush?.())
      .then(
        () => false,
        // Handled here, not after the race: a flush that lost the race may still fail later.
        (error: unknown) => {
          globalErrorHandler(error as Error);
          return false;
        },
      );
    if (await Promise.race([drained, timedOut])) {
      this._logger.warn(`${operation} did not finish within exportTimeoutMillis (${this._exportTimeoutMillis} ms)`);
    }
    clearTimeout(timer);
  }

  private async _drain(): Promise<void> {
    // Only what is queued now: profiles that keep arriving must not keep a flush going forever.
    let batches = Math.ceil(this._queue.length / this._maxExportBatchSize);
    while (this._exporting !== undefined) await this._exporting;
    while (batches-- > 0 && this._queue.length > 0) {
      this._startExport();
      while (this._exporting !== undefined) await this._exporting;
    }
  }

  private _drop(reason: DropReason, count: number): void {
    if (this._dropped[reason] === 0) {
      this._logger.warn(`dropping profiles because ${DROP_EXPLANATIONS[reason]}; further drops are counted in stats`);
    }
    this._dropped[reason] += count;
  }

  private _logDropSummary(): void {
    const parts = (Object.keys(this._dropped) as DropReason[])
      .filter(reason => this._dropped[reason] > 0)
      .map(reason => `${this._dropped[reason]} ${reason}`);
    if (parts.length > 0) this._logger.warn(`profiles dropped in total: ${parts.join(', ')}`);
  }

  private _clearTimer(): void {
    if (this._timer !== undefined) {
      clearTimeout(this._timer);
      this._timer = undefined;
    }
    this._exportSoon = false;
  }

  private _option(
    options: BatchOptions,
    name: keyof typeof DEFAULTS,
    valid: (value: unknown) => boolean,
    expected: string,
  ): number {
    const value = options[name];
    if (value === undefined) return DEFAULTS[name];
    if (valid(value)) return value;
    this._logger.warn(`Configuration: ${name} is invalid, expected ${expected} (actual: ${String(value)}); using ${DEFAULTS[name]}`);
    return DEFAULTS[name];
  }
}

function profileCount(count: number): string {
  return `${count} profile${count === 1 ? '' : 's'}`;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function isPositiveNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

function isNonNegativeNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
