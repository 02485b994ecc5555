import { diag } from '@opentelemetry/api';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeSourceMap, scriptPath, type OriginalPosition, type ScriptSourceMap } from './source-map-loader';
import { SourceMapThread } from './source-map-thread';
import type { ProfileFrame, ProfileSample, ProfileStack, SpanProfile } from '../profile/span-profile';
import { settlesWithin } from '../shared/timeouts';

/** Scripts known to have no usable map, remembered at most before starting over. */
const MAX_KNOWN_WITHOUT_MAP = 16_384;
/** Original source paths shown relative to the project, remembered at most before starting over. */
const MAX_DISPLAY_PATHS = 16_384;

/**
 * Counters of a {@link SourceMapper}, since it was created: `processor.stats.sourceMaps`.
 * docs/stats.md is the one full description of each field; the comments here only name them.
 */
export interface SourceMapStats {
  /** Scripts whose map was loaded from disk (inline or a file). */
  readonly mapsLoaded: number;
  /** Scripts whose map Node already had (`--enable-source-maps`). */
  readonly nodeMapsUsed: number;
  /** Scripts with no `sourceMappingURL` comment. */
  readonly scriptsWithoutMap: number;
  /** Scripts whose map could not be used (each logged at debug level). */
  readonly mapsFailed: number;
  /** Distinct frames given their original position. */
  readonly framesMapped: number;
  /** Distinct frames that their script's map does not cover. */
  readonly framesWithoutMapping: number;
  /** Export batches sent unmapped: their maps took too long to load. */
  readonly batchesUnmapped: number;
}

/** Options of {@link SourceMapper}. */
export interface SourceMapperOptions {
  /** Original paths under this directory are shown relative to it. Default `process.cwd()` at construction. */
  projectDir?: string;
}

/** What one frame's lookup found: its original position, shown path, and the map's name there. */
interface Lookup {
  readonly fileName: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
  readonly name: string | undefined;
  readonly generatedColumn: number;
}

/**
 * Maps the frames of finished span profiles through their scripts' source maps, at export time:
 * a frame then names the original file (relative to the project directory), line and column,
 * and the original function name when the map has one, and keeps V8's frame as `generated`.
 * Maps Node already holds (`--enable-source-maps`) are used in place; the others are read,
 * decoded and kept in a bounded cache on a thread of their own (source-map-worker.ts), so the
 * main thread only collects positions and assembles frames. A missing or broken map leaves the
 * frames of its script as they are and is counted. Internal: the processor owns one.
 */
