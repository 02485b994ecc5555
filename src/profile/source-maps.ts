import { diag } from '@opentelemetry/api';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SourceMapCache } from './source-map-cache';
import { loadSourceMap, scriptPath, type ScriptSourceMap } from './source-map-loader';
import type { ProfileFrame, ProfileSample, ProfileStack, SpanProfile } from './span-profile';

/** Scripts whose map (or whose lack of one) is remembered at most. */
const MAX_CACHED_SCRIPTS = 4096;
/** Estimated memory of the decoded maps kept at most, in bytes (see docs/source-maps.md). */
const MAX_CACHED_MAP_BYTES = 256 * 1024 * 1024;
/** What remembering a script without a usable map weighs. */
const NO_MAP_WEIGHT = 256;
/** Maps read and parsed at once: bounds the memory a first export with many scripts takes. */
const MAX_CONCURRENT_LOADS = 4;
/** Original source paths shown relative to the project, remembered at most before starting over. */
const MAX_DISPLAY_PATHS = 16_384;

/** Counters of a {@link SourceMapper}, since it was created. */
export interface SourceMapStats {
  /** Scripts whose source map was loaded: from Node's own cache, an inline `data:` URL, or a file. */
  readonly mapsLoaded: number;
  /** Scripts on disk with no `sourceMappingURL` comment: their frames are exported as they are. */
  readonly scriptsWithoutMap: number;
  /**
   * Scripts whose map could not be used (script or map file missing or unreadable, invalid
   * JSON or mappings, too large): their frames are exported as they are. Logged at debug level.
   */
  readonly mapsFailed: number;
  /** Distinct frames (function and position) given their original position. */
  readonly framesMapped: number;
  /** Distinct frames in scripts with a map whose position the map does not cover (e.g. generated helpers). */
  readonly framesWithoutMapping: number;
  /** Export batches sent unmapped because their maps took longer to load than the time allowed. */
  readonly batchesUnmapped: number;
}

/** Options of {@link SourceMapper}. */
export interface SourceMapperOptions {
  /** Original paths under this directory are shown relative to it. Default `process.cwd()` at construction. */
  projectDir?: string;
}

/**
 * Maps the frames of finished span profiles through their scripts' source maps, at export time:
 * a frame then names the original file (relative to the project directory), line and column,
 * and the original function name when the map has one, and keeps V8's frame as `generated`.
 * Maps are loaded asynchronously and kept in a bounded cache; a missing or broken map leaves the
 * frames of its script as they are and is counted. Internal: the processor owns one.
 */
export class SourceMapper {
  private readonly _logger = diag.createComponentLogger({ namespace: 'otel-span-profiler/source-maps' });
  private readonly _projectDir: string;
  // null: the script has no usable map (remembered, so it is not read again).
  private readonly _maps = new SourceMapCache<ScriptSourceMap | null>({ maxEntries: MAX_CACHED_SCRIPTS, maxWeight: MAX_CACHED_MAP_BYTES });
  private readonly _loading = new Map<string, Promise<void>>();
  private readonly _waiting: Array<() => void> = [];
  private _activeLoads = 0;
  // Frames and stacks are interned by the sampler, so most lookups are by identity. Weak: they
  // live as long as the sampler's interner and the profiles still hold them.
  private readonly _mappedStacks = new WeakMap<ProfileStack, ProfileStack>();
  private readonly _positions = new WeakMap<ProfileFrame, MappedPosition | null>();
  private _displayPaths = new Map<string, string>();
  private readonly _counts = { mapsLoaded: 0, scriptsWithoutMap: 0, mapsFailed: 0, framesMapped: 0, framesWithoutMapping: 0, batchesUnmapped: 0 };

  constructor(options: SourceMapperOptions = {}) {
    this._projectDir = path.resolve(options.projectDir ?? process.cwd());
  }

  get stats(): SourceMapStats {
    return { ...this._counts };
  }

  /**
   * The profiles with their frames source-mapped. Profiles, samples and stacks with nothing to
   * map are returned as they are (same objects). When the maps are not all loaded within
   * `budgetMillis`, the profiles are returned unmapped (counted) and loading goes on for the
   * next batch. Never rejects.
   */
  async mapProfiles(profiles: SpanProfile[], budgetMillis: number): Promise<SpanProfile[]> {
    try {
      const loads = this._loadMapsOf(profiles);
      if (loads.length > 0 && !(await settlesWithin(Promise.all(loads), budgetMillis))) {
        if (this._counts.batchesUnmapped++ === 0) {
          this._logger.debug(`source maps took longer than ${budgetMillis} ms to load; this batch is exported unmapped`);
        }
        return profiles;
      }
      return profiles.map((profile) => this._mapProfile(profile));
    } catch (error) {
      this._logger.debug('source mapping failed; the batch is exported unmapped', error);
      return profiles;
    }
  }

  /** Starts loading the maps of the batch's scripts that are neither cached nor loading. */
  private _loadMapsOf(profiles: readonly SpanProfile[]): Promise<void>[] {
    const loads: Promise<void>[] = [];
    const seenStacks = new Set<ProfileStack>();
    const seenFiles = new Set<string>();
    for (const profile of profiles) {
      for (const sample of profile.samples) {
        const stack = sample.stack;
        if (seenStacks.has(stack) || this._mappedStacks.has(stack)) continue;
        seenStacks.add(stack);
        for (const frame of stack) {
          const file = frame.fileName;
          if (seenFiles.has(file)) continue;
          seenFiles.add(file);
          if (this._maps.has(file) || scriptPath(file) === undefined) continue;
          let load = this._loading.get(file);
          if (load === undefined) {
            load = this._load(file);
            this._loading.set(file, load);
          }
          loads.push(load);
        }
      }
    }
    return loads;
  }

