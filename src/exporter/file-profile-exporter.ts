import { diag } from '@opentelemetry/api';
import { ExportResultCode, globalErrorHandler, type ExportResult } from '../shared/otel-core';
import { promises as fs } from 'fs';
import * as path from 'path';
import { inspect } from 'util';
import type { SpanProfile } from '../profile/span-profile';
import { encodeJson, preloadEncoding } from '../otlp/otlp-encoding';
import type { ProfileExporter } from './profile-exporter';
import { waitForResourceAttributes } from '../otlp/resource-attributes';
import { plural } from '../shared/wording';

/** Where {@link FileProfileExporter} writes unless told otherwise, relative to the working directory. */
export const DEFAULT_PROFILES_FILE_PATH = 'otel-profiles.jsonl';

/** Options of {@link FileProfileExporter}. */
export interface FileProfileExporterOptions {
  /**
   * File the profiles are appended to, created if missing; resolved against the working directory
   * when the exporter is constructed. Default `'otel-profiles.jsonl'`.
   */
  filePath?: string;
  /**
   * Longest wait, in milliseconds, for the resource's async attributes (e.g. `host.id`) before a
   * batch is written without them. Default 10000.
   */
  resourceWaitMillis?: number;
}

const DEFAULT_RESOURCE_WAIT_MILLIS = 10_000;

/**
 * Appends each export as one line of OTLP JSON (an `ExportProfilesServiceRequest`, the Collector's
 * file exporter format) to a local file. Use it when no Collector is running: local development,
 * demos, or to inspect what would be sent. The file grows without bound.
 *
 * Like {@link OTLPProfileExporter}, a bad option throws from the constructor (TypeError or
 * RangeError naming it), and exports never throw.
 */
export class FileProfileExporter implements ProfileExporter {
  /** The absolute path written to. */
  readonly filePath: string;
  private readonly _logger = diag.createComponentLogger({ namespace: 'otel-span-profiler/file-profile-exporter' });
  private _file: Promise<fs.FileHandle> | undefined;
  // Writes are chained so lines never interleave and land in export order.
  private _tail: Promise<void> = Promise.resolve();
  private _shutdown: Promise<void> | undefined;
  private readonly _resourceWaitMillis: number;

  constructor(options: FileProfileExporterOptions = {}) {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new TypeError(`FileProfileExporter: expected an options object or nothing, got ${inspect(options)}`);
    }
    const { filePath = DEFAULT_PROFILES_FILE_PATH, resourceWaitMillis = DEFAULT_RESOURCE_WAIT_MILLIS } = options;
    if (typeof filePath !== 'string' || filePath === '') {
      throw new TypeError(`FileProfileExporter: option "filePath" must be a non-empty string, got ${inspect(filePath)}`);
    }
    if (typeof resourceWaitMillis !== 'number' || !Number.isFinite(resourceWaitMillis) || resourceWaitMillis < 0) {
      throw new RangeError(`FileProfileExporter: option "resourceWaitMillis" must be a number >= 0, got ${inspect(resourceWaitMillis)}`);
    }
    this.filePath = path.resolve(filePath);
    this._resourceWaitMillis = resourceWaitMillis;
    preloadEncoding(this._logger);
  }

  export(profiles: SpanProfile[], resultCallback: (result: ExportResult) => void): void {
    if (this._shutdown !== undefined) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('FileProfileExporter is shut down') });
      return;
    }
    if (profiles.length === 0) {
      resultCallback({ code: ExportResultCode.SUCCESS });
      return;
    }
    this._tail = this._tail
      // Encoded once the resource's async attributes have settled (bounded), so they are in the line.
      .then(() => waitForResourceAttributes(profiles, this._resourceWaitMillis))
      .then(async () => {
        const line = `${encodeJson(profiles)}\n`;
        const file = await this._open();
        await file.appendFile(line, 'utf8');
      })
      .then(
        () => ({ code: ExportResultCode.SUCCESS }),
        (error: Error) => ({
          code: ExportResultCode.FAILED,
          error: new Error(
            `FileProfileExporter: could not encode or write ${plural(profiles.length, 'profile')} to ${this.filePath}: ${error.message}`,
            {
              cause: error,
            },
          ),
        }),
      )
      .then((result) => {
        try {
          resultCallback(result);
        } catch (error) {
          globalErrorHandler(error as Error);
        }
      });
  }

  /** Resolves when every export already started is written. */
  forceFlush(): Promise<void> {
    return this._tail;
  }

  /** Refuses new exports, finishes the pending writes and closes the file. */
  shutdown(): Promise<void> {
    this._shutdown ??= this._tail.then(async () => {
      const file = this._file;
      this._file = undefined;
      if (file !== undefined) await file.then((handle) => handle.close()).catch((error) => globalErrorHandler(error as Error));
    });
    return this._shutdown;
  }

  private _open(): Promise<fs.FileHandle> {
    if (this._file === undefined) {
      const opening = fs.open(this.filePath, 'a');
      this._file = opening;
      // Forget a failed open, so a later export tries again (e.g. once the directory exists).
      opening.catch(() => {
        if (this._file === opening) this._file = undefined;
      });
    }
    return this._file;
  }
}