export class SourceMapper {
  private readonly _logger = diag.createComponentLogger({ namespace: 'otel-span-profiler/source-maps' });
  private readonly _projectDir: string;
  private readonly _thread = new SourceMapThread((reason) =>
    this._logger.warn(`${reason}; frames of scripts whose map Node does not hold are exported unmapped`),
  );
  // Frames and stacks are interned by the sampler, so lookups are by identity. Weak: they live as
  // long as the sampler's interner and the profiles still hold them. null: nothing to map.
  private readonly _lookups = new WeakMap<ProfileFrame, Lookup | null>();
  private readonly _mappedStacks = new WeakMap<ProfileStack, ProfileStack>();
  private _withoutMap = new Set<string>();
  private _displayPaths = new Map<string, string>();
  private readonly _counts = {
    mapsLoaded: 0,
    nodeMapsUsed: 0,
    scriptsWithoutMap: 0,
    mapsFailed: 0,
    framesMapped: 0,
    framesWithoutMapping: 0,
    batchesUnmapped: 0,
  };
  private readonly _nodeMapsSeen = new Set<string>();

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
      const lookups = this._lookUpNewFrames(profiles);
      if (lookups !== undefined && !(await settlesWithin(budgetMillis, () => lookups))) {
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

  /** Stops the source-map thread. */
  shutdown(): Promise<void> {
    return this._thread.shutdown();
  }

  /**
   * Looks up every frame of the batch's new stacks that has no lookup yet: at once through
   * Node's maps, or through the source-map thread (the returned promise, which fills the
   * lookups when it settles, even after the budget ran out).
   */
  private _lookUpNewFrames(profiles: readonly SpanProfile[]): Promise<void> | undefined {
    const byScript = new Map<string, Set<ProfileFrame>>();
    const nodeMaps = new Map<string, ScriptSourceMap | undefined>();
    const seenStacks = new Set<ProfileStack>();
    for (const profile of profiles) {
      for (const sample of profile.samples) {
        const stack = sample.stack;
        if (seenStacks.has(stack) || this._mappedStacks.has(stack)) continue;
        seenStacks.add(stack);
        for (const frame of stack) {
          if (this._lookups.has(frame)) continue;
          const fileName = frame.fileName;
          if (scriptPath(fileName) === undefined || this._withoutMap.has(fileName)) {
            this._lookups.set(frame, null);
            continue;
          }
          if (!nodeMaps.has(fileName)) nodeMaps.set(fileName, this._nodeMap(fileName));
          const nodeMap = nodeMaps.get(fileName);
          if (nodeMap !== undefined) this._record(frame, true, nodeMap.lookup(frame.lineNumber, frame.columnNumber));
          else {
            let frames = byScript.get(fileName);
            if (frames === undefined) byScript.set(fileName, (frames = new Set()));
            frames.add(frame);
          }
        }
      }
    }
    if (byScript.size === 0) return undefined;
    const scripts = [...byScript].map(([fileName, frames]) => ({ fileName, frames: [...frames] }));
    const request = scripts.map(({ fileName, frames }) => ({ fileName, positions: frames.flatMap((f) => [f.lineNumber, f.columnNumber]) }));
    return this._thread.lookup(request).then((answers) => {
      answers.forEach((answer, i) => {
        const { fileName, frames } = scripts[i];
        if (answer.loaded === 'map') this._counts.mapsLoaded++;
        else if (answer.loaded === 'none') this._counts.scriptsWithoutMap++;
        else if (answer.loaded === 'failed') {
          this._counts.mapsFailed++;
          this._logger.debug(`source map of ${fileName} not used (${answer.reason}); its frames stay unmapped`);
        }
        if (!answer.usable) this._rememberWithoutMap(fileName);
        frames.forEach((frame, j) => this._record(frame, answer.usable, answer.results[j] ?? undefined));
      });
    });
  }

  private _nodeMap(fileName: string): ScriptSourceMap | undefined {
    const map = nodeSourceMap(fileName);
    if (map !== undefined && !this._nodeMapsSeen.has(fileName)) {
      this._nodeMapsSeen.add(fileName);
      this._counts.nodeMapsUsed++;
    }
    return map;
  }

  private _record(frame: ProfileFrame, hasMap: boolean, original: OriginalPosition | undefined): void {
    if (original === undefined) {
      if (hasMap) this._counts.framesWithoutMapping++;
      this._lookups.set(frame, null);
      return;
    }
    this._counts.framesMapped++;
    this._lookups.set(frame, {
      fileName: this._displayPath(original.source),
      lineNumber: original.line,
      columnNumber: original.column,
      name: original.name,
      generatedColumn: original.generatedColumn,
    });
  }

  private _rememberWithoutMap(fileName: string): void {
    if (this._withoutMap.size >= MAX_KNOWN_WITHOUT_MAP) this._withoutMap = new Set();
    this._withoutMap.add(fileName);
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
      const lookup = this._lookups.get(frame);
      if (lookup === undefined) {
        // Not looked up yet (the thread did not answer in time): mapped next time, so not remembered.
        complete = false;
        continue;
      }
      if (lookup === null) continue;
      (mapped ??= stack.slice())[i] = Object.freeze({
        functionName: this._originalName(frame, stack[i + 1]) ?? frame.functionName,
        fileName: lookup.fileName,
        lineNumber: lookup.lineNumber,
        columnNumber: lookup.columnNumber,
        generated: frame,
      });
    }
    const result = mapped === undefined ? stack : Object.freeze(mapped);
    if (complete) this._mappedStacks.set(stack, result);
    return result;
  }

  /**
   * The original name of the function a frame runs, as Node's `--enable-source-maps` finds it
   * without V8's enclosing-function position: the name the map gives the call expression in the
   * caller's frame, when the caller runs in the same script. Undefined when the map names none.
   */
  private _originalName(frame: ProfileFrame, caller: ProfileFrame | undefined): string | undefined {
    if (caller === undefined || caller.fileName !== frame.fileName) return undefined;
    const call = this._lookups.get(caller);
    // Only a segment that starts exactly at the call: an earlier one names another identifier.
    return call != null && call.generatedColumn === caller.columnNumber ? call.name : undefined;
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
