import { promises as fs } from 'node:fs';
import * as nodeModule from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AnyMap, decodedMappings, traceSegment, type TraceMap } from '@jridgewell/trace-mapping';
import { errorMessage } from '../shared/errors';

/** Scripts and map files larger than this are not read (a map that large is counted as failed). */
export const MAX_SOURCE_MAP_FILE_BYTES = 64 * 1024 * 1024;
/**
 * Estimated decoded size of all the maps kept, and so of any one map: a larger map is refused
 * before it is decoded (counted as failed), so one huge map cannot take this much memory even briefly.
 */
export const MAX_DECODED_MAP_BYTES = 256 * 1024 * 1024;

/** Where a generated position comes from in the original source. Positions are 1-based. */
export interface OriginalPosition {
  /** The original source as the map resolves it: an absolute path, or a URL for non-file sources. */
  readonly source: string;
  readonly line: number;
  readonly column: number;
  /** The original name the map gives the segment, if any (maps list them in `names`). */
  readonly name: string | undefined;
  /** 1-based generated column where the segment starts (at or before the one looked up). */
  readonly generatedColumn: number;
}

/** The source map of one generated script, ready for lookups. */
export interface ScriptSourceMap {
  /**
   * The original position of a generated 1-based line and column: the closest segment at or
   * before the column on that line; `undefined` when the line has none or it names no source.
   */
  lookup(line: number, column: number): OriginalPosition | undefined;
  /** Approximate memory this map holds, in bytes (0 when Node owns it). */
  readonly weight: number;
}

/** What loading a script's map gave: a map, no map named, or why a named map is unusable. */
export type SourceMapLoadResult =
  | { readonly kind: 'map'; readonly map: ScriptSourceMap; readonly from: 'inline' | 'file' }
  | { readonly kind: 'none' }
  | { readonly kind: 'failed'; readonly reason: string };