  private async _load(file: string): Promise<void> {
    if (this._activeLoads >= MAX_CONCURRENT_LOADS) await new Promise<void>((resolve) => this._waiting.push(resolve));
    this._activeLoads++;
    try {
      const result = await loadSourceMap(file);
      if (result.kind === 'map') {
        this._counts.mapsLoaded++;
        if (!this._maps.set(file, result.map, result.map.weight)) {
          this._logger.debug(`source map of ${file} is too large to keep; its frames stay unmapped`);
          this._maps.set(file, null, NO_MAP_WEIGHT);
        }
      } else {
        if (result.kind === 'none') this._counts.scriptsWithoutMap++;
        else {
          this._counts.mapsFailed++;
          this._logger.debug(`source map of ${file} not used (${result.reason}); its frames stay unmapped`);
        }
        this._maps.set(file, null, NO_MAP_WEIGHT);
      }
    } finally {
      this._loading.delete(file);
      this._activeLoads--;
      this._waiting.shift()?.();
    }
  }

  private _mapProfile(profile: SpanProfile): SpanProfile {
    let samples: ProfileSample[] | undefined;
    for (let i = 0; i < profile.samples.length; i++) {
      const sample = profile.samples[i];
      const stack = this._mapStack(sample.stack);
      if (stack === sample.stack) continue;
      samples ??= profile.samples.slice();
      // A spread, so fields this module does not know about travel along.
      samples[i] = { ...sample, stack };
    }
    return samples === undefined ? profile : { ...profile, samples };
  }

  private _mapStack(stack: ProfileStack): ProfileStack {
    const cached = this._mappedStacks.get(stack);
    if (cached !== undefined) return cached;
    let complete = true;
    let mapped: ProfileFrame[] | undefined;
    for (let i = 0; i < stack.length; i++) {
      const frame = stack[i];
      const position = this._position(frame);
      if (position === undefined) {
        // Its map was evicted before this batch got to it: mapped next time, so not remembered.
        complete = false;
        continue;
      }
      if (position === null) continue;
      (mapped ??= stack.slice())[i] = Object.freeze({
        functionName: this._originalName(frame, stack[i + 1]) ?? frame.functionName,
        fileName: position.fileName,
        lineNumber: position.lineNumber,
        columnNumber: position.columnNumber,
        generated: frame,
      });
    }
    const result = mapped === undefined ? stack : Object.freeze(mapped);
    if (complete) this._mappedStacks.set(stack, result);
    return result;
  }

  /** The frame's original position; null when it has none; undefined when its map is not loaded. */
  private _position(frame: ProfileFrame): MappedPosition | null | undefined {
    const known = this._positions.get(frame);
    if (known !== undefined) return known;
    if (scriptPath(frame.fileName) === undefined) return null;
    const map = this._maps.get(frame.fileName);
    if (map === undefined) return undefined;
    let position: MappedPosition | null = null;
    if (map !== null) {
      const original = map.lookup(frame.lineNumber, frame.columnNumber);
      if (original === undefined) {
        this._counts.framesWithoutMapping++;
      } else {
        this._counts.framesMapped++;
        position = { fileName: this._displayPath(original.source), lineNumber: original.line, columnNumber: original.column };
      }
    }
    this._positions.set(frame, position);
    return position;
  }

  /**
   * The original name of the function a frame runs, as Node's `--enable-source-maps` finds it
   * without V8's enclosing-function position: the name the map gives the call expression in the
   * caller's frame, when the caller runs in the same script. Undefined when the map names none.
   */
  private _originalName(frame: ProfileFrame, caller: ProfileFrame | undefined): string | undefined {
    if (caller === undefined || caller.fileName !== frame.fileName) return undefined;
    const original = this._maps.get(frame.fileName)?.lookup(caller.lineNumber, caller.columnNumber);
    // Only a segment that starts exactly at the call: an earlier one names another identifier.
    return original !== undefined && original.generatedColumn === caller.columnNumber ? original.name : undefined;
  }

  /** A file inside the project directory relative to it; any other source as the map gives it. */
  private _displayPath(source: string): string {
    let shown = this._displayPaths.get(source);
    if (shown === undefined) {
      shown = source;
      let file: string | undefined;
      try {
        file = source.startsWith('file:') ? fileURLToPath(source) : path.isAbsolute(source) ? source : undefined;
      } catch {
        file = undefined;
      }
      if (file !== undefined) {
        const relative = path.relative(this._projectDir, file);
        const outside = relative === '' || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative);
        shown = outside ? file : relative;
      }
      if (this._displayPaths.size >= MAX_DISPLAY_PATHS) this._displayPaths = new Map();
      this._displayPaths.set(source, shown);
    }
    return shown;
  }
}

interface MappedPosition {
  readonly fileName: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

/** True when `promise` settles within `millis`; the timer never holds the process open. */
function settlesWithin(promise: Promise<unknown>, millis: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), millis);
    timer.unref();
  });
  return Promise.race([promise.then(() => true, () => true), timeout]).finally(() => clearTimeout(timer));
}