const NONE: SourceMapLoadResult = Object.freeze({ kind: 'none' });
const BASE64_VLQ = /^[A-Za-z0-9+/,;]*$/;
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:/i;
const DATA_URL = /^data:([^,]*),(.*)$/s;
// What a sourceMappingURL comment starts with: `//# `, `//@ ` (old), or `/*# ` in a block comment.
const COMMENT_OPENER = /\/[/*][#@][ \t]*$/;
const MAPPING_URL_KEY = 'sourceMappingURL=';
// Decoded segments are arrays of 4-5 small integers where the text spends ~5 characters on
// each: a decoded map holds several times its mappings text (measured: see docs/source-maps.md).
const DECODED_BYTES_PER_MAPPINGS_CHAR = 20;

/**
 * The path of a script V8 named as `fileName`, when it can have a map on disk: an absolute path
 * (CommonJS) or a `file:` URL (ES modules). `undefined` for builtins (`node:…`), `eval` code,
 * and scripts named by `//# sourceURL`.
 */
export function scriptPath(fileName: string): string | undefined {
  if (fileName.startsWith('file://')) {
    try {
      return fileURLToPath(fileName);
    } catch {
      return undefined;
    }
  }
  return path.isAbsolute(fileName) ? fileName : undefined;
}

/**
 * Loads the source map of the script V8 named `fileName` from disk: the script's last
 * `sourceMappingURL` comment names an inline `data:` URL or a map file. Never rejects:
 * problems come back as `failed` with a reason. (Node's own copy: {@link nodeSourceMap}.)
 */
export async function loadSourceMap(fileName: string): Promise<SourceMapLoadResult> {
  const file = scriptPath(fileName);
  if (file === undefined) return NONE;
  let url: string | undefined;
  try {
    // Only the comment is kept: the script itself is not held while its map loads.
    url = sourceMappingUrl(await readBounded(file));
  } catch (error) {
    return { kind: 'failed', reason: `script unreadable: ${errorMessage(error)}` };
  }
  if (url === undefined) return NONE;
  const data = DATA_URL.exec(url);
  if (data !== null) {
    let text: string;
    try {
      text = data[1].endsWith(';base64') ? Buffer.from(data[2], 'base64').toString('utf8') : decodeURIComponent(data[2]);
    } catch (error) {
      return { kind: 'failed', reason: `inline map undecodable: ${errorMessage(error)}` };
    }
    return parse(text, file, 'inline');
  }
  let mapFile: string;
  if (URL_SCHEME.test(url)) {
    if (!url.startsWith('file:')) return { kind: 'failed', reason: `map URL not on disk: ${url.slice(0, 100)}` };
    try {
      mapFile = fileURLToPath(url);
    } catch (error) {
      return { kind: 'failed', reason: `map URL invalid: ${errorMessage(error)}` };
    }
  } else {
    mapFile = path.resolve(path.dirname(file), safeDecodeUri(url));
  }
  try {
    return parse(await readBounded(mapFile), mapFile, 'file');
  } catch (error) {
    return { kind: 'failed', reason: `map file unreadable: ${errorMessage(error)}` };
  }
}

/** The URL in the last `sourceMappingURL` comment of a script, if any. */
export function sourceMappingUrl(script: string): string | undefined {
  const at = script.lastIndexOf(MAPPING_URL_KEY);
  if (at < 0 || !COMMENT_OPENER.test(script.slice(Math.max(0, at - 8), at))) return undefined;
  const value = /[^\s'"*]+/y;
  value.lastIndex = at + MAPPING_URL_KEY.length;
  return value.exec(script)?.[0];
}

function parse(text: string, mapUrl: string, from: 'inline' | 'file'): SourceMapLoadResult {
  try {
    // A map may start with a line that keeps browsers from running it as a script (spec 1.4.3).
    const json: unknown = JSON.parse(text.startsWith(")]}'") ? text.slice(text.indexOf('\n') + 1) : text);
    if (json === null || typeof json !== 'object') throw new Error('not a JSON object');
    const raw = json as { mappings?: unknown; sections?: unknown; sourcesContent?: unknown };
    if (typeof raw.mappings !== 'string' && !Array.isArray(raw.sections)) throw new Error('no mappings');
    // The decoder reads any other character as garbage numbers instead of failing.
    if (typeof raw.mappings === 'string' && !BASE64_VLQ.test(raw.mappings)) throw new Error('mappings are not base64 VLQ');
    // Lookups never need the sources' text, which can be most of a map's size.
    delete raw.sourcesContent;
    const weight = (typeof raw.mappings === 'string' ? raw.mappings.length : text.length) * DECODED_BYTES_PER_MAPPINGS_CHAR;
    if (weight > MAX_DECODED_MAP_BYTES) {
      return {
        kind: 'failed',
        reason: `map too large: about ${Math.round(weight / 2 ** 20)} MiB decoded, more than ${MAX_DECODED_MAP_BYTES / 2 ** 20}`,
      };
    }
    const map = new AnyMap(json as never, mapUrl);
    // Decoded now, not at the first lookup, so a broken map is found and counted here.
    decodedMappings(map);
    return { kind: 'map', map: new TraceMapScript(map, weight), from };
  } catch (error) {
    return { kind: 'failed', reason: `invalid map: ${errorMessage(error)}` };
  }
}

class TraceMapScript implements ScriptSourceMap {
  constructor(
    private readonly _map: TraceMap,
    readonly weight: number,
  ) {}

  lookup(line: number, column: number): OriginalPosition | undefined {
    if (line < 1 || column < 1) return undefined;
    const segment = traceSegment(this._map, line - 1, column - 1);
    if (segment === null || segment.length === 1) return undefined;
    const source = this._map.resolvedSources[segment[1]];
    if (typeof source !== 'string' || !(segment[2] >= 0 && segment[3] >= 0)) return undefined;
    return {
      source,
      line: segment[2] + 1,
      column: segment[3] + 1,
      name: segment.length === 5 ? this._map.names[segment[4]] : undefined,
      generatedColumn: segment[0] + 1,
    };
  }
}

/**
 * Node's parsed map of a loaded script, when Node keeps one (`--enable-source-maps`): it matches
 * the code that was loaded, and it is decoded already. Its sources are absolute `file:` URLs.
 * Main thread only: a worker has its own module registry.
 */
export function nodeSourceMap(fileName: string): ScriptSourceMap | undefined {
  let map: nodeModule.SourceMap | undefined;
  try {
    map = nodeModule.findSourceMap?.(fileName);
  } catch {
    return undefined;
  }
  if (map === undefined || typeof map.findEntry !== 'function') return undefined;
  const nodeMap = map;
  return {
    weight: 0,
    lookup(line: number, column: number): OriginalPosition | undefined {
      if (line < 1 || column < 1) return undefined;
      // Node's findEntry falls back to earlier lines; only a segment on this line counts, as with trace-mapping.
      const entry = nodeMap.findEntry(line - 1, column - 1) as Partial<nodeModule.SourceMapping> & { name?: unknown };
      if (typeof entry.originalSource !== 'string' || entry.generatedLine !== line - 1) return undefined;
      return {
        source: entry.originalSource,
        line: (entry.originalLine ?? 0) + 1,
        column: (entry.originalColumn ?? 0) + 1,
        name: typeof entry.name === 'string' && entry.name !== '' ? entry.name : undefined,
        generatedColumn: (entry.generatedColumn ?? 0) + 1,
      };
    },
  };
}

async function readBounded(file: string): Promise<string> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size > MAX_SOURCE_MAP_FILE_BYTES) throw new Error(`${size} bytes, more than ${MAX_SOURCE_MAP_FILE_BYTES}`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

function safeDecodeUri(url: string): string {
  try {
    return decodeURI(url);
  } catch {
    return url;
  }
}
